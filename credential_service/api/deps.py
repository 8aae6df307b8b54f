"""Request dependencies, as ``Annotated`` aliases the routes declare."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from credential_service.consent.context import ConsentContext
from credential_service.context import ServiceContext
from credential_service.errors import ErrorCode, Forbidden, NotAuthenticated
from credential_service.login.service import Cardholder, authenticate_cardholder_token
from credential_service.models import Organisation
from credential_service.services.ledger import TrustLedger
from credential_service.services.tokens import Principal, authenticate_access_token

_bearer = HTTPBearer(auto_error=False, description="Access token from POST /v1/auth/token")


def get_context(request: Request) -> ServiceContext:
    context: ServiceContext = request.app.state.context
    return context


ContextDep = Annotated[ServiceContext, Depends(get_context)]


def get_session(context: ContextDep) -> Iterator[Session]:
    with Session(context.engine, expire_on_commit=False) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_ledger(context: ContextDep) -> TrustLedger:
    return context.ledger


LedgerDep = Annotated[TrustLedger, Depends(get_ledger)]


def get_now() -> datetime:
    return datetime.now(UTC)


NowDep = Annotated[datetime, Depends(get_now)]


def get_principal(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The organisation behind the bearer token; one opaque 401 for every failure."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated()
    principal = authenticate_access_token(
        session=session,
        policy=context.token_policy,
        token_key=context.token_key,
        token=credentials.credentials,
    )
    request.state.actor = principal.credit_code
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def get_current_org(principal: CurrentPrincipal, session: SessionDep) -> Organisation:
    organisation = session.get(Organisation, principal.organisation_id)
    if organisation is None:
        raise NotAuthenticated()
    return organisation


CurrentOrg = Annotated[Organisation, Depends(get_current_org)]


def require_scope(scope: str) -> Callable[[Principal], Principal]:
    """A dependency that lets the request through only with ``scope`` in its token."""

    def check(principal: CurrentPrincipal) -> Principal:
        if scope not in principal.scopes:
            raise Forbidden(f"this needs the {scope} scope", code=ErrorCode.SCOPE_MISSING)
        return principal

    return check


# ---------------------------------------------------------------------------- cardholders
# Cardholders log in by QR (credential_service.login); their tokens carry another ``typ`` than
# organisations' access tokens, so neither kind of token passes for the other.


def get_cardholder(
    request: Request,
    context: ContextDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Cardholder:
    """The cardholder behind a cardholder token; one opaque 401 for every failure."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated()
    cardholder = authenticate_cardholder_token(
        policy=context.token_policy, token_key=context.token_key, token=credentials.credentials
    )
    request.state.actor = cardholder.address
    return cardholder


CurrentCardholder = Annotated[Cardholder, Depends(get_cardholder)]


def get_consent_context(request: Request, context: ContextDep) -> ConsentContext:
    """The consent ledger and signer, built once per app (tests may set
    ``app.state.consent_context`` beforehand)."""
    existing: ConsentContext | None = getattr(request.app.state, "consent_context", None)
    if existing is None:
        existing = ConsentContext.from_service(context)
        request.app.state.consent_context = existing
    return existing


ConsentContextDep = Annotated[ConsentContext, Depends(get_consent_context)]
