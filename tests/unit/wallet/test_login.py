"""QR login: the wallet's signed answer to a service challenge, and its verification."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.unit.wallet.conftest import NOW, SERVICE
from wallet_sdk.errors import VerificationError
from wallet_sdk.jose import Curve, Jwk, b64url_decode, b64url_encode, sign_compact
from wallet_sdk.login import LOGIN_RESPONSE_TYP, verify_login_response
from wallet_sdk.qr import QrPayloadType, encode_qr_payload
from wallet_sdk.wallet import Wallet

MakeWallet = Callable[..., Wallet]
AUDIENCE = "urn:hrss:wallet"


def _challenge(key: Jwk, *, kind: QrPayloadType = QrPayloadType.LOGIN_CHALLENGE) -> str:
    return encode_qr_payload(
        type=kind,
        issuer=SERVICE,
        audience=AUDIENCE,
        issued_at=NOW,
        expires_at=NOW + 120,
        body={"challenge_id": "c1"},
        key=key,
        nonce="challenge-nonce-1",
    )


def test_login_answer_verifies(make_wallet: MakeWallet, service_key: Jwk, trusted: dict) -> None:
    wallet = make_wallet()
    token = wallet.answer_login(
        _challenge(service_key), trusted_keys=trusted, audience=AUDIENCE, now=NOW + 1
    )
    response = verify_login_response(token, audience=SERVICE, now=NOW + 2)
    assert response.address == wallet.address
    assert response.nonce == "challenge-nonce-1"


def test_expired_challenge_is_refused(
    make_wallet: MakeWallet, service_key: Jwk, trusted: dict
) -> None:
    with pytest.raises(VerificationError) as caught:
        make_wallet().answer_login(
            _challenge(service_key), trusted_keys=trusted, audience=AUDIENCE, now=NOW + 600
        )
    assert caught.value.check == "expired"


def test_forged_challenge_is_refused(make_wallet: MakeWallet, trusted: dict) -> None:
    forger = Jwk.generate(Curve.ED25519).with_kid(trusted[SERVICE][0].thumbprint_b64())
    with pytest.raises(VerificationError) as caught:
        make_wallet().answer_login(
            _challenge(forger), trusted_keys=trusted, audience=AUDIENCE, now=NOW
        )
    assert caught.value.check == "signature"


def test_consent_request_is_not_a_login(
    make_wallet: MakeWallet, service_key: Jwk, trusted: dict
) -> None:
    text = _challenge(service_key, kind=QrPayloadType.CONSENT_REQUEST)
    with pytest.raises(VerificationError) as caught:
        make_wallet().answer_login(text, trusted_keys=trusted, audience=AUDIENCE, now=NOW)
    assert caught.value.check == "type"


@pytest.fixture
def answer(make_wallet: MakeWallet, service_key: Jwk, trusted: dict) -> str:
    return make_wallet().answer_login(
        _challenge(service_key), trusted_keys=trusted, audience=AUDIENCE, now=NOW
    )


def test_response_for_another_service_is_refused(answer: str) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_login_response(answer, audience="https://other.example", now=NOW)
    assert caught.value.check == "audience"


def test_expired_response_is_refused(answer: str) -> None:
    with pytest.raises(VerificationError) as caught:
        verify_login_response(answer, audience=SERVICE, now=NOW + 3600)
    assert caught.value.check == "expired"


def _claims(token: str) -> dict:
    return json.loads(b64url_decode(token.split(".")[1]))


def test_response_claiming_another_address_is_refused(answer: str) -> None:
    claims = _claims(answer) | {"sub": "0x" + "11" * 20}
    header, _, signature = answer.split(".")
    forged = f"{header}.{b64url_encode(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(VerificationError) as caught:
        verify_login_response(forged, audience=SERVICE, now=NOW)
    assert caught.value.check == "subject"


def test_response_signed_by_another_key_is_refused(answer: str) -> None:
    claims = _claims(answer)
    other = Jwk.generate(Curve.SECP256K1)
    forged = sign_compact(json.dumps(claims).encode(), other, headers={"typ": LOGIN_RESPONSE_TYP})
    with pytest.raises(VerificationError) as caught:
        verify_login_response(forged, audience=SERVICE, now=NOW)
    assert caught.value.check == "signature"


def test_response_with_private_key_material_is_refused(answer: str) -> None:
    key = Jwk.generate(Curve.SECP256K1)
    claims = _claims(answer) | {"sub_jwk": key.private_jwk()}
    forged = sign_compact(json.dumps(claims).encode(), key, headers={"typ": LOGIN_RESPONSE_TYP})
    with pytest.raises(VerificationError) as caught:
        verify_login_response(forged, audience=SERVICE, now=NOW)
    assert caught.value.check == "key"


def test_garbage_is_a_format_error() -> None:
    with pytest.raises(VerificationError) as caught:
        verify_login_response("not-a-token", audience=SERVICE, now=NOW)
    assert caught.value.check == "format"
