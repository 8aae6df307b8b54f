"""QR login with the e-card through the HTTP API: challenge, wallet answer with its e-card
proof, token whose subject is the person's pairwise pseudonym; replay, expiry, a missing,
lost, cancelled or replaced e-card, and a card proof made for another holder key fail, each
with its code."""

from __future__ import annotations

import json
import re
import time
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import jwt
import pytest

from credential_service.api.deps import get_now
from tests.integration.credential_service.consent.harness import WALLET_AUDIENCE, ConsentService
from wallet_sdk.errors import CardMissing
from wallet_sdk.jose import Curve, Jwk, b64url_decode, sign_compact
from wallet_sdk.login import LOGIN_RESPONSE_TYP, create_login_response
from wallet_sdk.qr import parse_qr_payload
from wallet_sdk.wallet import Wallet


def _challenge(service: ConsentService) -> dict:
    response = service.client.post("/v1/login/challenges")
    assert response.status_code == 201, response.text
    return response.json()


def _wallet_with_card(service: ConsentService) -> Wallet:
    wallet = service.wallet()
    service.cards.ensure_card(wallet)
    return wallet


def _answer(service: ConsentService, wallet: Wallet, challenge: dict[str, Any]) -> str:
    return wallet.answer_login(
        challenge["qr"], trusted_keys=service.trust, audience=WALLET_AUDIENCE, now=int(time.time())
    )


def _login(service: ConsentService, wallet: Wallet, headers: dict[str, str] | None = None) -> Any:
    challenge = service.client.post("/v1/login/challenges", headers=headers or {})
    assert challenge.status_code == 201, challenge.text
    return service.client.post(
        "/v1/login/responses", json={"response": _answer(service, wallet, challenge.json())}
    )


def _refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


