"""Organisation public keys as JWKs: parsing, RFC 7638 thumbprints, raw on-chain encodings.

Only Ed25519 (``OKP``/``Ed25519``, JOSE ``EdDSA``) and P-256 (``EC``/``P-256``, ``ES256``) are
accepted; the algorithm follows from the key type and is never taken from the JWK's ``alg``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)

from credential_service.errors import ErrorCode, InvalidInput
from credential_service.models import KeyAlgorithm, PublicJwk

PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if "=" in text:
        raise ValueError("base64url must not be padded")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class OrganisationPublicKey:
    """A validated public key: its JOSE algorithm, RFC 7638 thumbprint and encodings."""

    alg: KeyAlgorithm
    key_id: str
    """RFC 7638 SHA-256 thumbprint, base64url."""
    public_key: PublicKey
    jwk: dict[str, str]
    """The canonical public members only (``kty``, ``crv``, ``x``[, ``y``])."""

    @property
    def key_id_bytes(self) -> bytes:
        """The thumbprint as the 32-byte ``keyId`` of ``TrustRegistry.registerKey``."""
        return b64url_decode(self.key_id)

    @property
    def raw_public_key(self) -> bytes:
        """32-byte raw Ed25519 key or 65-byte uncompressed SEC1 P-256 point."""
        if isinstance(self.public_key, ed25519.Ed25519PublicKey):
            return self.public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return self.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638 JWK thumbprint (SHA-256, base64url) over the required members only."""
    required = ("crv", "kty", "x") if jwk["kty"] == "OKP" else ("crv", "kty", "x", "y")
    canonical = json.dumps({k: jwk[k] for k in required}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


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
    try:
        x = b64url_decode(jwk.x)
        if jwk.kty == "OKP" and jwk.crv == "Ed25519" and jwk.y is None:
            if len(x) != 32:
                raise ValueError("an Ed25519 key is 32 bytes")
            public: PublicKey = ed25519.Ed25519PublicKey.from_public_bytes(x)
            members = {"kty": "OKP", "crv": "Ed25519", "x": jwk.x}
            alg = KeyAlgorithm.EDDSA
        elif jwk.kty == "EC" and jwk.crv == "P-256" and jwk.y is not None:
            y = b64url_decode(jwk.y)
            if len(x) != 32 or len(y) != 32:
                raise ValueError("P-256 coordinates are 32 bytes each")
            public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b"\x04" + x + y)
            members = {"kty": "EC", "crv": "P-256", "x": jwk.x, "y": jwk.y}
            alg = KeyAlgorithm.ES256
        else:
            raise ValueError(f"unsupported key type {jwk.kty}/{jwk.crv}")
    except ValueError as err:
        raise InvalidInput(f"invalid JWK: {err}", code=ErrorCode.JWK_INVALID) from err
    return OrganisationPublicKey(
        alg=alg, key_id=thumbprint(members), public_key=public, jwk=members
    )


def public_jwk_of(private_key: PrivateKey) -> dict[str, str]:
    """The public JWK members of ``private_key`` (Ed25519 or P-256)."""
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    numbers = private_key.public_key().public_numbers()
    return {
        "kty": "EC",
        "crv": "P-256",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }


def private_jwk_of(private_key: PrivateKey) -> dict[str, str]:
    """The full private JWK of ``private_key``, ``kid`` set to its thumbprint."""
    jwk = public_jwk_of(private_key)
    if isinstance(private_key, ed25519.Ed25519PrivateKey):
        d = private_key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    else:
        d = private_key.private_numbers().private_value.to_bytes(32, "big")
    return {**jwk, "d": b64url_encode(d), "kid": thumbprint(jwk)}


def private_key_from_jwk(jwk: dict[str, Any]) -> PrivateKey:
    """Load an Ed25519 or P-256 private JWK. Raises ``InvalidInput`` (``jwk_invalid``)."""
    try:
        d = b64url_decode(str(jwk["d"]))
        if jwk.get("kty") == "OKP" and jwk.get("crv") == "Ed25519":
            return ed25519.Ed25519PrivateKey.from_private_bytes(d)
        if jwk.get("kty") == "EC" and jwk.get("crv") == "P-256":
            return ec.derive_private_key(int.from_bytes(d, "big"), ec.SECP256R1())
        raise ValueError("unsupported key type")
    except (KeyError, ValueError) as err:
        raise InvalidInput(f"invalid private JWK: {err}", code=ErrorCode.JWK_INVALID) from err
