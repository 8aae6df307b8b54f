"""SM2 signatures (GB/T 32918.2) with SM3 and the GM/T 0009 user identity, through Tongsuo.

`cryptography` has SM3 and SM4 but no SM2, so SM2 keys and signatures go through `tongsuopy`
(Tongsuo, the OpenSSL fork that carries the national algorithms). The nonce ``k`` is drawn
inside Tongsuo; no function here takes one. Signatures are the fixed-width ``r || s`` (64
bytes) that JOSE uses; Tongsuo speaks DER, converted at this boundary.

Tongsuo signs with the default identity ``1234567812345678`` (GM/T 0009 §10): the digest
signed is ``SM3(Z || M)`` with ``Z = SM3(ENTL || ID || a || b || xG || yG || xA || yA)``.
Every error from Tongsuo leaves this module as ``ValueError``; callers wrap it.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from tongsuopy.crypto import hashes as _ts_hashes
from tongsuopy.crypto import serialization as _ts_serialization
from tongsuopy.crypto.asymciphers import ec as _ts_ec
from tongsuopy.crypto.exceptions import InvalidSignature as _TsInvalidSignature

__all__ = ["DEFAULT_USER_ID", "Sm2PrivateKey", "Sm2PublicKey", "Sm2SignatureInvalid"]

DEFAULT_USER_ID = b"1234567812345678"
_SIZE = 32
_ORDER = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


class Sm2SignatureInvalid(ValueError):
    """The signature does not verify under the public key."""


def _algorithm() -> Any:
    return _ts_ec.ECDSA(_ts_hashes.SM3())


class Sm2PublicKey:
    """An SM2 public key: a point on the recommended curve (GB/T 32918.5)."""

    __slots__ = ("_key",)

    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def from_point(cls, point: bytes) -> Sm2PublicKey:
        """Load ``04 || x || y`` (65 bytes). Raises `ValueError` when it is not on the curve."""
        if len(point) != 1 + 2 * _SIZE or point[0] != 4:
            raise ValueError("an SM2 public key is a 65-byte uncompressed point")
        try:
            return cls(_ts_ec.EllipticCurvePublicKey.from_encoded_point(_ts_ec.SM2(), point))
        except Exception as err:  # Tongsuo raises assorted types for a bad point
            raise ValueError("not a point on the SM2 curve") from err

    def point(self) -> bytes:
        """The uncompressed point ``04 || x || y``."""
        encoded: bytes = self._key.public_bytes(
            _ts_serialization.Encoding.X962, _ts_serialization.PublicFormat.UncompressedPoint
        )
        return encoded

    def verify(self, signature: bytes, message: bytes) -> None:
        """Check ``r || s`` over `message` (Z computed with the default identity).

        Raises `Sm2SignatureInvalid` when it does not verify, `ValueError` when it is not 64
        bytes or r, s are out of range.
        """
        if len(signature) != 2 * _SIZE:
            raise ValueError("an SM2 signature is 64 bytes")
        r = int.from_bytes(signature[:_SIZE], "big")
        s = int.from_bytes(signature[_SIZE:], "big")
        if not (0 < r < _ORDER and 0 < s < _ORDER):
            raise ValueError("r or s out of range")
        try:
            self._key.verify(encode_dss_signature(r, s), message, _algorithm())
        except _TsInvalidSignature as err:
            raise Sm2SignatureInvalid("signature does not verify") from err

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sm2PublicKey) and other.point() == self.point()

    def __hash__(self) -> int:
        return hash(self.point())


class Sm2PrivateKey:
    """An SM2 private key. Signs with a nonce Tongsuo draws itself."""

    __slots__ = ("_key",)

    def __init__(self, key: Any) -> None:
        self._key = key

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        """A new random key."""
        return cls(_ts_ec.generate_private_key(_ts_ec.SM2()))

    @classmethod
    def from_scalar(cls, secret: bytes) -> Sm2PrivateKey:
        """Load a 32-byte big-endian scalar in ``[1, n-2]`` (GB/T 32918.1 §6.1).

        Raises `ValueError` otherwise.
        """
        if len(secret) != _SIZE:
            raise ValueError("an SM2 private key is 32 bytes")
        value = int.from_bytes(secret, "big")
        if not 0 < value < _ORDER - 1:
            raise ValueError("SM2 private key out of range")
        try:
            return cls(_ts_ec.derive_private_key(value, _ts_ec.SM2()))
        except Exception as err:  # Tongsuo raises assorted types for a bad scalar
            raise ValueError("invalid SM2 private key") from err

    def scalar(self) -> bytes:
        """The 32-byte big-endian private scalar."""
        value: int = self._key.private_numbers().private_value
        return value.to_bytes(_SIZE, "big")

    def public_key(self) -> Sm2PublicKey:
        """The matching public key."""
        return Sm2PublicKey(self._key.public_key())

    def sign(self, message: bytes) -> bytes:
        """``r || s`` over `message`, 64 bytes."""
        r, s = decode_dss_signature(self._key.sign(message, _algorithm()))
        return int(r).to_bytes(_SIZE, "big") + int(s).to_bytes(_SIZE, "big")
