"""Accreditation of organisations and registration of their keys, on chain and mirrored in
the database.

The chain is written first and the database row committed after it. Every change converges
on retry: an accreditation, status change, key registration, key end or key revocation that
reached the chain but not the database is completed by retrying the same request, which finds
the change on chain, only mirrors it into the database and says so in the audit trail.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from credential_service.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    LedgerRejected,
    NotFound,
    ServiceError,
)
from credential_service.jwk import OrganisationPublicKey, parse_public_jwk
from credential_service.models import (
    CREDIT_CODE_PATTERN,
    KeyAlgorithm,
    KeyPurpose,
    Organisation,
    OrganisationCreate,
    OrganisationKey,
    OrganisationKeyCreate,
    OrganisationKeyPublic,
    OrganisationKind,
    OrganisationPublic,
    OrganisationStatus,
    OrganisationStatusChange,
    as_utc,
)
from credential_service.services.audit import note_for_audit
from credential_service.services.ledger import (
    KeyOnChain,
    TrustLedger,
    chain_time,
    organisation_ledger_id,
)
from wallet_sdk.jose import b64url_decode

VALID_FROM_LEEWAY = timedelta(seconds=60)
"""A requested ``valid_from`` this little before now means now (the request took time)."""

_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)

ACCREDITABLE: dict[OrganisationKind, frozenset[OrganisationKind]] = {
    # The national card service platform is a card issuer accredited by the Ministry itself.
    OrganisationKind.MINISTRY: frozenset({OrganisationKind.PROVINCE, OrganisationKind.CARD_ISSUER}),
    OrganisationKind.PROVINCE: frozenset(
        {
            OrganisationKind.ISSUER,
            OrganisationKind.EMPLOYER,
            OrganisationKind.DATA_USER,
            OrganisationKind.COURT,
            OrganisationKind.CARD_ISSUER,
        }
    ),
}


def credit_code_check_character(first17: str) -> str:
    """The GB 32100-2015 check character of the first 17 characters of a credit code."""
    total = sum(_CODE_ALPHABET.index(c) * w for c, w in zip(first17, _CODE_WEIGHTS, strict=True))
    return _CODE_ALPHABET[(31 - total % 31) % 31]


def validate_credit_code(code: str) -> str:
    """Raise ``InvalidInput`` (``credit_code_invalid``) unless ``code`` is a well-formed unified
    social credit code with a correct check character."""
    if (
        not re.fullmatch(CREDIT_CODE_PATTERN, code)
        or credit_code_check_character(code[:17]) != code[17]
    ):
        raise InvalidInput(
            "not a valid unified social credit code", code=ErrorCode.CREDIT_CODE_INVALID
        )
    return code


def find_organisation(*, session: Session, credit_code: str) -> Organisation | None:
    return session.exec(select(Organisation).where(Organisation.credit_code == credit_code)).first()


def _visible(*, session: Session, actor: Organisation, credit_code: str) -> Organisation:
    """The organisation ``credit_code`` if ``actor`` is it or its accreditor.

    Raises ``NotFound`` when it does not exist and ``Forbidden`` (``tenant_forbidden``) when it
    belongs to another tenant.
    """
    target = find_organisation(session=session, credit_code=credit_code)
    if target is None:
        raise NotFound("no such organisation", code=ErrorCode.ORGANISATION_NOT_FOUND)
    if target.id != actor.id and target.accreditor_id != actor.id:
        raise Forbidden(
            "this organisation belongs to another tenant", code=ErrorCode.TENANT_FORBIDDEN
        )
    return target


def to_public(*, session: Session, organisation: Organisation) -> OrganisationPublic:
    accreditor = (
        session.get(Organisation, organisation.accreditor_id)
        if organisation.accreditor_id is not None
        else None
    )
    return OrganisationPublic(
        name=organisation.name,
        credit_code=organisation.credit_code,
        kind=OrganisationKind(organisation.kind),
        region=organisation.region,
        status=OrganisationStatus(organisation.status),
        status_reason=organisation.status_reason,
        accreditor=accreditor.credit_code if accreditor else None,
        ledger_id=organisation.ledger_id,
        controller_address=organisation.controller_address,
        created_at=as_utc(organisation.created_at),
        updated_at=as_utc(organisation.updated_at),
    )


def key_to_public(*, organisation: Organisation, key: OrganisationKey) -> OrganisationKeyPublic:
    return OrganisationKeyPublic(
        key_id=key.key_id,
        alg=KeyAlgorithm(key.alg),
        organisation=organisation.credit_code,
        purpose=KeyPurpose(key.purpose),
        jwk=key.public_jwk,
        valid_from=as_utc(key.valid_from),
        valid_until=as_utc(key.valid_until) if key.valid_until else None,
        created_at=as_utc(key.created_at),
    )


def ensure_ministry(
    *,
    session: Session,
    ledger: TrustLedger,
    credit_code: str,
    name: str,
    region: int,
    now: datetime,
) -> Organisation:
    """The Ministry row, created on first start. The Ministry itself is accredited by the
    registry's constructor, so nothing is written on chain here."""
    existing = find_organisation(session=session, credit_code=credit_code)
    if existing is not None:
        return existing
    ministry = Organisation(
        credit_code=validate_credit_code(credit_code),
        name=name,
        kind=OrganisationKind.MINISTRY,
        region=region,
        status=OrganisationStatus.ACTIVE,
        ledger_id="0x" + organisation_ledger_id(credit_code).hex(),
        controller_address=ledger.controller_address(credit_code=credit_code),
        created_at=now,
        updated_at=now,
    )
    session.add(ministry)
    session.commit()
    session.refresh(ministry)
    return ministry


