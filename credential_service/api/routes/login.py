"""QR login for cardholders with the e-card (电子社保卡扫码登录)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response

from credential_service.api.deps import (
    ConsentContextDep,
    ContextDep,
    NowDep,
    OptionalOrg,
    SessionDep,
)
from credential_service.api.routes.credentials import RuntimeDep
from credential_service.login import service
from credential_service.login.models import (
    CardholderTokenPublic,
    LoginChallengePublic,
    LoginPoll,
    LoginResponseSubmit,
)

router = APIRouter(prefix="/v1/login", tags=["login"])

ChallengeId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def get_pairwise_subjects(request: Request, context: ContextDep) -> service.PairwiseSubjects:
    """The pairwise-pseudonym secret, read from the keystore once per app."""
    pairwise: service.PairwiseSubjects | None = getattr(request.app.state, "pairwise", None)
    if pairwise is None:
        pairwise = service.PairwiseSubjects.from_keystore(context.keystore)
        request.app.state.pairwise = pairwise
    return pairwise


PairwiseDep = Annotated[service.PairwiseSubjects, Depends(get_pairwise_subjects)]


@router.post("/challenges", response_model=LoginChallengePublic, status_code=201)
def create_challenge(
    session: SessionDep, consent: ConsentContextDep, relying: OptionalOrg, now: NowDep
) -> LoginChallengePublic:
    """A login challenge to show as a QR code; ``poll_secret`` lets this screen collect the
    token once the wallet has answered. Asked for anonymously, the login is to this service;
    asked for with an organisation's bearer token, it is to that organisation (a relying
    service): the QR names it, and the token's subject is the person's pseudonym there."""
    return service.create_login_challenge(
        session=session,
        signer=consent.signer,
        now=int(now.timestamp()),
        relying_party=None if relying is None else service.RelyingParty.organisation(relying),
    )


@router.post("/responses", response_model=CardholderTokenPublic)
def answer_challenge(
    body: LoginResponseSubmit,
    response: Response,
    session: SessionDep,
    context: ContextDep,
    consent: ConsentContextDep,
    runtime: RuntimeDep,
    pairwise: PairwiseDep,
    now: NowDep,
) -> CardholderTokenPublic:
    """The wallet posts its answer with its e-card proof; a fresh, unused challenge and an
    active e-card give a cardholder token. 401 ``card_required`` without an e-card proof, 403
    ``card_not_active`` for a lost, cancelled or replaced card."""
    response.headers["Cache-Control"] = "no-store"
    return service.complete_login(
        session=session,
        policy=context.token_policy,
        token_key=context.token_key,
        signer=consent.signer,
        verifier=runtime.verifier,
        pairwise=pairwise,
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
