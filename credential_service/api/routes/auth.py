"""POST /v1/auth/token: OAuth2 client credentials with private_key_jwt (RFC 7523)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, Response

from credential_service.api.deps import ContextDep, NowDep, SessionDep
from credential_service.models import AccessTokenPublic
from credential_service.services.tokens import issue_access_token

router = APIRouter(prefix="/v1/auth", tags=["auth"])

_OAUTH_ERROR = {
    "description": "RFC 6749 section 5.2 error, plus code, message and detail",
    "content": {"application/json": {}},
}


@router.post(
    "/token",
    response_model=AccessTokenPublic,
    responses={400: _OAUTH_ERROR, 401: _OAUTH_ERROR},
)
def token(
    request: Request,
    response: Response,
    context: ContextDep,
    session: SessionDep,
    now: NowDep,
    grant_type: Annotated[str | None, Form(max_length=64)] = None,
    client_assertion_type: Annotated[str | None, Form(max_length=128)] = None,
    client_assertion: Annotated[str | None, Form(max_length=8192)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    scope: Annotated[str | None, Form(max_length=1024)] = None,
) -> AccessTokenPublic:
    """Exchange a signed client assertion (iss = sub = client_id, aud = this endpoint's URL,
    exp, iat, jti) for a short-lived access token."""
    issued = issue_access_token(
        session=session,
        ledger=context.ledger,
        policy=context.token_policy,
        token_key=context.token_key,
        grant_type=grant_type,
        client_assertion_type=client_assertion_type,
        client_assertion=client_assertion,
        client_id=client_id,
        scope=scope,
        now=now,
    )
    request.state.actor = issued.client_id
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return issued.response