_SEVERITY = {
    OrganisationStatus.ACTIVE: 0,
    OrganisationStatus.SUSPENDED: 1,
    OrganisationStatus.REVOKED: 2,
}
_MAX_DEPTH = 8  # the tree is three levels deep; a longer path is a corrupt database


@dataclass(frozen=True)
class AccreditationStanding:
    """An organisation's standing over its whole accreditation path.

    ``status`` is the worst status on the path (the organisation itself, its accreditor, up to
    the Ministry): an organisation is active only while every one of them is. ``cause`` is the
    credit code of the organisation that status comes from (the organisation itself or an
    accreditor), ``accreditors`` the credit codes above it, nearest first.
    """

    credit_code: str
    status: OrganisationStatus
    cause: str
    accreditors: tuple[str, ...]

    @property
    def active(self) -> bool:
        return self.status == OrganisationStatus.ACTIVE

    def reason(self) -> str:
        """Why it is not active, in words: "the organisation is suspended" or "the
        organisation's accreditor <code> is revoked"."""
        if self.cause == self.credit_code:
            return f"the organisation is {self.status}"
        return f"the organisation's accreditor {self.cause} is {self.status}"


def accreditation_standing(
    *, session: Session, organisation: Organisation
) -> AccreditationStanding:
    """The organisation's standing over its accreditation path, as the database has it now.

    Fails closed: an accreditor missing from the database, or a path longer than the tree can
    be, makes the organisation revoked (its cause the organisation itself).
    """
    worst, cause = OrganisationStatus(organisation.status), organisation.credit_code
    accreditors: list[str] = []
    parent_id = organisation.accreditor_id
    while parent_id is not None:
        parent = session.get(Organisation, parent_id)
        if parent is None or len(accreditors) >= _MAX_DEPTH:
            return AccreditationStanding(
                credit_code=organisation.credit_code,
                status=OrganisationStatus.REVOKED,
                cause=organisation.credit_code,
                accreditors=tuple(accreditors),
            )
        accreditors.append(parent.credit_code)
        status = OrganisationStatus(parent.status)
        if _SEVERITY[status] > _SEVERITY[worst]:
            worst, cause = status, parent.credit_code
        parent_id = parent.accreditor_id
    return AccreditationStanding(
        credit_code=organisation.credit_code,
        status=worst,
        cause=cause,
        accreditors=tuple(accreditors),
    )