def test_login_poll_and_me(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = _wallet_with_card(service)
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
    assert re.fullmatch(r"[0-9a-f]{64}", issued.json()["subject"])
    collected = service.client.post(poll, json=secret)
    assert collected.status_code == 200 and collected.json()["holder"] == wallet.address
    assert collected.json()["subject"] == issued.json()["subject"]
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
    wallet = _wallet_with_card(service)
    challenge = _challenge(service)
    answer = wallet.answer_login(
        challenge["qr"], trusted_keys=service.trust, audience=WALLET_AUDIENCE, now=int(time.time())
    )
    assert service.client.post("/v1/login/responses", json={"response": answer}).status_code == 200
    replay = service.client.post("/v1/login/responses", json={"response": answer})
    assert replay.status_code == 401
    assert replay.json()["code"] == "login_challenge_replayed"
    second = _wallet_with_card(service).answer_login(
        challenge["qr"], trusted_keys=service.trust, audience=WALLET_AUDIENCE, now=int(time.time())
    )
    other = service.client.post("/v1/login/responses", json={"response": second})
    assert other.status_code == 401 and other.json()["code"] == "login_challenge_replayed"


def test_expired_challenge_fails(consent_service: ConsentService) -> None:
    service = consent_service
    challenge = _challenge(service)
    late = challenge["expires_at"] - 10  # the wallet still answers in time...
    answer = _wallet_with_card(service).answer_login(
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
    wallet = _wallet_with_card(service)
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
    wallet = _wallet_with_card(service)
    challenge = _challenge(service)
    parsed = parse_qr_payload(
        challenge["qr"], trusted_keys=service.trust, now=int(time.time()), audience=WALLET_AUDIENCE
    )
    elsewhere = replace(parsed, issuer="https://another-service.example")
    answer = create_login_response(
        elsewhere,
        key=wallet._holder_key,
        card=wallet.social_security_card().token,
        card_key=wallet.credential_key,
        now=int(time.time()),
    )
    response = service.client.post("/v1/login/responses", json={"response": answer})
    assert response.status_code == 401 and response.json()["code"] == "login_failed"


def test_a_wallet_without_an_e_card_gets_no_token(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = service.wallet(card=False)
    challenge = _challenge(service)
    with pytest.raises(CardMissing) as missing:
        _answer(service, wallet, challenge)
    assert "activate your e-card first: hrss-wallet card activate CODE" in str(missing.value)
    # an answer signed by the holder key alone, as wallets answered before the e-card
    parsed = parse_qr_payload(
        challenge["qr"], trusted_keys=service.trust, now=int(time.time()), audience=WALLET_AUDIENCE
    )
    key = wallet._holder_key
    bare = {
        "iss": "urn:hrss:wallet",
        "sub": wallet.address,
        "aud": parsed.issuer,
        "nonce": parsed.nonce,
        "iat": int(time.time()),
        "exp": int(time.time()) + 60,
        "sub_jwk": key.public().with_kid(None).public_jwk(),
    }
    answer = sign_compact(
        json.dumps(bare).encode(), key, headers={"typ": LOGIN_RESPONSE_TYP}, include_kid=False
    )
    response = service.client.post("/v1/login/responses", json={"response": answer})
    body = _refused(response, 401, "card_required")
    assert body["message"] == "log in with the e-card: the login answer carries no e-card proof"


def _set_status(service: ConsentService, card: str, status: str, reason: int) -> None:
    response = service.client.post(
        f"/v1/credentials/{card}/status",
        json={"status": status, "reason": reason},
        headers=service.org_headers(service.cards.centre),
    )
    assert response.status_code == 200, response.text


def test_a_lost_or_cancelled_card_gets_no_token(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = service.wallet()
    card = service.cards.activate(wallet)["id"]
    assert _login(service, wallet).status_code == 200
    _set_status(service, card, "suspended", 1)  # reported lost (挂失)
    body = _refused(_login(service, wallet), 403, "card_not_active")
    assert body["detail"] == {"check": "status"}
    _set_status(service, card, "active", 0)  # found again
    assert _login(service, wallet).status_code == 200
    _set_status(service, card, "revoked", 2)  # cancelled (注销)
    _refused(_login(service, wallet), 403, "card_not_active")


def test_a_new_phone_keeps_the_subject_and_ends_the_old_card(
    consent_service: ConsentService,
) -> None:
    service = consent_service
    person = service.cards.new_person("李四")
    old_phone, new_phone = service.wallet(), service.wallet()
    service.cards.activate(old_phone, person)
    before = _login(service, old_phone)
    assert before.status_code == 200, before.text
    assert service.cards.activate(new_phone, person)["replaced"] is not None
    _refused(_login(service, old_phone), 403, "card_not_active")
    after = _login(service, new_phone)
    assert after.status_code == 200, after.text
    assert after.json()["subject"] == before.json()["subject"]
    assert after.json()["holder"] == new_phone.address != old_phone.address
    # another person on another phone is someone else
    other = _login(service, _wallet_with_card(service))
    assert other.json()["subject"] != before.json()["subject"]
    # the subject is neither the ID number nor the card number in any readable form
    for value in (person["idNumber"], person["cardNumber"]):
        assert value.lower() not in json.dumps(after.json()).lower()


def test_each_relying_service_sees_its_own_pseudonym(consent_service: ConsentService) -> None:
    service = consent_service
    wallet = _wallet_with_card(service)
    first, second = service.data_users[:2]
    own = _login(service, wallet).json()
    at_first = _login(service, wallet, service.org_headers(first))
    assert at_first.status_code == 200, at_first.text
    at_second = _login(service, wallet, service.org_headers(second)).json()
    again = _login(service, wallet, service.org_headers(first)).json()
    subjects = {own["subject"], at_first.json()["subject"], at_second["subject"]}
    assert len(subjects) == 3 and again["subject"] == at_first.json()["subject"]
    # a relying service's token: its audience, no holder address, no scope here
    token = at_first.json()["access_token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["aud"].startswith("urn:hrss:entity:0x") and "holder" not in claims
    assert "scope" not in claims and at_first.json()["holder"] is None
    me = service.client.get("/v1/me/consents", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 401
    # the QR names the relying service to the wallet
    challenge = service.client.post(
        "/v1/login/challenges", headers=service.org_headers(first)
    ).json()
    parsed = parse_qr_payload(
        challenge["qr"], trusted_keys=service.trust, now=int(time.time()), audience=WALLET_AUDIENCE
    )
    assert parsed.body["relying_party"]["id"] == claims["aud"]
    assert parsed.body["relying_party"]["name"]


def test_a_card_proof_for_another_holder_key_is_refused(consent_service: ConsentService) -> None:
    service = consent_service
    victim, thief = _wallet_with_card(service), service.wallet()
    challenge = _challenge(service)
    answer = _answer(service, victim, challenge)
    claims = json.loads(b64url_decode(answer.split(".")[1]))
    # the thief wraps the victim's e-card proof in an answer signed by its own holder key
    key = thief._holder_key
    claims.update(sub=thief.address, sub_jwk=key.public().with_kid(None).public_jwk())
    rewrapped = sign_compact(
        json.dumps(claims).encode(), key, headers={"typ": LOGIN_RESPONSE_TYP}, include_kid=False
    )
    response = service.client.post("/v1/login/responses", json={"response": rewrapped})
    body = _refused(response, 401, "login_failed")
    assert body["detail"] == {"check": "holder_binding"}
