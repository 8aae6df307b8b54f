"""Sealing at rest (`credential_service.sealing`): SM4 per GB/T 32907, both algorithms
recorded in the sealed value, legacy values without the marker still open."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from credential_service.sealing import (
    SealAlgorithm,
    SealBroken,
    open_sealed,
    seal,
    sealed_algorithm,
)

SM4_VECTOR: dict[str, str] = json.loads(
    (
        Path(__file__).resolve().parents[2] / "assets" / "credential_service" / "gbt32907_sm4.json"
    ).read_text()
)
SECRET = b"\x11" * 32
INFO = b"hrss-trust/test/v1"


def test_sm4_matches_the_standards_example() -> None:
    key = bytes.fromhex(SM4_VECTOR["key"])
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    block = encryptor.update(bytes.fromhex(SM4_VECTOR["plaintext"]))
    assert block.hex() == SM4_VECTOR["ciphertext"]


def test_sm4_one_million_encryptions() -> None:
    # GB/T 32907 example 2: about two seconds through cryptography's SM4.
    key = bytes.fromhex(SM4_VECTOR["key"])
    encryptor = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    block = bytes.fromhex(SM4_VECTOR["plaintext"])
    for _ in range(1_000_000):
        block = encryptor.update(block)
    assert block.hex() == SM4_VECTOR["ciphertext_after_1000000"]


@pytest.mark.parametrize("algorithm", list(SealAlgorithm))
def test_round_trip_records_the_algorithm(algorithm: SealAlgorithm) -> None:
    sealed = seal(SECRET, b"key terms", info=INFO, aad=b"contract-1:1", algorithm=algorithm)
    assert sealed_algorithm(sealed) is algorithm
    assert open_sealed(SECRET, sealed, info=INFO, aad=b"contract-1:1") == b"key terms"


def test_sm4_seal_is_sm4_gcm_under_an_hkdf_sm3_key() -> None:
    sealed = seal(SECRET, b"document", info=INFO, aad=b"a", algorithm=SealAlgorithm.SM4_GCM)
    key = HKDF(algorithm=hashes.SM3(), length=16, salt=None, info=INFO).derive(SECRET)
    nonce, body = sealed[6:18], sealed[18:]  # after the marker and algorithm byte
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, body[-16:])).decryptor()
    decryptor.authenticate_additional_data(sealed[:6] + b"a")
    assert decryptor.update(body[:-16]) + decryptor.finalize() == b"document"


def _legacy_seal(plaintext: bytes, aad: bytes) -> bytes:
    # The format before the marker: nonce ‖ AES-256-GCM under HKDF-SHA256.
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(SECRET)
    nonce = os.urandom(12)
    return nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def test_legacy_values_without_marker_still_open() -> None:
    sealed = _legacy_seal(b"old answer", b"req-9")
    assert sealed_algorithm(sealed) is SealAlgorithm.AES_256_GCM
    assert open_sealed(SECRET, sealed, info=INFO, aad=b"req-9") == b"old answer"


def test_legacy_value_whose_nonce_begins_with_the_marker_still_opens() -> None:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(SECRET)
    nonce = b"\xa7seal\x02" + os.urandom(6)  # looks like an SM4 header
    sealed = nonce + AESGCM(key).encrypt(nonce, b"unlucky", b"x")
    assert open_sealed(SECRET, sealed, info=INFO, aad=b"x") == b"unlucky"


@pytest.mark.parametrize("algorithm", list(SealAlgorithm))
def test_relabelled_value_does_not_open(algorithm: SealAlgorithm) -> None:
    sealed = bytearray(seal(SECRET, b"terms", info=INFO, aad=b"a", algorithm=algorithm))
    sealed[5] = 3 - sealed[5]  # swap AES-256-GCM (1) and SM4-GCM (2)
    with pytest.raises(SealBroken, match="cannot be opened"):
        open_sealed(SECRET, bytes(sealed), info=INFO, aad=b"a")


@pytest.mark.parametrize("algorithm", list(SealAlgorithm))
@pytest.mark.parametrize(
    ("secret", "aad", "damage"),
    [(b"\x22" * 32, b"a", False), (SECRET, b"b", False), (SECRET, b"a", True)],
    ids=["other-secret", "other-aad", "damaged"],
)
def test_reject_paths(algorithm: SealAlgorithm, secret: bytes, aad: bytes, damage: bool) -> None:
    sealed = bytearray(seal(SECRET, b"terms", info=INFO, aad=b"a", algorithm=algorithm))
    if damage:
        sealed[-1] ^= 1
    with pytest.raises(SealBroken, match="cannot be opened"):
        open_sealed(secret, bytes(sealed), info=INFO, aad=aad)


def test_truncated_value_does_not_open() -> None:
    with pytest.raises(SealBroken, match="cannot be opened"):
        open_sealed(SECRET, b"\xa7seal\x02" + b"\x00" * 8, info=INFO, aad=b"a")
