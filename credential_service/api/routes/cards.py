"""E-card activation (电子社保卡激活): card issuers request one-time codes, wallets redeem them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from credential_service.api.deps import (
    ConsentContextDep,
    ContextDep,
    CurrentOrg,
    NowDep,
    SessionDep,
    require_scope,
)
from credential_service.api.routes.credentials import RuntimeDep
from credential_service.cards import service
from credential_service.cards.chain import NodeCardLedger
from credential_service.cards.models import (
    CardActivationCreate,
    CardActivationPublic,
    CardActivationRedeem,
    CardIssuedPublic,
)
from credential_service.consent.context import ConsentContext
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.sealing import SealAlgorithm

router = APIRouter(prefix="/v1/cards", tags=["cards"])

_issue = Depends(require_scope("credentials:issue"))


def get_card_desk(
    request: Request, runtime: RuntimeDep, consent: ConsentContextDep, context: ContextDep
) -> service.CardDesk:
    """The activation secrets, read from the keystore once per app."""
    desk: service.CardDesk | None = getattr(request.app.state, "card_desk", None)
    if desk is None:
        desk = _desk(runtime, consent, context.settings.crypto_profile.algorithms.seal_algorithm)
        request.app.state.card_desk = desk
    return desk


def _desk(
    runtime: CredentialRuntime, consent: ConsentContext, seal_algorithm: SealAlgorithm
) -> service.CardDesk:
    return service.CardDesk.from_keystore(
        runtime.keystore,
        qr_issuer=consent.signer.issuer,
        qr_key=consent.signer.key,
        seal_algorithm=seal_algorithm,
    )


CardDeskDep = Annotated[service.CardDesk, Depends(get_card_desk)]


@router.post(
    "/activations",
    response_model=CardActivationPublic,
    status_code=201,
    dependencies=[_issue],
)
def request_activation(
    body: CardActivationCreate,
    response: Response,
    session: SessionDep,
    runtime: RuntimeDep,
    desk: CardDeskDep,
    actor: CurrentOrg,
    now: NowDep,
) -> CardActivationPublic:
    """A card issuer, after its own real-name check, asks for a one-time activation code (and
    its QR payload) for the card described; the code is valid ten minutes. 403
    ``card_issuer_required`` for any other caller, 400 ``card_subject_invalid`` (e.g. a wrong
    ID number check digit)."""
    response.headers["Cache-Control"] = "no-store"
    return service.request_activation(
        session=session,
        runtime=runtime,
        desk=desk,
        issuer=actor,
        subject=body,
        now=int(now.timestamp()),
    )


@router.post("/activations/redeem", response_model=CardIssuedPublic, status_code=201)
def redeem_activation(
    body: CardActivationRedeem,
    response: Response,
    session: SessionDep,
    runtime: RuntimeDep,
    desk: CardDeskDep,
    now: NowDep,
) -> CardIssuedPublic:
    """The wallet redeems a code with a proof signed by its credential key and receives its
    e-card (``vc+sd-jwt`` bound to that key); the person's previous e-card is revoked with
    reason ``replaced``. 404 ``activation_code_unknown``, 409 ``activation_code_used``, 403
    ``activation_code_expired``, 400 ``card_activation_proof_invalid``."""
    response.headers["Cache-Control"] = "no-store"
    return service.redeem_activation(
        session=session,
        runtime=runtime,
        ledger=NodeCardLedger(runtime),
        desk=desk,
        proof=body.proof,
        now=now,
    )
