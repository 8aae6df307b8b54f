"""Organisation public keys as JWKs: parsing, RFC 7638 thumbprints, raw on-chain encodings.

The curves of `KeyAlgorithm` are accepted: Ed25519 (``OKP``/``Ed25519``, JOSE ``EdDSA``),
P-256, P-384, P-521 (``EC``, ``ES256``, ``ES384``, ``ES512``) and SM2 (``EC``/``SM2``,
``SM2SM3``); the algorithm follows from the key type and is never taken from the JWK's ``alg``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credential_service.errors import ErrorCode, InvalidInput
from credential_service.models import KeyAlgorithm, PublicJwk
from wallet_sdk import Curve, FormatError, Jwk
from wallet_sdk.jose import b64url_decode

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class OrganisationPublicKey:
    """A validated public key: its JOSE algorithm, RFC 7638 thumbprint and encodings."""

    alg: KeyAlgorithm
    key_id: str
    """RFC 7638 SHA-256 thumbprint, base64url."""
    key: Jwk
    """The public key, to verify with (`wallet_sdk.jose.verify_compact`)."""
    jwk: dict[str, str]
    """The canonical public members only (``kty``, ``crv``, ``x``[, ``y``])."""
    raw_public_key: bytes
    """32-byte raw Ed25519 key or the uncompressed SEC1 point (`wallet_sdk.Jwk.raw_public_key`)."""

    @property
    def curve(self) -> Curve:
        """The key's curve, which names its algorithm code on chain (`Curve.registry_code`)."""
        return self.key.curve

    @property
    def key_id_bytes(self) -> bytes:
        """The thumbprint as the 32-byte ``keyId`` of ``TrustRegistry.registerKey``."""
        return b64url_decode(self.key_id)


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members only."""
    return Jwk.from_jwk(jwk).thumbprint_b64()


def parse_public_jwk(jwk: PublicJwk) -> OrganisationPublicKey:
    """Validate ``jwk`` as a public key on one of the curves of `KeyAlgorithm`.

    Raises ``InvalidInput`` with ``jwk_private_material`` when the JWK carries a private key,
    and ``jwk_invalid`` when the key type, curve or coordinates are wrong.
    """
    if jwk.d is not None:
        raise InvalidInput(
            "the JWK contains private key material; send the public key only",
            code=ErrorCode.JWK_PRIVATE_MATERIAL,
        )
    members = {"kty": jwk.kty, "crv": jwk.crv, "x": jwk.x}
    if jwk.y is not None:
        members["y"] = jwk.y
    try:
        key = Jwk.from_jwk(members)
    except FormatError as err:
        raise InvalidInput(f"invalid JWK: {err}", code=ErrorCode.JWK_INVALID) from err
    try:
        alg = KeyAlgorithm(key.algorithm.value)
    except ValueError as err:
        raise InvalidInput(
            f"invalid JWK: unsupported key type {jwk.kty}/{jwk.crv}", code=ErrorCode.JWK_INVALID
        ) from err
    return OrganisationPublicKey(
        alg=alg,
        key_id=key.thumbprint_b64(),
        key=key,
        jwk=key.public_jwk(),
        raw_public_key=key.raw_public_key(),
    )


def public_jwk_of(private_key: PrivateKey) -> dict[str, str]:
    """The public JWK members of ``private_key`` (Ed25519 or P-256)."""
    curve = Curve.ED25519 if isinstance(private_key, ed25519.Ed25519PrivateKey) else Curve.P256
    return Jwk(curve, private_key.public_key()).public_jwk()
