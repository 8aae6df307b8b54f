"""Request dependencies, as ``Annotated`` aliases the routes declare."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from credential_service.api.hardening import bearer_token
from credential_service.consent.context import ConsentContext
from credential_service.context import ServiceContext
from credential_service.errors import ErrorCode, Forbidden, NotAuthenticated
from credential_service.login.service import Cardholder, authenticate_cardholder_token
from credential_service.models import Organisation
from credential_service.services.ledger import TrustLedger
from credential_service.services.tokens import (
    OrganisationStanding,
    OrganisationStandingCache,
    Principal,
    VerifiedTokenCache,
    authenticate_access_token,
    decode_access_token,
    principal_of,
    read_standing,
)

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


def standing_cache(request: Request) -> OrganisationStandingCache:
    """The app's organisation-standing cache (one per app, so per worker process; tests may
    set ``app.state.standing_cache`` beforehand)."""
    cache: OrganisationStandingCache | None = getattr(request.app.state, "standing_cache", None)
    if cache is None:
        cache = OrganisationStandingCache()
        request.app.state.standing_cache = cache
    return cache


def _verified_tokens(request: Request, context: ServiceContext) -> VerifiedTokenCache:
    cache: VerifiedTokenCache | None = getattr(request.app.state, "verified_tokens", None)
    if cache is None:
        cache = VerifiedTokenCache(leeway=context.token_policy.leeway)
        request.app.state.verified_tokens = cache
    return cache


def _read_standing(context: ServiceContext, credit_code: str) -> OrganisationStanding | None:
    with Session(context.engine, expire_on_commit=False) as session:
        return read_standing(session=session, credit_code=credit_code)


async def _refresh_standing(
    request: Request, context: ServiceContext, credit_code: str
) -> OrganisationStanding | None:
    """Read one organisation's standing into the cache, once for all the requests that miss
    it together (when an entry expires under load, every request in flight misses at once and
    would otherwise each take a database connection)."""
    pending: dict[str, asyncio.Future[OrganisationStanding | None]] | None = getattr(
        request.app.state, "standing_reads", None
    )
    if pending is None:
        pending = request.app.state.standing_reads = {}
    read = pending.get(credit_code)
    if read is None:
        cache = standing_cache(request)

        async def load() -> OrganisationStanding | None:
            try:
                found = await run_in_threadpool(_read_standing, context, credit_code)
                if found is not None:
                    cache.put(found)
                return found
            finally:
                pending.pop(credit_code, None)

        read = pending[credit_code] = asyncio.ensure_future(load())
    # shielded: a waiter whose client went away must not cancel the read the others await
    return await asyncio.shield(read)


async def get_cached_principal(request: Request) -> Principal:
    """The organisation behind the bearer token, for read-only routes on the hot path
    (verification); one opaque 401 for every failure.

    Runs on the event loop: the token check is CPU only (and done once per token, then its
    claims are kept until it expires), and the organisation's standing comes
    from `OrganisationStandingCache`, so a suspension or revocation, or a client key ended or
    revoked, by another worker is seen within its TTL (2 s; in this worker at once). Only a
    cache miss (or a token of a key the cached entry does not know) reads the database, in
    the thread pool. Routes that change state use `CurrentPrincipal`/`CurrentOrg`, which
    read the database on every request.

    The ``Authorization`` header is read here rather than through FastAPI's ``HTTPBearer``
    dependency: on the hot path each dependency FastAPI solves costs more than the token
    check (routes using this declare the scheme with `BEARER_SECURITY`).
    """
    token = bearer_token(request.scope)
    if token is None:
        raise NotAuthenticated()
    context: ServiceContext = request.app.state.context
    verified = _verified_tokens(request, context)
    claims = verified.get(token)
    if claims is None:
        claims = decode_access_token(
            policy=context.token_policy, token_key=context.token_key, token=token
        )
        verified.put(token, claims)
    standing = standing_cache(request).get(claims.subject)
    if standing is not None and claims.client_key not in standing.key_ends:
        standing = None  # a key registered after the entry was cached: read it anew
    if standing is None:
        standing = await _refresh_standing(request, context, claims.subject)
    principal = principal_of(claims=claims, standing=standing)
    request.state.actor = principal.credit_code
    return principal


BEARER_SECURITY: dict[str, Any] = {"security": [{"HTTPBearer": []}]}
"""``openapi_extra`` for a route that authenticates with `get_cached_principal`: the same
security requirement the ``HTTPBearer`` dependency declares for every other route."""


def get_current_org(principal: CurrentPrincipal, session: SessionDep) -> Organisation:
    organisation = session.get(Organisation, principal.organisation_id)
    if organisation is None:
        raise NotAuthenticated()
    return organisation


CurrentOrg = Annotated[Organisation, Depends(get_current_org)]


def get_optional_org(
    request: Request,
    context: ContextDep,
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Organisation | None:
    """The organisation behind the bearer token when one is sent (a bad one is the same 401
    as everywhere), ``None`` for an anonymous request."""
    if credentials is None:
        return None
    principal = get_principal(request, context, session, credentials)
    return get_current_org(principal, session)


OptionalOrg = Annotated[Organisation | None, Depends(get_optional_org)]


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
