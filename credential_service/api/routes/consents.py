"""Data-use consent: requests (data users), grants and withdrawals (cardholders, relayed on
chain), the check before every use (data users), and the wallet's trust document."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path

from credential_service.api.deps import (
    ConsentContextDep,
    CurrentCardholder,
    CurrentOrg,
    NowDep,
    SessionDep,
    require_scope,
)
from credential_service.api.routes.credentials import RuntimeDep
from credential_service.cards.service import holder_predecessors
from credential_service.consent import service
from credential_service.consent.models import (
    ConsentCheckPublic,
    ConsentCheckRequest,
    ConsentPublic,
    ConsentReceiptPublic,
    ConsentRequestCreate,
    ConsentRequestPublic,
)
from credential_service.errors import ErrorCode, Forbidden
from credential_service.login.service import Cardholder

router = APIRouter(tags=["consents"])

ConsentId = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="consent id")]
_data_user = Depends(require_scope("consents:check"))


def _require(cardholder: Cardholder, scope: str) -> None:
    if scope not in cardholder.scopes:
        raise Forbidden(f"this needs the {scope} scope", code=ErrorCode.SCOPE_MISSING)


_TRUST_EXAMPLE = {
    "http://127.0.0.1:8000": [
        {
            "alg": "EdDSA",
            "crv": "Ed25519",
            "kid": "Cw2TlSiXxWw_0vQO-jUypMOdPf3YxHgZnvhsHx3oODY",
            "kty": "OKP",
            "x": "j5NOvpmYunqozdKsTFVdE8e1Lp_F1XNYTbKcRjw0qfQ",
        }
    ]
}


@router.get(
    "/v1/consents/trust",
    responses={200: {"content": {"application/json": {"example": _TRUST_EXAMPLE}}}},
)
def wallet_trust(consent: ConsentContextDep) -> dict[str, list[dict[str, str]]]:
    """The keys wallets trust for this service's QR payloads and receipts (the
    ``hrss-wallet --trust`` file): one member, named by the service's issuer URL
    (``HRSS_ISSUER_URL``, the ``iss`` of its QR payloads), whose value is the list of its
    public JWKs (Ed25519, ``kid`` = RFC 7638 thumbprint)."""
    return consent.signer.trust()


@router.post(
    "/v1/consent-requests",
    response_model=ConsentRequestPublic,
    status_code=201,
    dependencies=[_data_user],
)
def create_consent_request(
    body: ConsentRequestCreate,
    session: SessionDep,
    consent: ConsentContextDep,
    actor: CurrentOrg,
    now: NowDep,
) -> ConsentRequestPublic:
    """A data user asks for consent; the answer carries the request as a signed QR payload."""
    return service.create_consent_request(
        session=session,
        ledger=consent.ledger,
        signer=consent.signer,
        data_user=actor,
        create=body,
        now=int(now.timestamp()),
    )


@router.post("/v1/consents/check", response_model=ConsentCheckPublic, dependencies=[_data_user])
def check_consent(
    body: ConsentCheckRequest,
    session: SessionDep,
    consent: ConsentContextDep,
    actor: CurrentOrg,
    now: NowDep,
) -> ConsentCheckPublic:
    """Before every use: allowed or denied, with the reason, from the chain at the latest
    block. Every check is logged and shown to the cardholder."""
    return service.check_consent(
        session=session,
        ledger=consent.ledger,
        data_user=actor,
        consent_id=bytes.fromhex(body.consent_id[2:]),
        purpose=body.purpose,
        now=int(now.timestamp()),
    )


@router.get("/v1/consents", response_model=list[ConsentPublic], dependencies=[_data_user])
def list_consents(
    session: SessionDep, consent: ConsentContextDep, actor: CurrentOrg
) -> list[ConsentPublic]:
    """The consents granted to the calling data user (and no one else's)."""
    return service.list_data_user_consents(session=session, signer=consent.signer, data_user=actor)


@router.get("/v1/consents/{consent_id}", response_model=ConsentPublic, dependencies=[_data_user])
def read_consent(
    consent_id: ConsentId, session: SessionDep, consent: ConsentContextDep, actor: CurrentOrg
) -> ConsentPublic:
    """One consent granted to the calling data user; 404 for anyone else's."""
    return service.get_data_user_consent(
        session=session,
        signer=consent.signer,
        data_user=actor,
        consent_id=bytes.fromhex(consent_id[2:]),
    )


@router.post("/v1/consents", response_model=ConsentReceiptPublic, status_code=201)
def grant_consent(
    body: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    consent: ConsentContextDep,
    runtime: RuntimeDep,
    cardholder: CurrentCardholder,
    now: NowDep,
) -> ConsentReceiptPublic:
    """Relay the cardholder's signed grant (``SignedConsent`` JSON, with ``identity_proof``:
    the e-card presentation disclosing ``idNumber`` that shows the cardholder is the
    request's subject) to ``ConsentRegistry``; the service pays the gas. Answers with the
    signed grant receipt and ``subject_verified``: a grant that is not the subject's is
    recorded as signed, and every check of it answers ``subject_mismatch``."""
    _require(cardholder, "consents:grant")
    return service.relay_grant(
        session=session,
        ledger=consent.ledger,
        signer=consent.signer,
        card_verifier=runtime.verifier,
        holder=cardholder.address,
        payload=body,
        now=int(now.timestamp()),
    )


@router.post("/v1/consents/{consent_id}/withdrawal", response_model=ConsentReceiptPublic)
def withdraw_consent(
    consent_id: ConsentId,
    body: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    consent: ConsentContextDep,
    cardholder: CurrentCardholder,
    now: NowDep,
) -> ConsentReceiptPublic:
    """Relay the cardholder's signed withdrawal; it takes effect from its block. A consent
    granted with an earlier phone of the person is withdrawn with the new wallet's signature
    (the chain accepts it from the holder's successor)."""
    _require(cardholder, "consents:withdraw")
    return service.relay_withdrawal(
        session=session,
        ledger=consent.ledger,
        signer=consent.signer,
        holder=cardholder.address,
        consent_id=bytes.fromhex(consent_id[2:]),
        payload=body,
        now=int(now.timestamp()),
        earlier=holder_predecessors(session=session, holder=cardholder.address),
    )
