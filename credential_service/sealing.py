"""Sealing at rest: AES-256-GCM or SM4-GCM under a key derived (HKDF) from a keystore secret.

One construction for everything the service keeps encrypted in its database (the key terms of
labour contracts, the stored answers of idempotent requests, consent receipts): a random 96-bit
nonce, then the ciphertext with its 128-bit tag, the caller's associated data bound in.

Two algorithms, recorded in each sealed value so that either opens whatever the profile:

``AES-256-GCM``  key HKDF-SHA256(secret, salt, info), 32 bytes (the international profile)
``SM4-GCM``      key HKDF-SM3(secret, salt, info), 16 bytes; SM4 per GB/T 32907 (the national
                 profile, GB/T 39786)

Layout: ``MARKER ‖ algorithm byte ‖ nonce ‖ ciphertext ‖ tag``. The algorithm byte is also
bound into the associated data, so a value cannot be relabelled. Values sealed before the
marker existed (``nonce ‖ AES-256-GCM``) still open: a value that does not open as marked is
tried as such a legacy value, and the GCM tag decides.
"""

from __future__ import annotations

import enum
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from wallet_sdk._sm4 import SM4GCM

__all__ = ["SealAlgorithm", "SealBroken", "open_sealed", "seal", "sealed_algorithm"]

_NONCE_BYTES = 12
_MARKER = b"\xa7seal"


class SealAlgorithm(enum.Enum):
    """AEAD algorithms a sealed value may use; the value is its byte in the sealed layout."""

    AES_256_GCM = 1
    SM4_GCM = 2


class SealBroken(ValueError):
    """A sealed value that does not open: another secret, other associated data, or damage."""


def _key(secret: bytes, info: bytes, salt: bytes | None, algorithm: SealAlgorithm) -> bytes:
    if algorithm is SealAlgorithm.SM4_GCM:
        return HKDF(algorithm=hashes.SM3(), length=16, salt=salt, info=info).derive(secret)
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)


def _aead(key: bytes, algorithm: SealAlgorithm) -> AESGCM | SM4GCM:
    return SM4GCM(key) if algorithm is SealAlgorithm.SM4_GCM else AESGCM(key)


def _bound(aad: bytes, algorithm: SealAlgorithm) -> bytes:
    return _MARKER + bytes([algorithm.value]) + aad


def seal(
    secret: bytes,
    plaintext: bytes,
    *,
    info: bytes,
    aad: bytes,
    salt: bytes | None = None,
    algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM,
) -> bytes:
    """``MARKER ‖ algorithm ‖ nonce ‖ AEAD(HKDF(secret, salt, info), plaintext, aad)``."""
    nonce = os.urandom(_NONCE_BYTES)
    key = _key(secret, info, salt, algorithm)
    body = _aead(key, algorithm).encrypt(nonce, plaintext, _bound(aad, algorithm))
    return _MARKER + bytes([algorithm.value]) + nonce + body


def sealed_algorithm(sealed: bytes) -> SealAlgorithm:
    """The algorithm a sealed value records; `AES_256_GCM` for a legacy value without marker.

    Says nothing about whether the value opens.
    """
    header = len(_MARKER) + 1
    if len(sealed) > header and sealed.startswith(_MARKER):
        try:
            return SealAlgorithm(sealed[len(_MARKER)])
        except ValueError:
            pass
    return SealAlgorithm.AES_256_GCM


def open_sealed(
    secret: bytes, sealed: bytes, *, info: bytes, aad: bytes, salt: bytes | None = None
) -> bytes:
    """The plaintext of `seal`'s output, whichever algorithm it records, or of a legacy value.

    Raises `SealBroken` when it does not open.
    """
    header = len(_MARKER) + 1
    if sealed.startswith(_MARKER) and len(sealed) > header:
        try:
            algorithm = SealAlgorithm(sealed[len(_MARKER)])
        except ValueError:
            algorithm = None
        if algorithm is not None:
            nonce = sealed[header : header + _NONCE_BYTES]
            body = sealed[header + _NONCE_BYTES :]
            key = _key(secret, info, salt, algorithm)
            try:
                return _aead(key, algorithm).decrypt(nonce, body, _bound(aad, algorithm))
            except (InvalidTag, ValueError):
                pass  # a legacy value whose random nonce happens to begin with the marker
    nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        return AESGCM(_key(secret, info, salt, SealAlgorithm.AES_256_GCM)).decrypt(nonce, body, aad)
    except (InvalidTag, ValueError) as err:
        raise SealBroken("the sealed value cannot be opened") from err
