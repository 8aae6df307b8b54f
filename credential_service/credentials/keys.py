"""Issuers' credential-signing keys: kept in the service keystore, registered in
`TrustRegistry` before first use, rotated and revoked there, mirrored in the database.

Every function takes keyword-only arguments and raises only `ServiceError` subclasses.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from credential_service.credentials.issuers import (
    entity_id,
    issue_time,
    may_manage,
    require_active_issuer,
)
from credential_service.credentials.models import SigningKeyPublic, SigningKeyRecord
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import ErrorCode, InvalidInput, LedgerRejected, NotFound
from credential_service.models import KeyAlgorithm as OrganisationKeyAlgorithm
from credential_service.models import Organisation, utc_now
from wallet_sdk.jose import Curve, Jwk, JwsAlgorithm

__all__ = [
    "current_signing_key",
    "list_signing_keys",
    "revoke_signing_key",
    "rotate_signing_key",
]


def _key_name(issuer: Organisation, serial: int) -> str:
    return f"credential-signing/{issuer.credit_code}/{serial}"


def current_signing_key(
    *, session: Session, runtime: CredentialRuntime, issuer: Organisation, at: int
) -> tuple[SigningKeyRecord, Jwk]:
    """The issuer's signing key valid at `at`; a key is generated and registered on chain when
    none is (the issuer has none yet, or its current one was revoked). A key rotated out
    stays valid to the end of the rotation's second, so issuing in that second uses it."""
    rows = session.exec(
        select(SigningKeyRecord)
        .where(SigningKeyRecord.organisation_id == issuer.id)
        .order_by(col(SigningKeyRecord.valid_from).desc())
    ).all()
    for row in rows:
        ended = row.valid_until is not None and at >= row.valid_until
        if row.revoked_at is None and not ended and row.valid_from <= at:
            return row, runtime.keystore.get(row.keystore_name)
    # From its registration block (valid_from 0): a key never vouches for an earlier time.
    return _new_signing_key(
        session=session, runtime=runtime, issuer=issuer, valid_from=0, serial=len(rows)
    )


def _new_signing_key(
    *,
    session: Session,
    runtime: CredentialRuntime,
    issuer: Organisation,
    valid_from: int,
    serial: int,
    curve: Curve | None = None,
) -> tuple[SigningKeyRecord, Jwk]:
    """A new signing key on `curve` (default: the runtime's, the profile's), registered."""
    name = _key_name(issuer, serial)
    key = runtime.keystore.ensure(name, runtime.signing_curve if curve is None else curve)
    ledger = runtime.ledger
    existing = ledger.signing_key(key.thumbprint())
    if existing is None:
        ledger.register_signing_key(
            issuer=issuer.credit_code, entity=entity_id(issuer), key=key, valid_from=valid_from
        )
        existing = ledger.signing_key(key.thumbprint())
    if existing is None or not existing.for_credential_signing:
        raise LedgerRejected(
            "the signing key is not registered on chain for credential signing",
            detail={"key_id": key.thumbprint_b64()},
        )
    # The chain's window is the truth: a key is valid from its registration block at the
    # earliest, which may be later than the time asked for.
    valid_from = existing.valid_from
    assert issuer.id is not None
    row = SigningKeyRecord(
        key_id=key.thumbprint_b64(),
        organisation_id=issuer.id,
        keystore_name=name,
        alg=key.algorithm.value,
        valid_from=valid_from,
        created_at=utc_now(),
    )
    session.add(row)
    session.commit()
    return row, key


def _key_public(row: SigningKeyRecord, key: Jwk) -> SigningKeyPublic:
    return SigningKeyPublic(
        key_id=row.key_id,
        alg=row.alg,
        jwk=key.public().with_kid(row.key_id).public_jwk(),
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        revoked_at=row.revoked_at,
    )


def list_signing_keys(
    *, session: Session, runtime: CredentialRuntime, issuer: Organisation
) -> list[SigningKeyPublic]:
    """Every signing key of the issuer, newest first."""
    rows = session.exec(
        select(SigningKeyRecord)
        .where(SigningKeyRecord.organisation_id == issuer.id)
        .order_by(col(SigningKeyRecord.valid_from).desc())
    ).all()
    return [_key_public(row, runtime.keystore.get(row.keystore_name)) for row in rows]