def require_active_path(
    *,
    session: Session,
    organisation: Organisation,
    role: str,
    error: type[ServiceError],
    code: ErrorCode,
) -> AccreditationStanding:
    """The organisation's `AccreditationStanding` when its whole path is active.

    Raises ``error(code)`` otherwise, its message "the <role> is not active: ..." naming the
    organisation that is not (``detail.inactive`` its credit code).
    """
    standing = accreditation_standing(session=session, organisation=organisation)
    if not standing.active:
        raise error(
            f"the {role} is not active: {standing.reason()}",
            code=code,
            detail={"inactive": standing.cause},
        )
    return standing


def get_organisation(*, session: Session, actor: Organisation, credit_code: str) -> Organisation:
    """Read one organisation: the caller itself or one it accredited."""
    return _visible(session=session, actor=actor, credit_code=credit_code)


def list_accredited(*, session: Session, actor: Organisation) -> list[Organisation]:
    """The organisations ``actor`` accredited, oldest first."""
    return list(
        session.exec(
            select(Organisation)
            .where(Organisation.accreditor_id == actor.id)
            .order_by(col(Organisation.id))
        ).all()
    )


def accredit_organisation(
    *,
    session: Session,
    ledger: TrustLedger,
    accreditor: Organisation,
    request: OrganisationCreate,
    now: datetime,
) -> Organisation:
    """Accredit a new organisation under ``accreditor``, on chain and in the database, and
    register its first keys.

    Raises ``Forbidden`` (``accreditation_not_allowed``) when the accreditor may not accredit
    this kind, ``InvalidInput`` (``credit_code_invalid``, ``region_outside_province``,
    ``jwk_invalid``), ``Conflict`` (``organisation_exists``, ``key_exists``), and the
    ledger's errors.
    """
    # 1. the accreditation tree: Ministry -> Province -> everything else; Ministry -> card platform
    allowed = ACCREDITABLE.get(OrganisationKind(accreditor.kind), frozenset())
    if request.kind not in allowed:
        raise Forbidden(
            f"a {accreditor.kind} may not accredit a {request.kind}",
            code=ErrorCode.ACCREDITATION_NOT_ALLOWED,
        )
    # 2. identity and region
    validate_credit_code(request.credit_code)
    if accreditor.kind == OrganisationKind.PROVINCE and (
        request.region // 10000 != accreditor.region // 10000
    ):
        raise InvalidInput(
            f"region {request.region} is outside province {accreditor.region}",
            code=ErrorCode.REGION_OUTSIDE_PROVINCE,
        )
    # 3. keys parsed before anything is written
    keys = [parse_public_jwk(jwk) for jwk in request.keys]
    if len({k.key_id for k in keys}) != len(keys):
        raise InvalidInput("the same key is listed twice", code=ErrorCode.JWK_INVALID)
    if find_organisation(session=session, credit_code=request.credit_code) is not None:
        raise Conflict("organisation already accredited", code=ErrorCode.ORGANISATION_EXISTS)
    for key in keys:
        _ensure_key_is_new(session=session, key=key)
    # 4. chain first (a retry after a lost database write finds the entity there already)
    controller = ledger.controller_address(credit_code=request.credit_code)
    if ledger.entity_status(credit_code=request.credit_code) is None:
        ledger.accredit(
            accreditor=accreditor.credit_code,
            credit_code=request.credit_code,
            kind=request.kind,
            region=request.region,
            controller=controller,
        )
    organisation = Organisation(
        credit_code=request.credit_code,
        name=request.name,
        kind=request.kind,
        region=request.region,
        accreditor_id=accreditor.id,
        status=OrganisationStatus.ACTIVE,
        ledger_id="0x" + organisation_ledger_id(request.credit_code).hex(),
        controller_address=controller,
        created_at=now,
        updated_at=now,
    )
    session.add(organisation)
    try:
        session.flush()
    except IntegrityError as err:
        session.rollback()
        raise Conflict(
            "organisation already accredited", code=ErrorCode.ORGANISATION_EXISTS
        ) from err
    for key in keys:
        _register_key(
            session=session,
            ledger=ledger,
            organisation=organisation,
            key=key,
            purpose=KeyPurpose.CLIENT_AUTHENTICATION,
            valid_from=None,
            valid_until=None,
            now=now,
        )
    session.commit()
    session.refresh(organisation)
    return organisation


