"""QR login for cardholders (电子社保卡扫码登录)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from credential_service.api.deps import ConsentContextDep, ContextDep, NowDep, SessionDep
from credential_service.login import service
from credential_service.login.models import (
    CardholderTokenPublic,
    LoginChallengePublic,
    LoginPoll,
    LoginResponseSubmit,
)

router = APIRouter(prefix="/v1/login", tags=["login"])

ChallengeId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


@router.post("/challenges", response_model=LoginChallengePublic, status_code=201)
def create_challenge(
    session: SessionDep, consent: ConsentContextDep, now: NowDep
) -> LoginChallengePublic:
    """A login challenge to show as a QR code; ``poll_secret`` lets this screen collect the
    token once the wallet has answered."""
    return service.create_login_challenge(
        session=session, signer=consent.signer, now=int(now.timestamp())
    )


@router.post("/responses", response_model=CardholderTokenPublic)
def answer_challenge(
    body: LoginResponseSubmit,
    response: Response,
    session: SessionDep,
    context: ContextDep,
    consent: ConsentContextDep,
    now: NowDep,
) -> CardholderTokenPublic:
    """The wallet posts its signed answer; a fresh, unused challenge gives a cardholder token."""
    response.headers["Cache-Control"] = "no-store"
    return service.complete_login(
        session=session,
        policy=context.token_policy,
        token_key=context.token_key,
        signer=consent.signer,
        response=body.response,
        now=int(now.timestamp()),
    )


@router.post("/challenges/{challenge_id}/token", response_model=CardholderTokenPublic | None)
def collect_token(
    challenge_id: ChallengeId,
    body: LoginPoll,
    response: Response,
    session: SessionDep,
    context: ContextDep,
    now: NowDep,
) -> CardholderTokenPublic | None:
    """The screen that showed the QR polls here: ``null`` while waiting, then the token once."""
    response.headers["Cache-Control"] = "no-store"
    return service.collect_login_token(
        session=session,
        policy=context.token_policy,
        token_key=context.token_key,
        challenge_id=challenge_id,
        poll_secret=body.poll_secret,
        now=int(now.timestamp()),
    )
