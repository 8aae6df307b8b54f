from __future__ import annotations

import pytest

from credential_service.errors import ErrorCode, InvalidInput
from credential_service.jwk import parse_public_jwk, thumbprint
from credential_service.models import KeyAlgorithm, PublicJwk
from wallet_sdk import Curve, Jwk

# RFC 8037 appendix A.3: thumbprint of the Ed25519 example key
RFC8037_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_rfc8037_thumbprint() -> None:
    assert thumbprint(RFC8037_JWK) == RFC8037_THUMBPRINT
    parsed = parse_public_jwk(PublicJwk.model_validate(RFC8037_JWK | {"kid": "x", "use": "sig"}))
    assert parsed.key_id == RFC8037_THUMBPRINT and parsed.alg == KeyAlgorithm.EDDSA
    assert len(parsed.raw_public_key) == 32 and len(parsed.key_id_bytes) == 32


def test_p256_key_agrees_with_the_wallet_sdk() -> None:
    key = Jwk.generate(Curve.P256)
    parsed = parse_public_jwk(PublicJwk.model_validate(key.public_jwk()))
    assert parsed.alg == KeyAlgorithm.ES256
    assert parsed.key_id == key.thumbprint_b64()
    assert parsed.raw_public_key == key.raw_public_key() and len(parsed.raw_public_key) == 65


@pytest.mark.parametrize(
    ("jwk", "code"),
    [
        (RFC8037_JWK | {"d": "AAAA"}, ErrorCode.JWK_PRIVATE_MATERIAL),
        (RFC8037_JWK | {"x": "AAAA"}, ErrorCode.JWK_INVALID),
        (RFC8037_JWK | {"x": RFC8037_JWK["x"] + "="}, ErrorCode.JWK_INVALID),
        (RFC8037_JWK | {"crv": "P-256"}, ErrorCode.JWK_INVALID),
        (
            {"kty": "EC", "crv": "P-256", "x": RFC8037_JWK["x"], "y": RFC8037_JWK["x"]},
            ErrorCode.JWK_INVALID,
        ),  # not on the curve
        ({"kty": "EC", "crv": "Ed25519", "x": RFC8037_JWK["x"]}, ErrorCode.JWK_INVALID),
    ],
)
def test_rejects(jwk: dict[str, str], code: ErrorCode) -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_public_jwk(PublicJwk.model_validate(jwk))
    assert caught.value.code == code


@pytest.mark.parametrize(
    ("curve", "alg", "length"),
    [
        (Curve.P384, KeyAlgorithm.ES384, 97),
        (Curve.P521, KeyAlgorithm.ES512, 133),
        (Curve.SM2, KeyAlgorithm.SM2SM3, 65),
    ],
)
def test_p384_p521_and_sm2_organisation_keys(curve: Curve, alg: KeyAlgorithm, length: int) -> None:
    key = Jwk.generate(curve)
    members = key.public_jwk()
    parsed = parse_public_jwk(
        PublicJwk.model_validate({k: members[k] for k in ("kty", "crv", "x", "y")})
    )
    assert (parsed.alg, parsed.curve, parsed.key_id) == (alg, curve, key.thumbprint_b64())
    assert parsed.raw_public_key == key.raw_public_key() and len(parsed.raw_public_key) == length


def test_secp256k1_keys_are_not_organisation_keys() -> None:
    # secp256k1 keys are the wallets' chain accounts; the wire model refuses the curve.
    from pydantic import ValidationError

    members = Jwk.generate(Curve.SECP256K1).public_jwk()
    with pytest.raises(ValidationError, match="crv"):
        PublicJwk.model_validate({k: members[k] for k in ("kty", "crv", "x", "y")})