_TRANSITIONS: dict[OrganisationStatus, frozenset[OrganisationStatus]] = {
    OrganisationStatus.ACTIVE: frozenset(
        {OrganisationStatus.SUSPENDED, OrganisationStatus.REVOKED}
    ),
    OrganisationStatus.SUSPENDED: frozenset(
        {OrganisationStatus.ACTIVE, OrganisationStatus.REVOKED}
    ),
    OrganisationStatus.REVOKED: frozenset(),
}


def change_organisation_status(
    *,
    session: Session,
    ledger: TrustLedger,
    accreditor: Organisation,
    credit_code: str,
    change: OrganisationStatusChange,
    now: datetime,
) -> Organisation:
    """Suspend, reinstate or revoke an organisation; only its accreditor may.

    When the chain has the requested status already (an earlier attempt reached the chain and
    its database write was lost), nothing is sent: the status is mirrored into the database
    and the audit entry says so.

    Raises ``NotFound``, ``Forbidden`` (``tenant_forbidden`` when the caller is not the
    accreditor), ``Conflict`` (``status_transition_invalid``; revocation is final) and the
    ledger's errors.
    """
    target = find_organisation(session=session, credit_code=credit_code)
    if target is None:
        raise NotFound("no such organisation", code=ErrorCode.ORGANISATION_NOT_FOUND)
    if target.accreditor_id != accreditor.id:
        raise Forbidden(
            "only the accreditor may change this organisation's status",
            code=ErrorCode.TENANT_FORBIDDEN,
        )
    current = OrganisationStatus(target.status)
    if change.status not in _TRANSITIONS[current]:
        raise Conflict(
            f"cannot change status from {current} to {change.status}",
            code=ErrorCode.STATUS_TRANSITION_INVALID,
        )
    if ledger.entity_status(credit_code=credit_code) == change.status:
        note_for_audit(f"status {change.status} already on chain; mirrored into the database")
    else:
        ledger.set_status(
            accreditor=accreditor.credit_code,
            credit_code=credit_code,
            status=change.status,
            reason=change.reason,
        )
    target.status = change.status
    target.status_reason = change.reason
    target.updated_at = now
    session.add(target)
    session.commit()
    session.refresh(target)
    return target


def list_keys(
    *, session: Session, actor: Organisation, credit_code: str
) -> tuple[Organisation, list[OrganisationKey]]:
    organisation = _visible(session=session, actor=actor, credit_code=credit_code)
    keys = session.exec(
        select(OrganisationKey)
        .where(OrganisationKey.organisation_id == organisation.id)
        .order_by(col(OrganisationKey.id))
    ).all()
    return organisation, list(keys)


