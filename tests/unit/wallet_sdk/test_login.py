"""QR login: the wallet's signed answer to a service challenge, with its e-card proof, and its
verification."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from tests.unit.wallet_sdk.wallets import NOW, SERVICE
from wallet_sdk.credentials.card_proof import card_nonce
from wallet_sdk.errors import CardMissing, VerificationError
from wallet_sdk.jose import Curve, Jwk, b64url_decode, b64url_encode, sign_compact
from wallet_sdk.login import LOGIN_RESPONSE_TYP, login_card_nonce, verify_login_response
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
    wallet = make_wallet(card=True)
    token = wallet.answer_login(
        _challenge(service_key), trusted_keys=trusted, audience=AUDIENCE, now=NOW + 1
    )
    response = verify_login_response(token, audience=SERVICE, now=NOW + 2)
    assert response.address == wallet.address
    assert response.nonce == "challenge-nonce-1"
    # the e-card proof: the wallet's card, nothing disclosed, bound to this challenge and
    # holder key, for this service, by the credential key the card is bound to
    issuer_jwt, *disclosures, kb_jwt = response.card.split("~")
    assert issuer_jwt == wallet.social_security_card().token.split("~")[0]
    assert disclosures == []
    binding = json.loads(b64url_decode(kb_jwt.split(".")[1]))
    assert binding["aud"] == SERVICE
    assert binding["nonce"] == response.card_nonce
    assert response.card_nonce == login_card_nonce("challenge-nonce-1", wallet.address)
    assert response.card_nonce != card_nonce("login", "challenge-nonce-1")


def test_a_wallet_without_an_e_card_cannot_answer(
    make_wallet: MakeWallet, service_key: Jwk, trusted: dict
) -> None:
    with pytest.raises(CardMissing) as caught:
        make_wallet(card=False).answer_login(
            _challenge(service_key), trusted_keys=trusted, audience=AUDIENCE, now=NOW + 1
        )
    assert str(caught.value) == (
        "this wallet holds no e-card: activate your e-card first: hrss-wallet card activate CODE"
    )


def test_an_answer_without_an_e_card_proof_is_refused(answer: str) -> None:
    claims = _claims(answer)
    key = Jwk.generate(Curve.SECP256K1)
    from wallet_sdk.consent import address_of_public_key

    for card in (None, "not-a-presentation", 7):
        bare = {k: v for k, v in claims.items() if k != "card"}
        bare |= {"sub": address_of_public_key(key), "sub_jwk": key.public().public_jwk()}
        if card is not None:
            bare["card"] = card
        forged = sign_compact(
            json.dumps(bare).encode(), key, headers={"typ": LOGIN_RESPONSE_TYP}, include_kid=False
        )
        with pytest.raises(VerificationError) as caught:
            verify_login_response(forged, audience=SERVICE, now=NOW)
        assert caught.value.check == "card"


def test_expired_challenge_is_refused(
    make_wallet: MakeWallet, service_key: Jwk, trusted: dict
) -> None:
    with pytest.raises(VerificationError) as caught:
        make_wallet(card=True).answer_login(
            _challenge(service_key), trusted_keys=trusted, audience=AUDIENCE, now=NOW + 600
        )
    assert caught.value.check == "expired"


def test_forged_challenge_is_refused(make_wallet: MakeWallet, trusted: dict) -> None:
    forger = Jwk.generate(Curve.ED25519).with_kid(trusted[SERVICE][0].thumbprint_b64())
    with pytest.raises(VerificationError) as caught:
        make_wallet(card=True).answer_login(
            _challenge(forger), trusted_keys=trusted, audience=AUDIENCE, now=NOW
        )
    assert caught.value.check == "signature"


def test_consent_request_is_not_a_login(
    make_wallet: MakeWallet, service_key: Jwk, trusted: dict
) -> None:
    text = _challenge(service_key, kind=QrPayloadType.CONSENT_REQUEST)
    with pytest.raises(VerificationError) as caught:
        make_wallet(card=True).answer_login(text, trusted_keys=trusted, audience=AUDIENCE, now=NOW)
    assert caught.value.check == "type"


@pytest.fixture
def answer(make_wallet: MakeWallet, service_key: Jwk, trusted: dict) -> str:
    return make_wallet(card=True).answer_login(
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
