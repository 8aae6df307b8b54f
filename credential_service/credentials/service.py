"""Credential issuance, status and issuer keys: domain functions (no HTTP here).

Issuance signs with the issuer's credential-signing key from the service keystore (registered
in `TrustRegistry` before first use), only for types the issuer is accredited for on chain at
that moment, registers every credential in `StatusRegistry` (one transaction per batch) and
submits its digest to the anchoring outbox. Chain first, database after: a credential id on
chain with no row here is an orphan nobody holds, never a credential without status.

Issuance with an idempotency key (`issue_credentials_idempotently`) stores its answer in the
transaction that writes the credential rows, and answers a retry of the same request with it.

Every function takes keyword-only arguments and raises only `ServiceError` subclasses:
`InvalidInput`, `Forbidden`, `NotFound`, `Conflict`, `Unprocessable`, `LedgerRejected`,
`LedgerUnavailable`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import delete, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from credential_service.anchoring.outbox import NewItem
from credential_service.anchoring.service import submit_digests
from credential_service.credentials.models import (
    CardProof,
    CredentialRecord,
    CredentialRequest,
    CredentialState,
    CredentialStatusChange,
    CredentialStatusPublic,
    IdempotencyRecord,
    IssueCredentialsResponse,
    IssuedCredentialPublic,
    SigningKeyPublic,
    SigningKeyRecord,
    WithCard,
)
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    LedgerRejected,
    LedgerUnavailable,
    NotFound,
    Unprocessable,
)
from credential_service.models import KeyAlgorithm as OrganisationKeyAlgorithm
from credential_service.models import Organisation, OrganisationKind, utc_now
from credential_service.observability import record_verification
from credential_service.sealing import SealAlgorithm, SealBroken, open_sealed, seal
from credential_service.services.audit import note_for_audit
from credential_service.services.organisations import require_active_path
from node_adapter import (
    ChainError,
    ChainUnavailable,
    CredentialStatus,
    FileAdvance,
    KeyAlgorithm,
    KeyPurpose,
    Signer,
    TransactionReverted,
    TxReceipt,
)
from wallet_sdk import FormatError, VerificationError, WalletError
from wallet_sdk.credentials import (
    FILE_HEAD_CLAIM,
    SOCIAL_SECURITY_CARD,
    SOCIAL_SECURITY_CARD_FORMATS,
    TRAINING_RECORD,
    VC_SD_JWT_TYP,
    CredentialReport,
    CredentialType,
    IssuanceError,
    IssuedCredential,
    PresentationReport,
    TrainingFileLink,
    TrustView,
    check_card_subject,
    file_head_key,
    issue_sd_jwt,
    issue_vc_jwt,
    issuer_uri,
    training_file_id,
    training_period,
)
from wallet_sdk.credentials.card_proof import (
    CARD_CHECK,
    DISCLOSURE_CHECK,
    ISSUANCE_PURPOSE,
    SAME_HOLDER_CHECK,
    CardIdentity,
    card_nonce,
    check_card_bound,
    verify_card_proof,
)
from wallet_sdk.jose import Curve, Jwk, JwsAlgorithm, b64url_encode
from wallet_sdk.receipt import AnchorReceipt

__all__ = [
    "FILE_ENTRY_BATCH",
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "STATUS_BATCH",
    "IssuanceAnswer",
    "accredit_credential_type",
    "change_credential_status",
    "check_idempotency_key",
    "credential_status",
    "current_signing_key",
    "issue_credentials",
    "issue_credentials_idempotently",
    "list_signing_keys",
    "parse_receipt",
    "request_digest",
    "revoke_signing_key",
    "rotate_signing_key",
    "verify_credential",
    "verify_presentation",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

STATUS_BATCH = 200
"""Credentials registered in `StatusRegistry` per transaction."""
FILE_ENTRY_BATCH = 80
"""Credentials per transaction when a batch holds training file entries: a registration with
its file head advance costs about 141,000 gas (71,000 of it the head's three new slots), so 80
stay near 11.3 M gas, under the in-process chain's 12 M and a usual 30 M block gas limit."""
_TO_CHAIN_STATUS = {
    CredentialState.ACTIVE: CredentialStatus.ACTIVE,
    CredentialState.SUSPENDED: CredentialStatus.SUSPENDED,
    CredentialState.REVOKED: CredentialStatus.REVOKED,
}
_FROM_CHAIN_STATUS = {0: "unknown", 1: "active", 2: "suspended", 3: "revoked"}


def _chain(what: str, op: Callable[[], T]) -> T:
    try:
        return op()
    except TransactionReverted as err:
        raise LedgerRejected(
            f"the chain refused to {what}: {err.reason}",
            detail={"error": err.error_name, "reason": err.reason},
        ) from err
    except ChainUnavailable as err:
        raise LedgerUnavailable(f"no chain node answers ({what})") from err
    except ChainError as err:
        raise LedgerUnavailable(f"chain failure while trying to {what}: {err}") from err


def _write(
    runtime: CredentialRuntime,
    what: str,
    op: Callable[[], TxReceipt],
    *,
    landed: Callable[[], bool] | None = None,
) -> TxReceipt:
    """A chain transaction through `_chain`, kept until it is `runtime.confirmations` blocks
    deep and sent again if a reorg or the pool drops it meanwhile while `landed()` says its
    effect is not on chain (``Chain.settle``; without `landed`, a transaction that left the
    chain fails with ``LedgerUnavailable``). Once it is settled, the runtime's chain state
    reads up to its block, so this service's verifier knows at once what the service wrote."""
    receipt = _chain(
        what,
        partial(
            runtime.chain.settle,
            op,
            landed=landed,
            confirmations=runtime.confirmations,
            timeout=runtime.settle_timeout,
        ),
    )
    runtime.saw_confirmed(receipt)
    return receipt


def _registered(runtime: CredentialRuntime, credential_ids: list[bytes]) -> bool:
    """Whether the registration of `credential_ids` in ``StatusRegistry`` took effect (one
    transaction registers them all or none, so the first one tells)."""
    return runtime.clients.status_registry.issuer_of(credential_ids[0]) is not None


def _entity_id(organisation: Organisation) -> bytes:
    return bytes.fromhex(organisation.ledger_id.removeprefix("0x"))


def _chain_time(runtime: CredentialRuntime, now: datetime) -> int:
    # Issue times are compared with block timestamps on chain; a chain whose clock runs ahead
    # of ours (development chains) must not make fresh accreditations look like the future.
    head = _chain("read the chain head", lambda: runtime.chain.block().timestamp)
    return max(int(now.timestamp()), head)


_ISSUING_KINDS = frozenset({OrganisationKind.ISSUER, OrganisationKind.CARD_ISSUER})


def _require_active_issuer(*, session: Session, issuer: Organisation) -> None:
    """Refuse anyone but an issuer or card issuer whose whole accreditation path is active
    (``Forbidden``, ``issuer_not_accredited``, naming what is not active)."""
    if issuer.kind not in _ISSUING_KINDS:
        raise Forbidden("only issuers issue credentials", code=ErrorCode.TENANT_FORBIDDEN)
    require_active_path(
        session=session,
        organisation=issuer,
        role="issuer",
        error=Forbidden,
        code=ErrorCode.ISSUER_NOT_ACCREDITED,
    )


# ------------------------------------------------------------------------------- signing keys


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
    controller = runtime.controller(issuer.credit_code)
    existing = _chain(
        "read a key", lambda: runtime.clients.trust_registry.get_key(key.thumbprint())
    )
    if existing is None:
        _write(
            runtime,
            "register a signing key",
            lambda: runtime.clients.trust_registry.register_key(
                controller,
                id=_entity_id(issuer),
                key_id=key.thumbprint(),
                alg=KeyAlgorithm(key.curve.registry_code),
                purpose=KeyPurpose.CREDENTIAL_SIGNING,
                public_key=key.raw_public_key(),
                valid_from=valid_from,
            ),
        )
        existing = _chain(
            "read a key", lambda: runtime.clients.trust_registry.get_key(key.thumbprint())
        )
    if existing is None or existing.purpose is not KeyPurpose.CREDENTIAL_SIGNING:
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
    _require_active_issuer(session=session, issuer=issuer)
    at = _chain_time(runtime, now)
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
    controller = runtime.controller(issuer.credit_code)
    _write(
        runtime,
        "end a key's validity",
        lambda: runtime.clients.trust_registry.end_key_validity(
            controller, key_id=old_key.thumbprint(), valid_until=ends
        ),
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
    if issuer is None or not _may_manage(actor, issuer):
        raise NotFound("no such signing key", code=ErrorCode.SIGNING_KEY_NOT_FOUND)
    at = int(revoked_at.timestamp())
    latest = _chain_time(runtime, now)
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
    trust = runtime.clients.trust_registry
    on_chain = _chain("read a key", lambda: trust.get_key(key.thumbprint()))
    if on_chain is None:
        raise NotFound("no such signing key on chain", code=ErrorCode.SIGNING_KEY_NOT_FOUND)
    if not 0 < on_chain.revoked_at <= at:
        signer = runtime.controller(actor.credit_code)
        _write(
            runtime,
            "revoke a key",
            lambda: trust.revoke_key(signer, key_id=key.thumbprint(), revoked_at=at),
        )
        # The contract takes a time after its block as the block: read back what it holds.
        on_chain = _chain("read a key", lambda: trust.get_key(key.thumbprint()))
        assert on_chain is not None
    row.revoked_at = on_chain.revoked_at
    session.add(row)
    session.commit()
    return _key_public(row, key)


def _may_manage(actor: Organisation, issuer: Organisation) -> bool:
    """The issuer itself or its accreditor (the province)."""
    return actor.id == issuer.id or (
        issuer.accreditor_id is not None and actor.id == issuer.accreditor_id
    )


# ------------------------------------------------------------------------------- issuance


def _credential_type(runtime: CredentialRuntime, term: str) -> CredentialType:
    try:
        return runtime.types.get(term)
    except FormatError as err:
        raise InvalidInput(
            f"unknown credential type {term!r}",
            code=ErrorCode.CREDENTIAL_TYPE_UNKNOWN,
            detail={"known": sorted(t.term for t in runtime.types)},
        ) from err


def _require_card_issuer(issuer: Organisation, term: str) -> None:
    """Only a card issuer issues the e-card type (``Forbidden``, ``card_issuer_required``); the
    contract enforces it too, where the type is accredited."""
    if term == SOCIAL_SECURITY_CARD and issuer.kind != OrganisationKind.CARD_ISSUER:
        raise Forbidden(
            f"only a card issuer (card service platform or card centre) issues {term}",
            code=ErrorCode.CARD_ISSUER_REQUIRED,
            detail={"type": term, "issuer_kind": str(issuer.kind)},
        )


def _check_card_request(request: CredentialRequest, index: int) -> None:
    """An e-card is a ``vc+sd-jwt`` whose subject passes `check_card_subject`.

    Raises `InvalidInput` (``card_format_not_allowed``, ``card_subject_invalid``)."""
    if request.type != SOCIAL_SECURITY_CARD:
        return
    if request.format not in SOCIAL_SECURITY_CARD_FORMATS:
        raise InvalidInput(
            f"{SOCIAL_SECURITY_CARD} is issued as vc+sd-jwt only",
            code=ErrorCode.CARD_FORMAT_NOT_ALLOWED,
            detail={"index": index, "format": request.format},
        )
    try:
        check_card_subject(request.subject)
    except FormatError as err:
        raise InvalidInput(
            str(err), code=ErrorCode.CARD_SUBJECT_INVALID, detail={"index": index}
        ) from err


def _holder_key(request: CredentialRequest, index: int) -> Jwk | None:
    if request.holder_jwk is None:
        if request.format == VC_SD_JWT_TYP:
            raise InvalidInput(
                "an SD-JWT credential needs the holder's public key (holder_jwk)",
                code=ErrorCode.VALIDATION_FAILED,
                detail={"index": index},
            )
        return None
    if "d" in request.holder_jwk:
        raise InvalidInput(
            "holder_jwk carries a private key",
            code=ErrorCode.JWK_PRIVATE_MATERIAL,
            detail={"index": index},
        )
    try:
        return Jwk.from_jwk(request.holder_jwk)
    except WalletError as err:
        raise InvalidInput(
            f"holder_jwk: {err}", code=ErrorCode.JWK_INVALID, detail={"index": index}
        ) from err


_CARD_IDENTITY = ("name", "idNumber")
"""The claims of a credential subject that must be the e-card's when a card proof is sent."""


def _bound_holder_key(
    runtime: CredentialRuntime, request: CredentialRequest, index: int, *, audience: str
) -> Jwk | None:
    """The holder key the credential is bound to (``cnf``): the e-card's when the request
    carries the holder's card proof (`_card_identity`), else ``holder_jwk``.

    Raises `InvalidInput` (``card_proof_required`` when ``require_card`` and no proof;
    ``card_proof_invalid``), `Forbidden` (``card_subject_mismatch``: the subject's name or ID
    number is not the card's; ``card_holder_mismatch``: ``holder_jwk`` is another key than
    the card's)."""
    if request.card_proof is None:
        if request.require_card:
            raise InvalidInput(
                "this credential requires the holder's e-card proof (card_proof)",
                code=ErrorCode.CARD_PROOF_REQUIRED,
                detail={"index": index},
            )
        return _holder_key(request, index)
    identity = _card_identity(runtime, request, request.card_proof, index, audience=audience)
    if request.holder_jwk is not None:
        named = _holder_key(request, index)
        if named is None or named.thumbprint() != identity.holder_thumbprint:
            raise Forbidden(
                "holder_jwk is not the key the holder's e-card is bound to",
                code=ErrorCode.CARD_HOLDER_MISMATCH,
                detail={"index": index},
            )
    return identity.holder_key


def _card_identity(
    runtime: CredentialRuntime,
    request: CredentialRequest,
    proof: CardProof,
    index: int,
    *,
    audience: str,
) -> CardIdentity:
    """The identity the card proof shows, verified now (issuer accredited, card active, key
    binding to the issuer and the challenge), disclosing every `_CARD_IDENTITY` claim the
    subject names, each equal to the subject's."""
    named = [name for name in _CARD_IDENTITY if name in request.subject]
    try:
        nonce = card_nonce(ISSUANCE_PURPOSE, proof.challenge)
        identity = verify_card_proof(
            runtime.verifier, proof.presentation, nonce=nonce, audience=audience, require=named
        )
    except VerificationError as err:
        raise InvalidInput(
            f"the e-card proof fails {err.check}: {err.message}",
            code=ErrorCode.CARD_PROOF_INVALID,
            detail={"index": index, "check": err.check},
        ) from err
    differing = [name for name in named if identity.claims[name] != request.subject[name]]
    if differing:
        # which claims differ, never their values: the caller may not be the card's holder
        raise Forbidden(
            "the holder's e-card names another person than the credential subject",
            code=ErrorCode.CARD_SUBJECT_MISMATCH,
            detail={"index": index, "claims": differing},
        )
    return identity


@dataclass
class _FileHeads:
    """The heads of the training files a batch extends: read from the chain once per file,
    then advanced by each entry the batch signs."""

    runtime: CredentialRuntime
    heads: dict[bytes, tuple[int, bytes]]

    def take(self, key: bytes, link: TrainingFileLink, index: int) -> None:
        """Refuse an entry that is not the next of its file: ``Conflict``
        (``training_file_sequence_taken`` for a sequence the file already has, so a file
        cannot fork; ``training_file_not_head`` for a gap or a link to another entry)."""
        if key not in self.heads:
            head = _chain(
                "read a training file head",
                partial(self.runtime.clients.status_registry.file_head, key),
            )
            self.heads[key] = (head.length, head.digest)
        length, digest = self.heads[key]
        detail = {"index": index, "sequence": link.sequence, "length": length}
        if link.sequence < length:
            raise Conflict(
                f"training file entry {link.sequence} is already taken: "
                f"the file's head is entry {length - 1}",
                code=ErrorCode.TRAINING_FILE_SEQUENCE_TAKEN,
                detail=detail,
            )
        if link.sequence > length or link.previous != digest:
            raise Conflict(
                f"training file entry {link.sequence} does not extend the file's head "
                f"(entry {length - 1} on chain)",
                code=ErrorCode.TRAINING_FILE_NOT_HEAD,
                detail=detail,
            )

    def advance(self, key: bytes, digest: bytes) -> None:
        length, _ = self.heads[key]
        self.heads[key] = (length + 1, digest)


def _training_claims(
    request: CredentialRequest, holder_key: Jwk | None, issued_at: int, index: int
) -> tuple[dict[str, Any], TrainingFileLink] | None:
    """Strict claims of training records: course dates a calendar can hold, the end neither
    before the start nor after today; a file link that parses, on a credential (``vc+jwt`` or
    ``vc+sd-jwt``) bound to the holder whose file it names (one person, one file). The extra
    claims to sign (the file head key is added by the caller) and the link, if any.

    Raises `InvalidInput` (``training_dates_invalid``, ``training_file_invalid``)."""
    subject = request.subject
    if request.type == TRAINING_RECORD and all(
        isinstance(subject.get(name), str) for name in ("startDate", "endDate")
    ):  # a missing or mistyped date is the schema's to report
        try:
            training_period(subject, issued_at=issued_at)
        except FormatError as err:
            raise InvalidInput(
                str(err), code=ErrorCode.TRAINING_DATES_INVALID, detail={"index": index}
            ) from err
    if request.training_file is None:
        return None

    def refuse(message: str) -> InvalidInput:
        return InvalidInput(message, code=ErrorCode.TRAINING_FILE_INVALID, detail={"index": index})

    if request.type != TRAINING_RECORD:
        raise refuse(f"only {TRAINING_RECORD} credentials are training file entries")
    try:
        link = TrainingFileLink.from_claim(request.training_file)
    except FormatError as err:
        raise refuse(str(err)) from err
    if holder_key is None:
        raise refuse("a training file entry needs the holder's key (holder_jwk)")
    if link.file_id != training_file_id(holder_key):
        raise refuse("training_file is not the file of the holder_jwk's holder")
    return {"trainingFile": link.to_claim()}, link


def issue_credentials(
    *,
    session: Session,
    runtime: CredentialRuntime,
    issuer: Organisation,
    requests: Sequence[CredentialRequest],
    now: datetime,
) -> list[IssuedCredentialPublic]:
    """Issue a batch of credentials (see the module docstring).

    All or nothing for the signing part: every request is validated and signed before anything
    is sent to the chain. Raises `InvalidInput` (unknown type, subject not matching the type's
    schema, bad holder key), `Forbidden` (not an active issuer, or not accredited on chain for
    a type right now), `Conflict` (a training file entry at a sequence its file already has,
    ``training_file_sequence_taken``, or not extending the file's head on chain,
    ``training_file_not_head``), `LedgerRejected`/`LedgerUnavailable`.
    """
    results = _issue(session=session, runtime=runtime, issuer=issuer, requests=requests, now=now)
    session.commit()
    return results


def _issue(
    *,
    session: Session,
    runtime: CredentialRuntime,
    issuer: Organisation,
    requests: Sequence[CredentialRequest],
    now: datetime,
    before_chain: Callable[[], None] | None = None,
) -> list[IssuedCredentialPublic]:
    """`issue_credentials` up to, not including, the commit; `before_chain` runs once every
    request is signed, before the first chain transaction (in the transaction that will
    write the credential rows)."""
    _require_active_issuer(session=session, issuer=issuer)
    assert issuer.id is not None
    entity = _entity_id(issuer)
    issued_at = _chain_time(runtime, now)
    types = {request.type: _credential_type(runtime, request.type) for request in requests}
    for term in types:
        _require_card_issuer(issuer, term)
    for index, request in enumerate(requests):
        _check_card_request(request, index)
        if request.format not in types[request.type].formats:
            raise InvalidInput(
                f"{request.type} is issued as {', '.join(types[request.type].formats)} only",
                code=ErrorCode.CREDENTIAL_FORMAT_NOT_ALLOWED,
                detail={"index": index, "format": request.format},
            )
    for term, credential_type in types.items():
        type_id = credential_type.type_id
        accredited = _chain(
            "read an accreditation",
            partial(runtime.direct.is_accredited_for, entity, type_id, issued_at),
        )
        if not accredited:
            raise Forbidden(
                f"the issuer is not accredited on chain for {term}",
                code=ErrorCode.ISSUER_NOT_ACCREDITED,
                detail={"type": term, "type_id": "0x" + credential_type.type_id.hex()},
            )
    key_row, key = current_signing_key(
        session=session, runtime=runtime, issuer=issuer, at=issued_at
    )
    signed: list[IssuedCredential] = []
    files = _FileHeads(runtime, {})
    advances: dict[int, FileAdvance] = {}
    audience = issuer_uri(entity)
    for index, request in enumerate(requests):
        credential_type = types[request.type]
        holder_key = _bound_holder_key(runtime, request, index, audience=audience)
        training = _training_claims(request, holder_key, issued_at, index)
        extra: dict[str, Any] | None = None
        file_key = b""
        if training is not None:
            extra, link = training
            file_key = file_head_key(runtime.file_head_secret(), link.file_id)
            files.take(file_key, link, index)
            extra[FILE_HEAD_CLAIM] = "0x" + file_key.hex()
            advances[index] = FileAdvance(index, file_key, link.sequence, link.previous)
        common: dict[str, Any] = {
            "credential_type": credential_type,
            "subject": request.subject,
            "issuer_id": entity,
            "key": key,
            "status_registry": runtime.status_registry,
            "issued_at": issued_at,
            "valid_from": int(request.valid_from.timestamp()) if request.valid_from else None,
            "valid_until": int(request.valid_until.timestamp()) if request.valid_until else None,
            "digest_alg": runtime.hash_algorithm,
        }
        try:
            if request.format == VC_SD_JWT_TYP:
                assert holder_key is not None
                signed.append(
                    issue_sd_jwt(
                        holder_key=holder_key,
                        disclosable=request.disclosable,
                        extra_claims=extra,
                        **common,
                    )
                )
            else:
                signed.append(issue_vc_jwt(holder_key=holder_key, extra_claims=extra, **common))
        except IssuanceError as err:
            raise InvalidInput(
                str(err), code=ErrorCode.CREDENTIAL_SUBJECT_INVALID, detail={"index": index}
            ) from err
        if file_key:
            files.advance(file_key, signed[-1].digest)

    if before_chain is not None:
        before_chain()
    controller = runtime.controller(issuer.credit_code)
    size = FILE_ENTRY_BATCH if advances else STATUS_BATCH
    for start in range(0, len(signed), size):
        _register_chunk(
            runtime,
            controller,
            entity,
            signed[start : start + size],
            [
                FileAdvance(i - start, a.file, a.sequence, a.previous)
                for i, a in advances.items()
                if start <= i < start + size
            ],
        )
    submitted = submit_digests(
        session.connection(),
        organisation_id=issuer.id,
        algorithm=runtime.hash_algorithm.value,
        items=[NewItem(digest=c.digest, document_type=f"credential:{c.format}") for c in signed],
    )
    updated = utc_now()
    results = []
    for credential, anchor in zip(signed, submitted, strict=True):
        session.add(
            CredentialRecord(
                id="0x" + credential.credential_id.hex(),
                organisation_id=issuer.id,
                credential_type=credential.credential_type,
                format=credential.format,
                digest="0x" + credential.digest.hex(),
                key_id=key_row.key_id,
                issued_at=issued_at,
                state=CredentialState.ACTIVE,
                anchor_item_id=anchor.id,
                updated_at=updated,
            )
        )
        results.append(
            IssuedCredentialPublic(
                id="0x" + credential.credential_id.hex(),
                type=credential.credential_type,
                format=credential.format,
                credential=credential.token,
                digest="0x" + credential.digest.hex(),
                key_id=key_row.key_id,
                issued_at=issued_at,
                anchor_item_id=anchor.id.hex(),
            )
        )
    return results


_FILE_HEAD_ERRORS = frozenset({"FileSequenceTaken", "FileSequenceNotNext", "FilePreviousMismatch"})


def _register_chunk(
    runtime: CredentialRuntime,
    controller: Signer,
    entity: bytes,
    chunk: Sequence[IssuedCredential],
    advances: Sequence[FileAdvance],
) -> None:
    """Register `chunk` in one transaction, advancing the file heads of its training file
    entries in the same one. An entry another request took meanwhile (the chain refuses the
    advance) is ``Conflict`` (``training_file_sequence_taken``)."""
    registry = runtime.clients.status_registry
    ids = [c.credential_id for c in chunk]
    digests = [c.digest for c in chunk]
    if not advances:
        _write(
            runtime,
            "register credential statuses",
            partial(
                registry.register, controller, issuer=entity, credential_ids=ids, digests=digests
            ),
            landed=partial(_registered, runtime, ids),
        )
        return
    try:
        _write(
            runtime,
            "register credential statuses and training file heads",
            partial(
                registry.register_with_file_heads,
                controller,
                issuer=entity,
                credential_ids=ids,
                digests=digests,
                advances=advances,
            ),
            landed=partial(_registered, runtime, ids),
        )
    except LedgerRejected as err:
        if err.detail.get("error") not in _FILE_HEAD_ERRORS:
            raise
        raise Conflict(
            f"a training file entry was taken meanwhile: {err.detail.get('reason')}",
            code=ErrorCode.TRAINING_FILE_SEQUENCE_TAKEN,
            detail={"error": err.detail.get("error")},
        ) from err


# ------------------------------------------------------------------------------- idempotency

IDEMPOTENCY_KEY_MAX_LENGTH = 255
_CARD_FIELDS = ("card_proof", "require_card")
_IDEMPOTENCY_KEY_CHARACTERS = frozenset(chr(c) for c in range(0x20, 0x7F))
_in_flight: set[tuple[int, str]] = set()
_in_flight_lock = threading.Lock()


@dataclass(frozen=True)
class IssuanceAnswer:
    """The answer to an issuance request: ``body`` is the exact JSON text, ``replayed`` says it
    is the stored answer to an earlier request with the same idempotency key."""

    status: int
    body: str
    replayed: bool


class _AlreadyAnswered(Exception):
    """Another request with the key committed while this one was being prepared."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key_hash)
        self.record = record


def check_idempotency_key(key: str) -> str:
    """The key itself when it is 1 to 255 printable ASCII characters (``0x20``-``0x7E``).
    Raises `InvalidInput` (``idempotency_key_invalid``) otherwise."""
    if (
        not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH
        or not set(key) <= _IDEMPOTENCY_KEY_CHARACTERS
    ):
        raise InvalidInput(
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
            code=ErrorCode.IDEMPOTENCY_KEY_INVALID,
        )
    return key


def request_digest(requests: Sequence[CredentialRequest]) -> str:
    """SHA-256 (hex) of the canonical JSON of a parsed issuance request: keys sorted, no
    whitespace, defaults filled in, so two bodies that mean the same request match."""
    # A request without the e-card digests as it did before card proofs existed.
    canonical = json.dumps(
        {
            "credentials": [
                r.model_dump(
                    mode="json",
                    exclude={name for name in _CARD_FIELDS if not getattr(r, name)},
                )
                for r in requests
            ]
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@contextmanager
def _claim_in_process(organisation_id: int, key: str) -> Iterator[None]:
    entry = (organisation_id, key)
    with _in_flight_lock:
        if entry in _in_flight:
            raise _key_in_flight()
        _in_flight.add(entry)
    try:
        yield
    finally:
        with _in_flight_lock:
            _in_flight.discard(entry)


def _key_in_flight() -> Conflict:
    return Conflict(
        "a request with this Idempotency-Key is still being processed; retry later",
        code=ErrorCode.IDEMPOTENCY_KEY_IN_FLIGHT,
    )


def _claim_across_processes(session: Session, organisation_id: int, key: str) -> None:
    """On PostgreSQL, a transaction-scoped advisory lock on (organisation, key): another
    process working on the same key makes this one answer 409 rather than issue twice. (On
    SQLite the primary key settles a race between processes at commit.)"""
    if session.get_bind().dialect.name != "postgresql":
        return
    lock = hashlib.sha256(f"idempotency\0{organisation_id}\0{key}".encode()).digest()[:8]
    taken = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:lock)"),
        {"lock": int.from_bytes(lock, "big", signed=True)},
    ).scalar_one()
    if not taken:
        raise _key_in_flight()


_SEALED_PREFIX = "v1."


def idempotency_row_key(key: str) -> str:
    """What the database keeps of an idempotency key: its SHA-256 (hex), never the key, which
    stays with the client and is needed to open the stored answer."""
    return hashlib.sha256(key.encode()).hexdigest()


_ANSWER_SALT = b"hrss-idempotency-answer/1"


def _answer_info(organisation_id: int, key: str) -> bytes:
    return organisation_id.to_bytes(8, "big") + key.encode()


def seal_answer(
    *,
    secret: bytes,
    organisation_id: int,
    key: str,
    digest: str,
    body: str,
    algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM,
) -> str:
    """A stored answer sealed (`credential_service.sealing`) under a key derived from the
    service's sealing secret, the organisation and the idempotency key, the request digest
    bound as associated data. The signed credentials it holds carry personal data: the
    database alone, or with the keystore but without the client's idempotency key, reveals
    none of it."""
    sealed = seal(
        secret,
        body.encode(),
        info=_answer_info(organisation_id, key),
        aad=digest.encode(),
        salt=_ANSWER_SALT,
        algorithm=algorithm,
    )
    return _SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode()


def _open_answer(record: IdempotencyRecord, *, secret: bytes, key: str) -> str:
    try:
        if not record.sealed_response.startswith(_SEALED_PREFIX):
            raise SealBroken("not a sealed answer")
        plain = open_sealed(
            secret,
            base64.urlsafe_b64decode(record.sealed_response[len(_SEALED_PREFIX) :]),
            info=_answer_info(record.organisation_id, key),
            aad=record.request_digest.encode(),
            salt=_ANSWER_SALT,
        )
        return plain.decode()
    except ValueError as err:  # SealBroken, or damaged base64
        # the sealing secret was replaced (another keystore): the answer is lost for good
        raise Conflict(
            "the stored answer for this Idempotency-Key cannot be opened; use a new key",
            code=ErrorCode.IDEMPOTENCY_ANSWER_UNREADABLE,
        ) from err


def _stored_answer(
    session: Session, organisation_id: int, key: str, *, at: int | None
) -> IdempotencyRecord | None:
    """The stored answer for the key; only one that has not expired at `at` when given."""
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.organisation_id == organisation_id,
        IdempotencyRecord.key_hash == idempotency_row_key(key),
    )
    if at is not None:
        query = query.where(IdempotencyRecord.expires_at > at)
    return session.exec(query).first()


def _replay(record: IdempotencyRecord, digest: str, *, secret: bytes, key: str) -> IssuanceAnswer:
    if record.request_digest != digest:
        raise Unprocessable(
            "this Idempotency-Key was used for a different request",
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
        )
    body = _open_answer(record, secret=secret, key=key)
    return IssuanceAnswer(status=record.response_status, body=body, replayed=True)


def issue_credentials_idempotently(
    *,
    session: Session,
    runtime: CredentialRuntime,
    issuer: Organisation,
    requests: Sequence[CredentialRequest],
    now: datetime,
    key: str,
    ttl: timedelta,
    sealing_secret: bytes,
    seal_algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM,
) -> IssuanceAnswer:
    """`issue_credentials` at most once per (issuer, idempotency key) within `ttl`.

    The first request with a key issues, and its answer is stored with the key and a digest
    of the request in the transaction that writes the credentials; a failed issuance stores
    nothing, so a retry issues afresh. A later request with the key and the same request gets
    the stored answer (``replayed``), with nothing issued again. Keys of other organisations
    never match. Expired keys of the issuer are deleted on the way. The stored answer is
    sealed (`seal_answer`) with `sealing_secret` and the key; the row keeps only the key's
    SHA-256.

    Raises `InvalidInput` (``idempotency_key_invalid``), `Unprocessable`
    (``idempotency_key_reused``: same key, different request), `Conflict`
    (``idempotency_key_in_flight``: a request with the key is being processed), and whatever
    `issue_credentials` raises.
    """
    check_idempotency_key(key)
    _require_active_issuer(session=session, issuer=issuer)
    assert issuer.id is not None
    organisation_id = issuer.id
    digest = request_digest(requests)
    at = int(now.timestamp())
    session.exec(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.organisation_id) == organisation_id,
            col(IdempotencyRecord.expires_at) <= at,
        )
    )
    session.commit()
    stored = _stored_answer(session, organisation_id, key, at=at)
    if stored is not None:
        return _replay(stored, digest, secret=sealing_secret, key=key)

    def claim() -> None:
        _claim_across_processes(session, organisation_id, key)
        again = _stored_answer(session, organisation_id, key, at=at)
        if again is not None:
            raise _AlreadyAnswered(again)

    with _claim_in_process(organisation_id, key):
        try:
            results = _issue(
                session=session,
                runtime=runtime,
                issuer=issuer,
                requests=requests,
                now=now,
                before_chain=claim,
            )
        except _AlreadyAnswered as done:
            try:
                # read before the rollback expires it
                return _replay(done.record, digest, secret=sealing_secret, key=key)
            finally:
                session.rollback()
        body = IssueCredentialsResponse(credentials=results).model_dump_json()
        session.add(
            IdempotencyRecord(
                organisation_id=organisation_id,
                key_hash=idempotency_row_key(key),
                request_digest=digest,
                response_status=201,
                sealed_response=seal_answer(
                    secret=sealing_secret,
                    organisation_id=organisation_id,
                    key=key,
                    digest=digest,
                    body=body,
                    algorithm=seal_algorithm,
                ),
                created_at=utc_now(),
                expires_at=at + int(ttl.total_seconds()),
            )
        )
        try:
            session.commit()
        except IntegrityError:
            # Another process committed the key first (SQLite has no advisory lock): its
            # answer stands, and what this request did is rolled back (its status entries on
            # chain stay orphans nobody holds).
            session.rollback()
            winner = _stored_answer(session, organisation_id, key, at=None)
            if winner is None:
                raise
            return _replay(winner, digest, secret=sealing_secret, key=key)
    return IssuanceAnswer(status=201, body=body, replayed=False)


# ------------------------------------------------------------------------------- status


def _visible_credential(
    *, session: Session, actor: Organisation, credential_id: str
) -> tuple[CredentialRecord, Organisation]:
    record = session.get(CredentialRecord, credential_id.lower())
    issuer = None if record is None else session.get(Organisation, record.organisation_id)
    if record is None or issuer is None or not _may_manage(actor, issuer):
        # Another tenant's credential is indistinguishable from a missing one.
        raise NotFound("no such credential", code=ErrorCode.CREDENTIAL_NOT_FOUND)
    return record, issuer


def change_credential_status(
    *,
    session: Session,
    runtime: CredentialRuntime,
    actor: Organisation,
    credential_id: str,
    change: CredentialStatusChange,
    now: datetime,
) -> CredentialStatusPublic:
    """Suspend, reinstate or revoke a credential, with a reason code, by its issuer or the
    issuer's accreditor. Revocation is final (`LedgerRejected` after it).

    When the chain has the requested status already and the database does not (an earlier
    attempt's database write was lost), nothing is sent: the status is mirrored into the
    database and the audit entry says so."""
    record, issuer = _visible_credential(session=session, actor=actor, credential_id=credential_id)
    chain_id = bytes.fromhex(record.id.removeprefix("0x"))
    on_chain = _chain(
        "read a credential's status",
        lambda: runtime.clients.status_registry.current_status(chain_id),
    )
    if record.state != change.status and on_chain.status == _TO_CHAIN_STATUS[change.status]:
        # An earlier attempt's database write was lost: mirror the chain, send nothing.
        note_for_audit(f"status {change.status} already on chain; mirrored into the database")
    else:
        signer = runtime.controller(actor.credit_code)
        _write(
            runtime,
            "change a credential's status",
            lambda: runtime.clients.status_registry.set_status(
                signer,
                credential_id=chain_id,
                status=_TO_CHAIN_STATUS[change.status],
                reason=change.reason,
            ),
            landed=lambda: (
                runtime.clients.status_registry.current_status(chain_id).status
                == _TO_CHAIN_STATUS[change.status]
            ),
        )
    record.state = change.status
    record.state_reason = change.reason
    record.updated_at = utc_now()
    session.add(record)
    session.commit()
    return CredentialStatusPublic(
        id=record.id,
        type=record.credential_type,
        status=change.status.value,
        reason=change.reason,
        as_of=_chain_time(runtime, now),
        issuer=issuer.credit_code,
    )


def credential_status(
    *,
    session: Session,
    runtime: CredentialRuntime,
    actor: Organisation,
    credential_id: str,
    now: datetime,
) -> CredentialStatusPublic:
    """The status on chain (through the cached chain state) now."""
    record, issuer = _visible_credential(session=session, actor=actor, credential_id=credential_id)
    at = _chain_time(runtime, now)
    status, reason = runtime.trust_state.credential_status_at(
        bytes.fromhex(record.id.removeprefix("0x")), at
    )
    return CredentialStatusPublic(
        id=record.id,
        type=record.credential_type,
        status=_FROM_CHAIN_STATUS.get(status, "unknown"),
        reason=reason,
        as_of=at,
        issuer=issuer.credit_code,
    )


def accredit_credential_type(
    *,
    session: Session,
    runtime: CredentialRuntime,
    actor: Organisation,
    issuer_credit_code: str,
    term: str,
    allowed: bool,
) -> dict[str, Any]:
    """Allow (or disallow) an issuer to issue a credential type from now on; only the issuer's
    accreditor (its province, or the Ministry for the national card platform) may. Only a card
    issuer may be allowed the e-card type, and nothing else.

    Raises `NotFound` (``organisation_not_found``), `InvalidInput`
    (``accreditation_not_allowed``), `Forbidden` (``card_issuer_required``) and the ledger's
    errors."""
    credential_type = _credential_type(runtime, term)
    issuer = session.exec(
        select(Organisation).where(Organisation.credit_code == issuer_credit_code)
    ).first()
    if issuer is None or issuer.accreditor_id != actor.id:
        raise NotFound(
            "no such organisation accredited by the caller", code=ErrorCode.ORGANISATION_NOT_FOUND
        )
    if issuer.kind not in _ISSUING_KINDS:
        raise InvalidInput(
            "only issuers and card issuers are accredited for credential types",
            code=ErrorCode.ACCREDITATION_NOT_ALLOWED,
        )
    if allowed:  # the contract refuses it too (CardTypeNotAllowedForKind)
        _require_card_issuer(issuer, credential_type.term)
    signer = runtime.controller(actor.credit_code)
    _write(
        runtime,
        "set a credential type",
        lambda: runtime.clients.trust_registry.set_credential_type(
            signer, id=_entity_id(issuer), credential_type=credential_type.type_id, allowed=allowed
        ),
    )
    return {
        "issuer": issuer.credit_code,
        "type": credential_type.term,
        "type_id": "0x" + credential_type.type_id.hex(),
        "allowed": allowed,
    }


# ------------------------------------------------------------------------------- verification


def parse_receipt(data: Mapping[str, Any]) -> AnchorReceipt:
    """An anchor receipt from a request body. Raises `InvalidInput`."""
    try:
        return AnchorReceipt.parse(data)
    except WalletError as err:
        raise InvalidInput(f"anchor receipt: {err}", code=ErrorCode.VALIDATION_FAILED) from err


def verify_credential(
    *,
    runtime: CredentialRuntime,
    token: str,
    as_of: datetime | None,
    receipt: Mapping[str, Any] | None,
    issuers: Callable[[bytes], Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The verification report of one credential (never raises for an invalid credential:
    the report says why). With `issuers` (`IssuerNames`) the report names its ``issuer``
    (``None`` when the token names no registered issuer id)."""
    parsed = parse_receipt(receipt) if receipt is not None else None
    report = runtime.verifier.verify_credential(
        token,
        as_of=int(as_of.timestamp()) if as_of else None,
        anchor_receipt=parsed,
        strict=False,
    )
    return record_verification("credential", _named(report, issuers))  # metrics by check


def _named(
    report: CredentialReport, issuers: Callable[[bytes], Mapping[str, Any]] | None
) -> dict[str, Any]:
    """`report` as a dict, with its ``issuer`` described by `issuers` when given."""
    as_dict = report.to_dict()
    if issuers is not None:
        issuer_id = report.credential.issuer_id if report.credential else None
        as_dict["issuer"] = dict(issuers(issuer_id)) if issuer_id else None
    return as_dict


def verify_presentation(
    *,
    runtime: CredentialRuntime,
    token: str,
    nonce: str,
    audience: str,
    as_of: datetime | None,
    receipts: Sequence[Mapping[str, Any]],
    issuers: Callable[[bytes], Mapping[str, Any]] | None = None,
    with_card: WithCard | None = None,
) -> dict[str, Any]:
    """The verification report of a presentation (SD-JWT with key binding, or vp+jwt);
    receipts are matched to credentials by the digest they prove. With `issuers` every
    credential's report names its ``issuer`` as in `verify_credential`. With `with_card` the
    presentation is a credential with its holder's e-card: the report's ``card`` says whether
    both are bound to one holder key (`_card_bound`), and ``verified`` requires it."""
    report = runtime.verifier.verify_presentation(
        token,
        nonce=nonce,
        audience=audience,
        as_of=int(as_of.timestamp()) if as_of else None,
        anchor_receipts=[parse_receipt(r) for r in receipts],
        strict=False,
    )
    as_dict = report.to_dict()
    as_dict["credentials"] = [_named(one, issuers) for one in report.credentials]
    if with_card is not None:
        _card_bound(as_dict, report, token, with_card, issuers, runtime.verifier.trust)
    return record_verification("presentation", as_dict)  # metrics by check


_CARD_BOUND_CHECKS = frozenset({CARD_CHECK, SAME_HOLDER_CHECK, DISCLOSURE_CHECK})


def _card_bound(
    as_dict: dict[str, Any],
    report: PresentationReport,
    token: str,
    with_card: WithCard,
    issuers: Callable[[bytes], Mapping[str, Any]] | None,
    trust: TrustView,
) -> None:
    """Add to `as_dict` the ``card`` section of a credential presented with the e-card
    (`check_card_bound`): ``verified``, the failed ``check`` and its ``detail``, else the
    holder key's thumbprint, the credential's id, the card (id, issuer, disclosed claims) and
    ``name_matches`` (``null`` unless an expected name was given). The checks of its own
    (``card``, ``same_holder``, ``disclosure``) join the report's ``checks``; a failed one
    makes the whole report fail with it."""
    try:
        bound = check_card_bound(
            report,
            token,
            trust=trust,
            require=with_card.require,
            card_require=with_card.card_require,
            expected_name=with_card.expected_name,
        )
    except VerificationError as err:
        as_dict["card"] = {"verified": False, "check": err.check, "detail": err.message}
        if err.check in _CARD_BOUND_CHECKS:
            as_dict["checks"].append(
                {"check": err.check, "status": "failed", "detail": err.message}
            )
        as_dict["verified"] = False
        as_dict["verdict"] = f"not verified: {err.check} failed"
        return
    as_dict["checks"].append(
        {
            "check": SAME_HOLDER_CHECK,
            "status": "passed",
            "detail": "the credential and the e-card are bound to one holder key",
        }
    )
    card = bound.card
    as_dict["card"] = {
        "verified": True,
        "check": None,
        "detail": "a credential with the e-card of its holder",
        "holder": b64url_encode(bound.holder_thumbprint),
        "credential": "0x" + bound.credential.credential_id.hex(),
        "card": {
            "id": "0x" + card.credential_id.hex(),
            "issuer": dict(issuers(card.issuer_id)) if issuers else "0x" + card.issuer_id.hex(),
            "claims": dict(card.claims),
        },
        "name_matches": bound.name_matches,
    }