def register_organisation_key(
    *,
    session: Session,
    ledger: TrustLedger,
    actor: Organisation,
    credit_code: str,
    request: OrganisationKeyCreate,
    now: datetime,
) -> tuple[Organisation, OrganisationKey]:
    """Register a public key for an organisation (by itself or its accreditor), on chain
    with ``keyId`` = the RFC 7638 thumbprint.

    Raises ``InvalidInput`` (``jwk_invalid``, ``jwk_private_material``,
    ``key_validity_invalid``), ``Conflict`` (``key_exists``), ``NotFound``, ``Forbidden``.
    """
    organisation = _visible(session=session, actor=actor, credit_code=credit_code)
    key = parse_public_jwk(request.jwk)
    valid_from = as_utc(request.valid_from) if request.valid_from else None
    valid_until = as_utc(request.valid_until) if request.valid_until else None
    if valid_from is not None and valid_from < now - VALID_FROM_LEEWAY:
        raise InvalidInput(
            "valid_from lies in the past: a key is valid from its registration on chain at "
            "the earliest (leave valid_from out to start it now)",
            code=ErrorCode.KEY_VALIDITY_INVALID,
            detail={"valid_from": valid_from.isoformat(), "now": now.isoformat()},
        )
    if valid_from is not None and valid_from <= now:
        valid_from = None  # "now", as the chain's registration block sees it
    if valid_until is not None and valid_until <= (valid_from or now):
        raise InvalidInput(
            "valid_until must be after valid_from", code=ErrorCode.KEY_VALIDITY_INVALID
        )
    if (valid_from and valid_from.timestamp() >= 2**64) or (
        valid_until and valid_until.timestamp() >= 2**64
    ):
        raise InvalidInput("validity out of range", code=ErrorCode.KEY_VALIDITY_INVALID)
    _ensure_key_is_new(session=session, key=key)
    stored = _register_key(
        session=session,
        ledger=ledger,
        organisation=organisation,
        key=key,
        purpose=request.purpose,
        valid_from=valid_from,
        valid_until=valid_until,
        now=now,
    )
    session.commit()
    session.refresh(stored)
    return organisation, stored


def _ensure_key_is_new(*, session: Session, key: OrganisationPublicKey) -> None:
    exists = session.exec(
        select(OrganisationKey.id).where(OrganisationKey.key_id == key.key_id)
    ).first()
    if exists is not None:
        raise Conflict("this key is already registered", code=ErrorCode.KEY_EXISTS)


