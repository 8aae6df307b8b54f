"""Organisation public keys as JWKs: parsing, RFC 7638 thumbprints, raw on-chain encodings.

Only Ed25519 (``OKP``/``Ed25519``, JOSE ``EdDSA``) and P-256 (``EC``/``P-256``, ``ES256``) are
accepted; the algorithm follows from the key type and is never taken from the JWK's ``alg``.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from credential_service.errors import ErrorCode, InvalidInput
from credential_service.models import KeyAlgorithm, PublicJwk
from wallet_sdk import Curve, FormatError, Jwk
from wallet_sdk.jose import b64url_decode

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

# Organisation keys: the wallet SDK's JWK handling, restricted to these curves.
_ALGORITHM_OF = {Curve.ED25519: KeyAlgorithm.EDDSA, Curve.P256: KeyAlgorithm.ES256}


@dataclass(frozen=True)
class OrganisationPublicKey:
    """A validated public key: its JOSE algorithm, RFC 7638 thumbprint and encodings."""

    alg: KeyAlgorithm
    key_id: str
    """RFC 7638 SHA-256 thumbprint, base64url."""
    public_key: PublicKey
    jwk: dict[str, str]
    """The canonical public members only (``kty``, ``crv``, ``x``[, ``y``])."""
    raw_public_key: bytes
    """32-byte raw Ed25519 key or 65-byte uncompressed SEC1 P-256 point."""

    @property
    def key_id_bytes(self) -> bytes:
        """The thumbprint as the 32-byte ``keyId`` of ``TrustRegistry.registerKey``."""
        return b64url_decode(self.key_id)


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members only."""
    return Jwk.from_jwk(jwk).thumbprint_b64()


def parse_public_jwk(jwk: PublicJwk) -> OrganisationPublicKey:
    """Validate ``jwk`` as an Ed25519 or P-256 public key.

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
    alg = _ALGORITHM_OF.get(key.curve)
    if alg is None:
        raise InvalidInput(
            f"invalid JWK: unsupported key type {jwk.kty}/{jwk.crv}", code=ErrorCode.JWK_INVALID
        )
    public = key.public_key
    assert isinstance(public, ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey)
    return OrganisationPublicKey(
        alg=alg,
        key_id=key.thumbprint_b64(),
        public_key=public,
        jwk=key.public_jwk(),
        raw_public_key=key.raw_public_key(),
    )


def public_jwk_of(private_key: PrivateKey) -> dict[str, str]:
    """The public JWK members of ``private_key`` (Ed25519 or P-256)."""
    curve = Curve.ED25519 if isinstance(private_key, ed25519.Ed25519PrivateKey) else Curve.P256
    return Jwk(curve, private_key.public_key()).public_jwk()
