"""Sealing at rest: AES-256-GCM under a key derived (HKDF-SHA256) from a keystore secret.

One construction for everything the service keeps encrypted in its database (the key terms of
labour contracts, the stored answers of idempotent requests): a random 96-bit nonce, then the
ciphertext with its tag, the caller's associated data bound in.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SealBroken", "open_sealed", "seal"]

_NONCE_BYTES = 12


class SealBroken(ValueError):
    """A sealed value that does not open: another secret, other associated data, or damage."""


def _cipher(secret: bytes, info: bytes, salt: bytes | None) -> AESGCM:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(secret)
    return AESGCM(key)


def seal(
    secret: bytes, plaintext: bytes, *, info: bytes, aad: bytes, salt: bytes | None = None
) -> bytes:
    """``nonce ‖ AES-256-GCM(HKDF(secret, salt, info), plaintext, aad)``."""
    nonce = os.urandom(_NONCE_BYTES)
    return nonce + _cipher(secret, info, salt).encrypt(nonce, plaintext, aad)


def open_sealed(
    secret: bytes, sealed: bytes, *, info: bytes, aad: bytes, salt: bytes | None = None
) -> bytes:
    """The plaintext of `seal`'s output. Raises `SealBroken` when it does not open."""
    nonce, body = sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:]
    try:
        return _cipher(secret, info, salt).decrypt(nonce, body, aad)
    except (InvalidTag, ValueError) as err:
        raise SealBroken("the sealed value cannot be opened") from err
