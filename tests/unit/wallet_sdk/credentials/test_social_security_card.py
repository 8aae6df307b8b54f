"""The e-card type: its schema, the citizen ID check digit (GB 11643-1999, ISO 7064 MOD 11-2),
the subject checks, the reason codes; and the wallet's activation proof."""

from __future__ import annotations

import json
from typing import Any

import pytest

from wallet_sdk.card_activation import (
    ACTIVATION_PROOF_TYP,
    create_activation_proof,
    verify_activation_proof,
)
from wallet_sdk.credentials import (
    SOCIAL_SECURITY_CARD,
    SOCIAL_SECURITY_CARD_VCT,
    CardStatusReason,
    check_card_subject,
    citizen_id_check_digit,
    credential_type_id,
    default_registry,
    validate_citizen_id,
)
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jose import Curve, Jwk, sign_compact

CARD_SUBJECT: dict[str, Any] = {
    "name": "张三",
    "idNumber": "11010519491231002X",
    "cardNumber": "A12345678",
    "issuingRegion": "440100",
    "validFrom": "2026-01-01",
    "validUntil": "2036-01-01",
}


def test_the_card_type_is_built_in_with_every_identity_claim_disclosable() -> None:
    card = default_registry().get(SOCIAL_SECURITY_CARD)
    assert card.vct == SOCIAL_SECURITY_CARD_VCT
    assert card.type_id == credential_type_id("urn:hrss:vct:social-security-card:1")
    assert set(card.personal_identifiers) == set(CARD_SUBJECT)
    card.validate_subject(CARD_SUBJECT)


@pytest.mark.parametrize(
    ("first17", "check"),
    [("11010519491231002", "X"), ("44010619900307002", "8"), ("44030519851120035", "1")],
)
def test_check_digit(first17: str, check: str) -> None:
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    # ISO 7064 MOD 11-2 written out: (12 - sum mod 11) mod 11, 10 written X
    value = (12 - sum(int(c) * w for c, w in zip(first17, weights, strict=True)) % 11) % 11
    assert check == ("X" if value == 10 else str(value))
    assert citizen_id_check_digit(first17) == check
    assert validate_citizen_id(first17 + check) == first17 + check


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("110105194912310021", "idNumber check digit is wrong (ISO 7064 MOD 11-2)"),
        ("11010519491231002x", "idNumber must be 17 digits and a check character (0-9 or X)"),
        ("1101051949123100", "idNumber must be 17 digits and a check character (0-9 or X)"),
        ("011010519491231002", "idNumber must be 17 digits and a check character (0-9 or X)"),
        ("110105194902300020", "idNumber does not hold a calendar birth date"),
        (110105194912310021, "idNumber must be 17 digits and a check character (0-9 or X)"),
    ],
)
def test_a_wrong_citizen_id_is_refused(value: object, message: str) -> None:
    with pytest.raises(FormatError) as caught:
        validate_citizen_id(value)
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"idNumber": "110105194912310021"}, "idNumber check digit is wrong (ISO 7064 MOD 11-2)"),
        ({"issuingRegion": "44010"}, "issuingRegion must be a 6-digit GB/T 2260 region code"),
        ({"validUntil": "2036-02-30"}, "validUntil 2036-02-30 is not a calendar date"),
        ({"validUntil": "2025-12-31"}, "validUntil 2025-12-31 is before validFrom 2026-01-01"),
    ],
)
def test_card_subject_checks(change: dict[str, str], message: str) -> None:
    check_card_subject(CARD_SUBJECT)
    with pytest.raises(FormatError) as caught:
        check_card_subject({**CARD_SUBJECT, **change})
    assert str(caught.value) == message


def test_reason_codes_are_named_once() -> None:
    assert [(r.name, r.value) for r in CardStatusReason] == [
        ("NONE", 0),
        ("LOST", 1),
        ("CANCELLED", 2),
        ("REPLACED", 3),
    ]


def test_activation_proof_round_trip() -> None:
    key = Jwk.generate(Curve.ED25519)
    proof = create_activation_proof("ABCD2345EFGH", key=key, now=1_800_000_000)
    verified = verify_activation_proof(proof, now=1_800_000_010)
    assert verified.code == "ABCD2345EFGH"
    assert verified.holder_key.thumbprint_b64() == key.public().thumbprint_b64()


def test_an_expired_activation_proof_is_refused() -> None:
    proof = create_activation_proof("ABCD", key=Jwk.generate(Curve.ED25519), now=1_800_000_000)
    with pytest.raises(VerificationError) as caught:
        verify_activation_proof(proof, now=1_800_000_000 + 120 + 31)
    assert caught.value.check == "expired"
    assert caught.value.message == "the activation proof has expired"


def test_an_activation_proof_signed_by_another_key_is_refused() -> None:
    key, other = Jwk.generate(Curve.ED25519), Jwk.generate(Curve.ED25519)
    claims = {
        "iss": "urn:hrss:wallet",
        "aud": "urn:hrss:card-activation",
        "code": "ABCD",
        "iat": 1_800_000_000,
        "exp": 1_800_000_060,
        "cnf": {"jwk": key.public().with_kid(None).public_jwk()},
    }
    forged = sign_compact(
        json.dumps(claims).encode(), other, headers={"typ": ACTIVATION_PROOF_TYP}, include_kid=False
    )
    with pytest.raises(VerificationError) as caught:
        verify_activation_proof(forged, now=1_800_000_000)
    assert caught.value.check == "signature"


def test_a_secp256k1_key_does_not_activate() -> None:
    with pytest.raises(FormatError) as caught:
        create_activation_proof("ABCD", key=Jwk.generate(Curve.SECP256K1), now=1)
    assert str(caught.value) == (
        "activation needs the wallet's private Ed25519 or SM2 credential key"
    )
