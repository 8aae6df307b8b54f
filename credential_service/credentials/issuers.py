"""Who issues what: the issuing organisations (an issuer or card issuer whose accreditation
path is active), who may manage an issuer's keys and credentials (the issuer or its
accreditor), the credential types and the accreditation of issuers for them on chain.

Every function raises only `ServiceError` subclasses.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import ErrorCode, Forbidden, InvalidInput, NotFound
from credential_service.models import Organisation, OrganisationKind
from credential_service.services.organisations import require_active_path
from wallet_sdk import FormatError
from wallet_sdk.credentials import SOCIAL_SECURITY_CARD, CredentialType

__all__ = [
    "ISSUING_KINDS",
    "accredit_credential_type",
    "entity_id",
    "issue_time",
    "known_type",
    "may_manage",
    "require_active_issuer",
    "require_card_issuer",
]


def entity_id(organisation: Organisation) -> bytes:
    """The organisation's id in the registries (``organisation.ledger_id``)."""
    return bytes.fromhex(organisation.ledger_id.removeprefix("0x"))


def issue_time(runtime: CredentialRuntime, now: datetime) -> int:
    """`now` in unix seconds, or the chain head's time when that is later."""
    # Issue times are compared with block timestamps on chain; a chain whose clock runs ahead
    # of ours (development chains) must not make fresh accreditations look like the future.
    head = runtime.ledger.head_time()
    return max(int(now.timestamp()), head)


ISSUING_KINDS = frozenset({OrganisationKind.ISSUER, OrganisationKind.CARD_ISSUER})


def require_active_issuer(*, session: Session, issuer: Organisation) -> None:
    """Refuse anyone but an issuer or card issuer whose whole accreditation path is active
    (``Forbidden``, ``issuer_not_accredited``, naming what is not active)."""
    if issuer.kind not in ISSUING_KINDS:
        raise Forbidden("only issuers issue credentials", code=ErrorCode.TENANT_FORBIDDEN)
    require_active_path(
        session=session,
        organisation=issuer,
        role="issuer",
        error=Forbidden,
        code=ErrorCode.ISSUER_NOT_ACCREDITED,
    )


def may_manage(actor: Organisation, issuer: Organisation) -> bool:
    """The issuer itself or its accreditor (the province)."""
    return actor.id == issuer.id or (
        issuer.accreditor_id is not None and actor.id == issuer.accreditor_id
    )


def known_type(runtime: CredentialRuntime, term: str) -> CredentialType:
    """The credential type `term`. Raises `InvalidInput` (``credential_type_unknown``)."""
    try:
        return runtime.types.get(term)
    except FormatError as err:
        raise InvalidInput(
            f"unknown credential type {term!r}",
            code=ErrorCode.CREDENTIAL_TYPE_UNKNOWN,
            detail={"known": sorted(t.term for t in runtime.types)},
        ) from err


def require_card_issuer(issuer: Organisation, term: str) -> None:
    """Only a card issuer issues the e-card type (``Forbidden``, ``card_issuer_required``); the
    contract enforces it too, where the type is accredited."""
    if term == SOCIAL_SECURITY_CARD and issuer.kind != OrganisationKind.CARD_ISSUER:
        raise Forbidden(
            f"only a card issuer (card service platform or card centre) issues {term}",
            code=ErrorCode.CARD_ISSUER_REQUIRED,
            detail={"type": term, "issuer_kind": str(issuer.kind)},
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
    credential_type = known_type(runtime, term)
    issuer = session.exec(
        select(Organisation).where(Organisation.credit_code == issuer_credit_code)
    ).first()
    if issuer is None or issuer.accreditor_id != actor.id:
        raise NotFound(
            "no such organisation accredited by the caller", code=ErrorCode.ORGANISATION_NOT_FOUND
        )
    if issuer.kind not in ISSUING_KINDS:
        raise InvalidInput(
            "only issuers and card issuers are accredited for credential types",
            code=ErrorCode.ACCREDITATION_NOT_ALLOWED,
        )
    if allowed:  # the contract refuses it too (CardTypeNotAllowedForKind)
        require_card_issuer(issuer, credential_type.term)
    runtime.ledger.set_credential_type(
        actor=actor.credit_code,
        entity=entity_id(issuer),
        type_id=credential_type.type_id,
        allowed=allowed,
    )
    return {
        "issuer": issuer.credit_code,
        "type": credential_type.term,
        "type_id": "0x" + credential_type.type_id.hex(),
        "allowed": allowed,
    }