def _register_key(
    *,
    session: Session,
    ledger: TrustLedger,
    organisation: Organisation,
    key: OrganisationPublicKey,
    purpose: KeyPurpose,
    valid_from: datetime | None,
    valid_until: datetime | None,
    now: datetime,
) -> OrganisationKey:
    on_chain = ledger.key_on_chain(key_id=key.key_id_bytes)
    if on_chain is None:
        ledger.register_key(
            credit_code=organisation.credit_code,
            key=key,
            purpose=purpose,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        on_chain = ledger.key_on_chain(key_id=key.key_id_bytes)
        assert on_chain is not None
    elif on_chain.entity_id == organisation_ledger_id(organisation.credit_code):
        # An earlier attempt registered it and lost its database write.
        note_for_audit(f"key {key.key_id} already on chain; mirrored into the database")
    else:
        raise Conflict(
            "this key is registered on chain for another organisation", code=ErrorCode.KEY_EXISTS
        )
    if on_chain.purpose is not purpose:
        raise Conflict(
            f"this key is registered on chain for another purpose than {purpose}",
            code=ErrorCode.KEY_EXISTS,
        )
    assert organisation.id is not None
    # The chain's validity is the truth (it starts at the registration block at the earliest);
    # "from now" is now here too, whatever a development chain's clock says.
    starts = datetime.fromtimestamp(on_chain.valid_from, tz=UTC)
    if valid_from is None:
        starts = min(starts, now)
    stored = OrganisationKey(
        organisation_id=organisation.id,
        key_id=key.key_id,
        alg=key.alg,
        purpose=purpose.value,
        public_jwk=key.jwk,
        valid_from=starts,
        valid_until=on_chain.mirrored_until(),
        created_at=now,
    )
    session.add(stored)
    try:
        session.flush()
    except IntegrityError as err:
        session.rollback()
        raise Conflict("this key is already registered", code=ErrorCode.KEY_EXISTS) from err
    return stored


# ---------------------------------------------------------------------------- ending keys


def _find_key(*, session: Session, organisation: Organisation, key_id: str) -> OrganisationKey:
    """The key ``key_id`` of ``organisation``; ``NotFound`` (``key_not_found``) when it has no
    such key (another organisation's key included)."""
    key = session.exec(
        select(OrganisationKey).where(
            OrganisationKey.key_id == key_id, OrganisationKey.organisation_id == organisation.id
        )
    ).first()
    if key is None:
        raise NotFound("this organisation has no such key", code=ErrorCode.KEY_NOT_FOUND)
    return key


def _requested_time(value: datetime | None, *, now: datetime, name: str) -> datetime:
    """``value`` in UTC (``now`` when absent); ``InvalidInput`` when it cannot be one."""
    if value is None:
        return now
    try:
        utc = as_utc(value)
        utc.timestamp()
    except (OverflowError, ValueError, OSError) as err:
        raise InvalidInput(f"{name} out of range", code=ErrorCode.KEY_VALIDITY_INVALID) from err
    return utc


def _valid_at(key: OrganisationKey, now: datetime) -> bool:
    return as_utc(key.valid_from) <= now and (
        key.valid_until is None or now < as_utc(key.valid_until)
    )


def _ensure_not_last(
    *,
    session: Session,
    organisation: Organisation,
    key: OrganisationKey,
    allow_last: bool,
    now: datetime,
) -> None:
    """Refuse to end the organisation's last valid key unless ``allow_last``: without a valid
    key it cannot obtain access tokens any more, and only its accreditor can register a new
    one for it. A key that is no longer valid can always be revoked (backdating a compromise)."""
    if allow_last or not _valid_at(key, now):
        return
    others = session.exec(
        select(OrganisationKey).where(
            OrganisationKey.organisation_id == organisation.id, OrganisationKey.id != key.id
        )
    ).all()
    if not any(_valid_at(other, now) for other in others):
        raise Conflict(
            "this is the organisation's last valid key; pass allow_last to end it anyway",
            code=ErrorCode.LAST_ACTIVE_KEY,
        )


def _key_on_chain(
    *, ledger: TrustLedger, organisation: Organisation, key: OrganisationKey
) -> KeyOnChain:
    on_chain = ledger.key_on_chain(key_id=b64url_decode(key.key_id))
    if on_chain is None or on_chain.entity_id != organisation_ledger_id(organisation.credit_code):
        # The chain is written before the database, so this means another deployment.
        raise LedgerRejected(
            "the key is not registered on chain for this organisation",
            code=ErrorCode.CHAIN_REJECTED,
            detail={"key_id": key.key_id},
        )
    return on_chain


def _mirror(
    *,
    session: Session,
    key: OrganisationKey,
    on_chain: KeyOnChain,
    not_after: datetime | None = None,
) -> OrganisationKey:
    key.valid_until = on_chain.mirrored_until()
    if not_after is not None and (key.valid_until is None or not_after < key.valid_until):
        key.valid_until = not_after
    session.add(key)
    session.commit()
    session.refresh(key)
    return key


def end_organisation_key(
    *,
    session: Session,
    ledger: TrustLedger,
    actor: Organisation,
    credit_code: str,
    key_id: str,
    valid_until: datetime | None,
    allow_last: bool,
    now: datetime,
) -> tuple[Organisation, OrganisationKey]:
    """End a key's validity at ``valid_until`` (default now; never in the past): rotation, by
    the organisation itself or its accreditor. Signatures made before that time still verify
    "as of" then; access tokens obtained with the key stop working at that time.

    Idempotent: a key that already ends at or before that time (on chain) is left as it is and
    the database mirrors the chain.

    Raises ``NotFound`` (``organisation_not_found``, ``key_not_found``), ``Forbidden``
    (``tenant_forbidden``), ``InvalidInput`` (``key_validity_invalid``), ``Conflict``
    (``last_active_key``) and the ledger's errors.
    """
    organisation = _visible(session=session, actor=actor, credit_code=credit_code)
    key = _find_key(session=session, organisation=organisation, key_id=key_id)
    until = _requested_time(valid_until, now=now, name="valid_until")
    if until < now:
        raise InvalidInput(
            "valid_until lies in the past; revoke the key to end it from an earlier time",
            code=ErrorCode.KEY_VALIDITY_INVALID,
        )
    if until.timestamp() >= 2**64:
        raise InvalidInput("validity out of range", code=ErrorCode.KEY_VALIDITY_INVALID)
    at = chain_time(until)
    _ensure_not_last(
        session=session, organisation=organisation, key=key, allow_last=allow_last, now=now
    )
    on_chain = _key_on_chain(ledger=ledger, organisation=organisation, key=key)
    ends = on_chain.ends_at
    not_after = None
    if ends is not None and ends <= at:
        note_for_audit(f"key {key.key_id} already ends at {ends} on chain; mirrored")
    else:
        if valid_until is None and at <= on_chain.valid_from:
            # "Now", on a chain whose clock runs ahead of ours: a key valid from its
            # registration block ends on chain at the first second the chain allows, and
            # here now.
            at, not_after = on_chain.valid_from + 1, now
        if at <= on_chain.valid_from:
            raise InvalidInput(
                "a key cannot end before its validity starts; revoke it instead",
                code=ErrorCode.KEY_VALIDITY_INVALID,
            )
        ledger.end_key_validity(
            actor=actor.credit_code, key_id=b64url_decode(key_id), valid_until=at
        )
        on_chain = replace(on_chain, valid_until=at)
        note_for_audit(f"key {key.key_id} valid until {at}")
    return organisation, _mirror(session=session, key=key, on_chain=on_chain, not_after=not_after)


def revoke_organisation_key(
    *,
    session: Session,
    ledger: TrustLedger,
    actor: Organisation,
    credit_code: str,
    key_id: str,
    compromised_at: datetime | None,
    reason: int,
    allow_last: bool,
    now: datetime,
) -> tuple[Organisation, OrganisationKey]:
    """Revoke a key from ``compromised_at`` (default now; may lie in the past, never in the
    future): compromise, by the organisation itself or its accreditor. On chain the key stops
    verifying from that time; here its ``valid_until`` becomes that time, so assertions signed
    with it are refused (``client_key_revoked``) and so are access tokens obtained with it.
    The reason code is recorded in the audit trail (``TrustRegistry.revokeKey`` takes none).

    Idempotent: a key already revoked on chain at or before that time is left as it is (an
    earlier time moves the revocation earlier) and the database mirrors the chain.

    Raises ``NotFound`` (``organisation_not_found``, ``key_not_found``), ``Forbidden``
    (``tenant_forbidden``), ``InvalidInput`` (``key_validity_invalid``), ``Conflict``
    (``last_active_key``) and the ledger's errors.
    """
    organisation = _visible(session=session, actor=actor, credit_code=credit_code)
    key = _find_key(session=session, organisation=organisation, key_id=key_id)
    since = _requested_time(compromised_at, now=now, name="compromised_at")
    if since > now:
        raise InvalidInput(
            "compromised_at lies in the future; end the key's validity instead",
            code=ErrorCode.KEY_VALIDITY_INVALID,
        )
    if since.timestamp() < 1:
        raise InvalidInput("compromised_at out of range", code=ErrorCode.KEY_VALIDITY_INVALID)
    at = chain_time(since)
    _ensure_not_last(
        session=session, organisation=organisation, key=key, allow_last=allow_last, now=now
    )
    on_chain = _key_on_chain(ledger=ledger, organisation=organisation, key=key)
    if 0 < on_chain.revoked_at <= at:
        note_for_audit(
            f"key {key.key_id} already revoked from {on_chain.revoked_at} on chain; mirrored"
        )
    else:
        ledger.revoke_key(actor=actor.credit_code, key_id=b64url_decode(key_id), revoked_at=at)
        # The contract takes a time after its block as the block: read back what it holds.
        on_chain = _key_on_chain(ledger=ledger, organisation=organisation, key=key)
        note_for_audit(f"key {key.key_id} revoked from {at}, reason {reason}")
    return organisation, _mirror(session=session, key=key, on_chain=on_chain)
