"""Organisations: accreditation, status, keys. Every route checks scope and tenant."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from pydantic import BaseModel, ConfigDict, Field

from credential_service.api.deps import (
    CurrentOrg,
    LedgerDep,
    NowDep,
    SessionDep,
    require_scope,
    standing_cache,
)
from credential_service.api.routes.credentials import RuntimeDep
from credential_service.models import (
    CREDIT_CODE_PATTERN,
    OrganisationCreate,
    OrganisationKeyCreate,
    OrganisationKeyPublic,
    OrganisationPublic,
    OrganisationStatusChange,
)
from credential_service.services import organisations as service

router = APIRouter(prefix="/v1/organisations", tags=["organisations"])

CreditCode = Annotated[
    str, Path(pattern=CREDIT_CODE_PATTERN, description="unified social credit code")
]
KeyId = Annotated[
    str,
    Path(
        pattern=r"^[A-Za-z0-9_-]{43}$",
        description="the key's RFC 7638 thumbprint (SHA-256, base64url)",
    ),
]


class KeyValidityEnd(BaseModel):
    """Rotation: the key stops being valid at ``valid_until`` (default now; not in the
    past). ``allow_last`` lets an organisation end its last valid key."""

    model_config = ConfigDict(extra="forbid")

    valid_until: datetime | None = None
    allow_last: bool = False


class KeyRevocation(BaseModel):
    """Compromise: the key is untrusted from ``compromised_at`` (RFC 3339, default now; may
    lie in the past, not in the future), for ``reason`` (a code, kept in the audit trail).
    ``allow_last`` lets an organisation revoke its last valid key."""

    model_config = ConfigDict(extra="forbid")

    reason: int = Field(default=0, ge=0, le=65535)
    compromised_at: datetime | None = None
    allow_last: bool = False


_read = Depends(require_scope("organisations:read"))
_accredit = Depends(require_scope("organisations:accredit"))
_status = Depends(require_scope("organisations:status"))
_keys = Depends(require_scope("keys:write"))


@router.get("/me", response_model=OrganisationPublic, dependencies=[_read])
def read_own_organisation(session: SessionDep, actor: CurrentOrg) -> OrganisationPublic:
    """The calling organisation."""
    return service.to_public(session=session, organisation=actor)


@router.get("", response_model=list[OrganisationPublic], dependencies=[_read])
def list_accredited_organisations(
    session: SessionDep, actor: CurrentOrg
) -> list[OrganisationPublic]:
    """The organisations the caller accredited."""
    return [
        service.to_public(session=session, organisation=o)
        for o in service.list_accredited(session=session, actor=actor)
    ]


@router.post("", response_model=OrganisationPublic, status_code=201, dependencies=[_accredit])
def accredit_organisation(
    body: OrganisationCreate,
    session: SessionDep,
    ledger: LedgerDep,
    actor: CurrentOrg,
    now: NowDep,
) -> OrganisationPublic:
    """Accredit an organisation under the caller (Ministry: provinces; province: issuers,
    employers, data users and courts of its region), on chain and here."""
    created = service.accredit_organisation(
        session=session, ledger=ledger, accreditor=actor, request=body, now=now
    )
    return service.to_public(session=session, organisation=created)


@router.get("/{credit_code}", response_model=OrganisationPublic, dependencies=[_read])
def read_organisation(
    credit_code: CreditCode, session: SessionDep, actor: CurrentOrg
) -> OrganisationPublic:
    """One organisation: the caller or one it accredited."""
    found = service.get_organisation(session=session, actor=actor, credit_code=credit_code)
    return service.to_public(session=session, organisation=found)


@router.post("/{credit_code}/status", response_model=OrganisationPublic, dependencies=[_status])
def change_organisation_status(
    request: Request,
    credit_code: CreditCode,
    body: OrganisationStatusChange,
    session: SessionDep,
    ledger: LedgerDep,
    actor: CurrentOrg,
    now: NowDep,
    runtime: RuntimeDep,
) -> OrganisationPublic:
    """Suspend, reinstate or revoke (final) an organisation the caller accredited."""
    changed = service.change_organisation_status(
        session=session,
        ledger=ledger,
        accreditor=actor,
        credit_code=credit_code,
        change=body,
        now=now,
    )
    standing_cache(request).forget(changed.credit_code)  # this worker sees it at once
    runtime.saw_chain_write()  # and so does its verifier (card proofs judge issuers now)
    return service.to_public(session=session, organisation=changed)


@router.get("/{credit_code}/keys", response_model=list[OrganisationKeyPublic], dependencies=[_read])
def list_organisation_keys(
    credit_code: CreditCode, session: SessionDep, actor: CurrentOrg
) -> list[OrganisationKeyPublic]:
    organisation, keys = service.list_keys(session=session, actor=actor, credit_code=credit_code)
    return [service.key_to_public(organisation=organisation, key=k) for k in keys]


@router.post(
    "/{credit_code}/keys",
    response_model=OrganisationKeyPublic,
    status_code=201,
    dependencies=[_keys],
)
def register_organisation_key(
    request: Request,
    credit_code: CreditCode,
    body: OrganisationKeyCreate,
    session: SessionDep,
    ledger: LedgerDep,
    actor: CurrentOrg,
    now: NowDep,
) -> OrganisationKeyPublic:
    """Register an Ed25519, P-256, P-384, P-521 or SM2 public JWK for the caller or an
    organisation it accredited; on chain its keyId is the RFC 7638 thumbprint."""
    organisation, key = service.register_organisation_key(
        session=session,
        ledger=ledger,
        actor=actor,
        credit_code=credit_code,
        request=body,
        now=now,
    )
    standing_cache(request).forget(organisation.credit_code)  # its tokens pass at once
    return service.key_to_public(organisation=organisation, key=key)


@router.post(
    "/{credit_code}/keys/{key_id}/end",
    response_model=OrganisationKeyPublic,
    dependencies=[_keys],
)
def end_organisation_key(
    request: Request,
    credit_code: CreditCode,
    key_id: KeyId,
    body: KeyValidityEnd,
    session: SessionDep,
    ledger: LedgerDep,
    actor: CurrentOrg,
    now: NowDep,
) -> OrganisationKeyPublic:
    """End a key's validity (rotation), on chain then here, for the caller or an organisation
    it accredited. Assertions signed with it are then refused (``client_key_expired``) and so
    are access tokens obtained with it. Ending a key that already ends by then changes nothing
    and succeeds."""
    organisation, key = service.end_organisation_key(
        session=session,
        ledger=ledger,
        actor=actor,
        credit_code=credit_code,
        key_id=key_id,
        valid_until=body.valid_until,
        allow_last=body.allow_last,
        now=now,
    )
    standing_cache(request).forget(organisation.credit_code)  # this worker sees it at once
    return service.key_to_public(organisation=organisation, key=key)


@router.post(
    "/{credit_code}/keys/{key_id}/revoke",
    response_model=OrganisationKeyPublic,
    dependencies=[_keys],
)
def revoke_organisation_key(
    request: Request,
    credit_code: CreditCode,
    key_id: KeyId,
    body: KeyRevocation,
    session: SessionDep,
    ledger: LedgerDep,
    actor: CurrentOrg,
    now: NowDep,
) -> OrganisationKeyPublic:
    """Revoke a key from the time it was compromised, on chain then here, for the caller or an
    organisation it accredited. Assertions signed with it are then refused
    (``client_key_revoked``) and so are access tokens obtained with it. Revoking again from the
    same or a later time changes nothing and succeeds; from an earlier time, moves it earlier."""
    organisation, key = service.revoke_organisation_key(
        session=session,
        ledger=ledger,
        actor=actor,
        credit_code=credit_code,
        key_id=key_id,
        compromised_at=body.compromised_at,
        reason=body.reason,
        allow_last=body.allow_last,
        now=now,
    )
    standing_cache(request).forget(organisation.credit_code)  # this worker sees it at once
    return service.key_to_public(organisation=organisation, key=key)