def rotate_signing_key(
    *,
    session: Session,
    runtime: CredentialRuntime,
    issuer: Organisation,
    now: datetime,
    algorithm: OrganisationKeyAlgorithm | None = None,
) -> SigningKeyPublic:
    """Routine rotation: a new key registered from now, the old key's validity ended now.
    Credentials signed under the old key keep verifying as of their issue time. The new key
    signs with `algorithm`, by default with the old key's."""
    require_active_issuer(session=session, issuer=issuer)
    at = issue_time(runtime, now)
    # The key to end is the open one (no end, not revoked), even when a rotation earlier in
    # this same second made it start only at the next second.
    open_row = session.exec(
        select(SigningKeyRecord)
        .where(SigningKeyRecord.organisation_id == issuer.id)
        .where(col(SigningKeyRecord.valid_until).is_(None))
        .where(col(SigningKeyRecord.revoked_at).is_(None))
        .order_by(col(SigningKeyRecord.valid_from).desc())
    ).first()
    if open_row is not None:
        old_row, old_key = open_row, runtime.keystore.get(open_row.keystore_name)
    else:
        old_row, old_key = current_signing_key(
            session=session, runtime=runtime, issuer=issuer, at=at
        )
    count = len(
        session.exec(
            select(SigningKeyRecord).where(SigningKeyRecord.organisation_id == issuer.id)
        ).all()
    )
    curve = old_key.curve if algorithm is None else JwsAlgorithm(algorithm.value).curve
    new_row, new_key = _new_signing_key(
        session=session, runtime=runtime, issuer=issuer, valid_from=0, serial=count, curve=curve
    )
    # The old key ends where the new one begins: the new key's registration block (the old
    # key's window must not end before it began, hence the max).
    ends = max(new_row.valid_from, old_row.valid_from + 1)
    runtime.ledger.end_key_validity(
        actor=issuer.credit_code, key_id=old_key.thumbprint(), valid_until=ends
    )
    old_row.valid_until = ends
    session.add(old_row)
    session.commit()
    return _key_public(new_row, new_key)


def revoke_signing_key(
    *,
    session: Session,
    runtime: CredentialRuntime,
    actor: Organisation,
    key_id: str,
    revoked_at: datetime,
    now: datetime,
) -> SigningKeyPublic:
    """Compromise: revoke a key from `revoked_at` (may lie in the past, never in the future:
    ending a key later is rotation), by its issuer or the issuer's accreditor. Credentials
    registered on chain at or after that time stop verifying. When the issuer's current key is
    revoked, the next issuance generates a new one.

    Idempotent: when the chain holds the key revoked at or before `revoked_at` already (a retry
    after a lost answer), nothing is sent and the database mirrors the chain.

    Raises `NotFound` (``signing_key_not_found``), `InvalidInput` (``key_validity_invalid``:
    a time in the future or before 1970) and the ledger's errors.
    """
    row = session.get(SigningKeyRecord, key_id)
    if row is None:
        raise NotFound("no such signing key", code=ErrorCode.SIGNING_KEY_NOT_FOUND)
    issuer = session.get(Organisation, row.organisation_id)
    if issuer is None or not may_manage(actor, issuer):
        raise NotFound("no such signing key", code=ErrorCode.SIGNING_KEY_NOT_FOUND)
    at = int(revoked_at.timestamp())
    latest = issue_time(runtime, now)
    if at > latest:
        raise InvalidInput(
            "revoked_at lies in the future; a compromise is declared for a time that has "
            "passed (rotate the key to end it later)",
            code=ErrorCode.KEY_VALIDITY_INVALID,
            detail={"revoked_at": at, "now": latest},
        )
    if at < 1:
        raise InvalidInput("revoked_at out of range", code=ErrorCode.KEY_VALIDITY_INVALID)
    key = runtime.keystore.get(row.keystore_name)
    ledger = runtime.ledger
    on_chain = ledger.signing_key(key.thumbprint())
    if on_chain is None:
        raise NotFound("no such signing key on chain", code=ErrorCode.SIGNING_KEY_NOT_FOUND)
    if not 0 < on_chain.revoked_at <= at:
        ledger.revoke_key(actor=actor.credit_code, key_id=key.thumbprint(), revoked_at=at)
        # The contract takes a time after its block as the block: read back what it holds.
        on_chain = ledger.signing_key(key.thumbprint())
        assert on_chain is not None
    row.revoked_at = on_chain.revoked_at
    session.add(row)
    session.commit()
    return _key_public(row, key)
