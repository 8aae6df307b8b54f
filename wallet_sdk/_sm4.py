"""SM4 (GB/T 32907) in GCM mode with a 96-bit nonce and a 128-bit tag, as an AEAD.

The same calling convention as ``cryptography``'s ``AESGCM`` (``encrypt`` returns the
ciphertext with the tag appended; ``decrypt`` raises ``InvalidTag``), so that a caller holding
either can use it the same way. SM4 itself is OpenSSL's, through ``cryptography``.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = ["SM4GCM"]

_TAG_BYTES = 16


class SM4GCM:
    """SM4-GCM under a 16-byte key. Raises `ValueError` for a key of another length."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        if len(key) != 16:
            raise ValueError("an SM4 key is 16 bytes")
        self._key = key

    @classmethod
    def derived(cls, secret: bytes, info: bytes) -> SM4GCM:
        """SM4-GCM under the 16-byte HKDF-SM3 of `secret` for the purpose `info`."""
        return cls(HKDF(algorithm=hashes.SM3(), length=16, salt=None, info=info).derive(secret))

    def encrypt(self, nonce: bytes, data: bytes, associated_data: bytes) -> bytes:
        """``ciphertext || tag``."""
        encryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(associated_data)
        body = encryptor.update(data) + encryptor.finalize()
        return body + encryptor.tag

    def decrypt(self, nonce: bytes, data: bytes, associated_data: bytes) -> bytes:
        """The plaintext of `encrypt`'s output. Raises ``InvalidTag`` when it does not open."""
        if len(data) < _TAG_BYTES:
            raise InvalidTag
        ciphertext, tag = data[:-_TAG_BYTES], data[-_TAG_BYTES:]
        decryptor = Cipher(algorithms.SM4(self._key), modes.GCM(nonce, tag)).decryptor()
        decryptor.authenticate_additional_data(associated_data)
        return decryptor.update(ciphertext) + decryptor.finalize()
