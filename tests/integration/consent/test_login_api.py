"""QR login through the HTTP API: challenge, wallet answer, token; replay and expiry fail."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from datetime import UTC, datetime

from credential_service.api.deps import get_now
from tests.integration.consent.harness import WALLET_AUDIENCE, ConsentService
from wallet_sdk.jose import Curve, Jwk, b64url_decode, sign_compact
from wallet_sdk.login import LOGIN_RESPONSE_TYP, create_login_response
from wallet_sdk.qr import parse_qr_payload


def _challenge(service: ConsentService) -> dict:
    response = service.client.post("/v1/login/challenges")
    assert response.status_code == 201, response.text
    return response.json()


def test_login_poll_and_me(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = service.wallet()
    challenge = _challenge(service)
    poll = f"/v1/login/challenges/{challenge['challenge_id']}/token"
    secret = {"poll_secret": challenge["poll_secret"]}
    assert service.client.post(poll, json=secret).json() is None
    answer = wallet.answer_login(
        challenge["qr"], trusted_keys=service.trust, audience=WALLET_AUDIENCE, now=int(time.time())
    )
    issued = service.client.post("/v1/login/responses", json={"response": answer})
    assert issued.status_code == 200, issued.text
    assert issued.json()["holder"] == wallet.address
    collected = service.client.post(poll, json=secret)
    assert collected.status_code == 200 and collected.json()["holder"] == wallet.address
    assert service.client.post(poll, json=secret).status_code == 401  # handed out once
    headers = {"Authorization": f"Bearer {collected.json()['access_token']}"}
    assert service.client.get("/v1/me/consents", headers=headers).status_code == 200


def test_poll_with_wrong_secret_fails(consent_service: ConsentService) -> None:
    service = consent_service
    challenge = _challenge(service)
    response = service.client.post(
        f"/v1/login/challenges/{challenge['challenge_id']}/token", json={"poll_secret": "guess"}
    )
    assert response.status_code == 401


def test_replayed_answer_fails(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = service.wallet()
    challenge = _challenge(service)
    answer = wallet.answer_login(
        challenge["qr"], trusted_keys=service.trust, audience=WALLET_AUDIENCE, now=int(time.time())
    )
    assert service.client.post("/v1/login/responses", json={"response": answer}).status_code == 200
    replay = service.client.post("/v1/login/responses", json={"response": answer})
    assert replay.status_code == 401
    assert replay.json()["code"] == "login_challenge_replayed"
    second = service.wallet().answer_login(
        challenge["qr"], trusted_keys=service.trust, audience=WALLET_AUDIENCE, now=int(time.time())
    )
    other = service.client.post("/v1/login/responses", json={"response": second})
    assert other.status_code == 401 and other.json()["code"] == "login_challenge_replayed"


def test_expired_challenge_fails(consent_service: ConsentService) -> None:
    service = consent_service
    challenge = _challenge(service)
    late = challenge["expires_at"] - 10  # the wallet still answers in time...
    answer = service.wallet().answer_login(
        challenge["qr"], trusted_keys=service.trust, audience=WALLET_AUDIENCE, now=late
    )
    overrides = service.client.app.dependency_overrides  # type: ignore[attr-defined]
    overrides[get_now] = lambda: datetime.fromtimestamp(challenge["expires_at"] + 60, UTC)
    try:  # ...but the answer reaches the service after the challenge expired
        response = service.client.post("/v1/login/responses", json={"response": answer})
    finally:
        overrides.pop(get_now, None)
    assert response.status_code == 401
    assert response.json()["code"] == "login_challenge_expired"


def test_forged_answer_fails(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = service.wallet()
    challenge = _challenge(service)
    answer = wallet.answer_login(
        challenge["qr"], trusted_keys=service.trust, audience=WALLET_AUDIENCE, now=int(time.time())
    )
    claims = json.loads(b64url_decode(answer.split(".")[1]))
    forged = sign_compact(
        json.dumps(claims).encode(),
        Jwk.generate(Curve.SECP256K1),
        headers={"typ": LOGIN_RESPONSE_TYP},
    )
    response = service.client.post("/v1/login/responses", json={"response": forged})
    assert response.status_code == 401 and response.json()["code"] == "login_failed"


def test_answer_for_another_service_fails(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = service.wallet()
    challenge = _challenge(service)
    parsed = parse_qr_payload(
        challenge["qr"], trusted_keys=service.trust, now=int(time.time()), audience=WALLET_AUDIENCE
    )
    elsewhere = replace(parsed, issuer="https://another-service.example")
    answer = create_login_response(elsewhere, key=wallet._holder_key, now=int(time.time()))
    response = service.client.post("/v1/login/responses", json={"response": answer})
    assert response.status_code == 401 and response.json()["code"] == "login_failed"
