"""The activation proof names and proves the wallet's holder address (for the holder
succession recorded when the card moves to a new phone)."""

from __future__ import annotations

import json

import pytest

from wallet_sdk.card_activation import (
    ACTIVATION_PROOF_TYP,
    HOLDER_PROOF_TYP,
    create_activation_proof,
    verify_activation_proof,
)
from wallet_sdk.consent import address_of_public_key
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jose import Curve, Jwk, b64url_decode, sign_compact

NOW = 1_800_000_000


def _claims(proof: str) -> dict[str, object]:
    claims: dict[str, object] = json.loads(b64url_decode(proof.split(".")[1]))
    return claims


def _resign(claims: dict[str, object], key: Jwk) -> str:
    return sign_compact(
        json.dumps(claims).encode(), key, headers={"typ": ACTIVATION_PROOF_TYP}, include_kid=False
    )


def test_the_proof_names_the_holder_address_proven_by_its_key() -> None:
    key, holder = Jwk.generate(Curve.ED25519), Jwk.generate(Curve.SECP256K1)
    proof = create_activation_proof("ABCD2345EFGH", key=key, now=NOW, holder_key=holder)
    verified = verify_activation_proof(proof, now=NOW)
    assert verified.holder_address == address_of_public_key(holder)
    without = verify_activation_proof(create_activation_proof("ABCD", key=key, now=NOW), now=NOW)
    assert without.holder_address is None


def test_a_holder_proof_from_another_activation_is_refused() -> None:
    key, holder = Jwk.generate(Curve.ED25519), Jwk.generate(Curve.SECP256K1)
    other = _claims(create_activation_proof("OTHER", key=key, now=NOW, holder_key=holder))
    claims = _claims(create_activation_proof("ABCD", key=key, now=NOW))
    claims["holder"] = other["holder"]  # a stranger's wallet copies a proof it saw
    with pytest.raises(VerificationError) as caught:
        verify_activation_proof(_resign(claims, key), now=NOW)
    assert caught.value.check == "holder"
    assert caught.value.message == "the holder proof is for another activation"


def test_a_holder_address_without_its_key_is_refused() -> None:
    key, holder, thief = (
        Jwk.generate(Curve.ED25519),
        Jwk.generate(Curve.SECP256K1),
        Jwk.generate(Curve.SECP256K1),
    )
    claims = _claims(create_activation_proof("ABCD", key=key, now=NOW, holder_key=thief))
    assert isinstance(claims["holder"], dict)
    claims["holder"]["jwk"] = holder.public().with_kid(None).public_jwk()
    with pytest.raises(VerificationError) as caught:
        verify_activation_proof(_resign(claims, key), now=NOW)
    assert caught.value.check == "holder"
    assert caught.value.message.startswith("the holder proof does not verify")


def test_the_holder_key_must_be_secp256k1() -> None:
    key = Jwk.generate(Curve.ED25519)
    with pytest.raises(FormatError):
        create_activation_proof("ABCD", key=key, now=NOW, holder_key=Jwk.generate(Curve.ED25519))
    ed = Jwk.generate(Curve.ED25519)
    claims = _claims(create_activation_proof("ABCD", key=key, now=NOW))
    bound = {"code": "ABCD", "cnf": key.thumbprint_b64(), "iat": NOW}
    claims["holder"] = {
        "jwk": ed.public().with_kid(None).public_jwk(),
        "proof": sign_compact(
            json.dumps(bound).encode(), ed, headers={"typ": HOLDER_PROOF_TYP}, include_kid=False
        ),
    }
    with pytest.raises(VerificationError) as caught:
        verify_activation_proof(_resign(claims, key), now=NOW)
    assert caught.value.check == "holder"
    assert caught.value.message == "the holder key is a secp256k1 key"
