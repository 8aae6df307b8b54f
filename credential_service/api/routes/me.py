"""The cardholder's own view: all their consents and every use checked under them."""

from __future__ import annotations

from fastapi import APIRouter

from credential_service.api.deps import ConsentContextDep, CurrentCardholder, SessionDep
from credential_service.cards.service import holder_predecessors
from credential_service.consent import service
from credential_service.consent.models import ConsentPublic, DataUsePublic
from credential_service.errors import ErrorCode, Forbidden

router = APIRouter(prefix="/v1/me", tags=["cardholder"])


def _readable(scopes: frozenset[str]) -> None:
    if "me:read" not in scopes:
        raise Forbidden("this needs the me:read scope", code=ErrorCode.SCOPE_MISSING)


@router.get("/consents", response_model=list[ConsentPublic])
def my_consents(
    session: SessionDep, consent: ConsentContextDep, cardholder: CurrentCardholder
) -> list[ConsentPublic]:
    """Every consent the cardholder granted, with its receipts, and those granted with the
    person's earlier phones (``earlier_phone``: holder addresses the cardholder succeeds)."""
    _readable(cardholder.scopes)
    return service.list_holder_consents(
        session=session,
        signer=consent.signer,
        holder=cardholder.address,
        earlier=holder_predecessors(session=session, holder=cardholder.address),
    )


@router.get("/data-use", response_model=list[DataUsePublic])
def my_data_use(session: SessionDep, cardholder: CurrentCardholder) -> list[DataUsePublic]:
    """Every check a data user made against the cardholder's consents (those of the person's
    earlier phones included), allowed or denied."""
    _readable(cardholder.scopes)
    return service.list_holder_data_use(
        session=session,
        holder=cardholder.address,
        earlier=holder_predecessors(session=session, holder=cardholder.address),
    )
