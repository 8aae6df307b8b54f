"""The verifier's Ed25519 fast path calls libsodium's ``crypto_sign_open`` through PyNaCl's
private ``nacl._sodium`` module (issue #16: a private third-party API on a security path is
pinned by a test). It must give the same verdict as PyNaCl's public binding and as OpenSSL
(`cryptography`) on valid signatures and on every kind of bad input; where libsodium is
stricter (small-order public keys, non-canonical points), it refuses. PyNaCl is a dependency of
the package, so the fast path is always there (the last test says so when it is not)."""

from __future__ import annotations

import os

import nacl.bindings
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from nacl.exceptions import BadSignatureError

from wallet_sdk.credentials import verifier

# Small-order points (RFC 8032 §5.1.3 leaves them to the implementation; libsodium refuses).
SMALL_ORDER_KEYS = [
    bytes(32),
    bytes([1]) + bytes(31),
    bytes.fromhex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
]


def _public(signed: bytes, key: bytes) -> bool:
    try:
        nacl.bindings.crypto_sign_open(signed, key)
    except (BadSignatureError, ValueError, TypeError):
        return False
    return True


def _openssl(signed: bytes, key: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(key).verify(signed[:64], signed[64:])
    except (InvalidSignature, ValueError):
        return False
    return True


def _cases() -> list[tuple[str, bytes, bytes]]:
    cases = []
    for length in (0, 1, 100, 4096):
        public, secret = nacl.bindings.crypto_sign_keypair()
        message = os.urandom(length)
        signed = nacl.bindings.crypto_sign(message, secret)
        cases.append((f"valid {length}", signed, public))
        flipped = bytearray(signed)
        flipped[0] ^= 1
        cases.append((f"R flipped {length}", bytes(flipped), public))
        flipped = bytearray(signed)
        flipped[40] ^= 0x80
        cases.append((f"S flipped {length}", bytes(flipped), public))
        if length:
            flipped = bytearray(signed)
            flipped[-1] ^= 1
            cases.append((f"message flipped {length}", bytes(flipped), public))
        other, _ = nacl.bindings.crypto_sign_keypair()
        cases.append((f"other key {length}", signed, other))
        # S >= L (non-canonical scalar): libsodium and OpenSSL both refuse.
        high_s = signed[:32] + b"\xff" * 32 + signed[64:]
        cases.append((f"S not reduced {length}", high_s, public))
    return cases


@pytest.mark.parametrize(
    ("name", "signed", "key"), _cases(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_the_private_fast_path_agrees_with_the_public_bindings(
    name: str, signed: bytes, key: bytes
) -> None:
    assert verifier._sodium_verify is not None
    fast = verifier._sodium_verify(signed, key)
    assert fast == _public(signed, key) == _openssl(signed, key), name
    assert fast is name.startswith("valid")


@pytest.mark.parametrize("key", SMALL_ORDER_KEYS)
def test_small_order_keys_are_refused(key: bytes) -> None:
    assert verifier._sodium_verify is not None
    # The identity point with S = 0 "verifies" any message under a cofactored check; libsodium
    # refuses the key outright.
    signed = bytes([1]) + bytes(31) + bytes(32) + b"message"
    assert verifier._sodium_verify(signed, key) is False
    assert _public(signed, key) is False


def test_the_fast_path_is_the_direct_call_when_pynacl_is_installed() -> None:
    # A PyNaCl release that moves `nacl._sodium` makes the import fall back to the public
    # binding; this test notices, so the benchmark figures are re-measured.
    assert verifier._sodium_verify is not None
    assert verifier._sodium_verify.__name__ == "_sodium_verify_direct"
