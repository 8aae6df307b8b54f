"""SM3 (GB/T 32905-2016) in `wallet_sdk.merkle`: the standard's vectors, RFC 6962 trees and
proofs built with SM3 throughout, through both backends (OpenSSL via hashlib, cryptography)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from hypothesis import given, settings
from hypothesis import strategies as st

from wallet_sdk import (
    FormatError,
    HashAlgorithm,
    MerkleTree,
    UnsupportedAlgorithmError,
    VerificationError,
    leaf_hash,
    merkle,
    node_hash,
    verify_inclusion,
)

# GB/T 32905-2016, appendix A: example 1 ("abc") and example 2 ("abcd" sixteen times, 64 bytes).
GBT_32905_VECTORS = [
    (b"abc", "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"),
    (b"abcd" * 16, "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"),
]
SM3 = HashAlgorithm.SM3


def _reference_sm3(data: bytes) -> bytes:
    """SM3 straight from cryptography, independent of `wallet_sdk.merkle`."""
    context = hashes.Hash(hashes.SM3())
    context.update(data)
    return context.finalize()


def _reference_root(digests: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH over document digests, recursively, with `_reference_sm3`."""
    if len(digests) == 1:
        return _reference_sm3(b"\x00" + digests[0])
    k = 1 << ((len(digests) - 1).bit_length() - 1)
    left, right = _reference_root(digests[:k]), _reference_root(digests[k:])
    return _reference_sm3(b"\x01" + left + right)


def _openssl_backend() -> Callable[[bytes], merkle.Hasher]:
    if "sm3" not in hashlib.algorithms_available:
        pytest.skip("this Python's OpenSSL has no SM3; the cryptography backend is tested")
    backend = merkle._sm3_backend(hashlib.algorithms_available)
    assert backend is not None and backend is not merkle._CryptographySM3
    return backend


def _cryptography_backend() -> Callable[[bytes], merkle.Hasher]:
    # What a Python whose OpenSSL lacks SM3 gets.
    backend = merkle._sm3_backend(frozenset())
    assert backend is merkle._CryptographySM3
    return backend


@pytest.fixture(params=["openssl", "cryptography"])
def sm3_backend(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every SM3 hash of the test goes through the named backend."""
    backend = _openssl_backend() if request.param == "openssl" else _cryptography_backend()
    monkeypatch.setattr(merkle, "_SM3", backend)
    yield request.param


@pytest.mark.parametrize(("message", "expected"), GBT_32905_VECTORS, ids=["abc", "abcd*16"])
def test_standard_vectors(sm3_backend: str, message: bytes, expected: str) -> None:
    assert SM3.digest(message).hex() == expected


@pytest.mark.parametrize(("message", "expected"), GBT_32905_VECTORS, ids=["abc", "abcd*16"])
def test_standard_vectors_streamed_in_pieces(
    sm3_backend: str, message: bytes, expected: str
) -> None:
    hasher = SM3.new()
    for start in range(0, len(message), 3):
        hasher.update(message[start : start + 3])
    assert hasher.digest().hex() == expected
    assert hasher.digest().hex() == expected  # reading the digest does not end the hash
    hasher.update(b"x")
    assert hasher.digest() == SM3.digest(message + b"x")


def test_the_default_backend_is_openssl_when_it_has_sm3() -> None:
    if "sm3" in hashlib.algorithms_available:
        assert merkle._SM3 is not merkle._CryptographySM3
    else:
        assert merkle._SM3 is merkle._CryptographySM3


def test_sm3_is_named_sm3_in_receipts_and_is_32_bytes() -> None:
    assert HashAlgorithm.from_name("sm3") is SM3
    assert SM3.digest_size == len(SM3.digest(b"")) == 32
    assert SM3.digest(b"abc") != HashAlgorithm.SHA256.digest(b"abc")
    assert HashAlgorithm.SHA256.digest(b"abc") == hashlib.sha256(b"abc").digest()


def test_leaf_and_node_hashes_are_domain_separated_sm3(sm3_backend: str) -> None:
    digest = SM3.digest(b"labour contract")
    assert leaf_hash(digest, SM3) == _reference_sm3(b"\x00" + digest)
    assert node_hash(b"a" * 32, b"b" * 32, SM3) == _reference_sm3(b"\x01" + b"a" * 32 + b"b" * 32)
    assert leaf_hash(digest, SM3) != leaf_hash(digest)
    assert MerkleTree.build([digest], SM3).root == leaf_hash(digest, SM3) != digest


@pytest.mark.parametrize("size", [1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 100])
def test_sm3_trees_are_rfc6962_and_every_proof_round_trips(sm3_backend: str, size: int) -> None:
    digests = [SM3.digest(f"document {i}".encode()) for i in range(size)]
    tree = MerkleTree.build(digests, SM3)
    assert tree.algorithm is SM3
    assert tree.root == _reference_root(digests)
    assert tree.root != MerkleTree.build(digests).root
    proofs = tree.proofs()
    for index, digest in enumerate(digests):
        assert proofs[index] == tree.proof(index)
        verify_inclusion(leaf_hash(digest, SM3), proofs[index], tree.root, SM3)


def test_an_sm3_proof_does_not_verify_as_sha256(sm3_backend: str) -> None:
    digests = [SM3.digest(bytes([i])) for i in range(6)]
    tree = MerkleTree.build(digests, SM3)
    proof = tree.proof(2)
    with pytest.raises(VerificationError, match="does not lead to the expected root") as info:
        verify_inclusion(tree.leaf_hash(2), proof, tree.root, HashAlgorithm.SHA256)
    assert info.value.check == "merkle_path"
    with pytest.raises(VerificationError, match="does not lead to the expected root"):
        verify_inclusion(leaf_hash(digests[2]), proof, tree.root, SM3)


def test_sm3_trees_check_their_leaves(sm3_backend: str) -> None:
    with pytest.raises(FormatError, match="not a 32-byte digest"):
        MerkleTree.build([b"short"], SM3)
    with pytest.raises(FormatError, match="at least one leaf"):
        MerkleTree.build([], SM3)


@settings(max_examples=50, deadline=None)
@given(data=st.binary(max_size=4096), cut=st.integers(min_value=0, max_value=4096))
def test_both_backends_give_the_same_digests(data: bytes, cut: int) -> None:
    openssl = merkle._sm3_backend(hashlib.algorithms_available)
    fallback = merkle._sm3_backend(frozenset())
    assert openssl is not None and fallback is not None
    streamed = fallback(data[:cut])
    streamed.update(data[cut:])
    assert openssl(data).digest() == fallback(data).digest() == streamed.digest()
    assert fallback(data).digest() == _reference_sm3(data)


def test_an_openssl_without_a_working_sm3_falls_back_to_cryptography(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_new = hashlib.new

    def refusing(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "sm3":
            raise ValueError("unsupported hash type sm3")
        return real_new(name, *args, **kwargs)

    monkeypatch.setattr(hashlib, "new", refusing)
    assert merkle._sm3_backend({"sm3"}) is merkle._CryptographySM3

    # An "sm3" that does not give the standard's digest of "abc" is not used either.
    monkeypatch.setattr(hashlib, "new", lambda name, *a, **k: real_new("sha256", *a, **k))
    assert merkle._sm3_backend({"sm3"}) is merkle._CryptographySM3


def test_without_any_sm3_backend_sm3_is_refused_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoSM3:
        def __init__(self, data: bytes = b"") -> None:
            raise UnsupportedAlgorithm("sm3 is not supported by this backend")

    monkeypatch.setattr(merkle, "_CryptographySM3", NoSM3)
    assert merkle._sm3_backend(frozenset()) is None
    monkeypatch.setattr(merkle, "_SM3", None)
    for attempt in (
        lambda: SM3.digest(b"abc"),
        SM3.new,
        lambda: leaf_hash(bytes(32), SM3),
        lambda: MerkleTree.build([bytes(32)], SM3),
    ):
        with pytest.raises(UnsupportedAlgorithmError, match="SM3 is not available"):
            attempt()
    # SHA-256 is unaffected.
    assert MerkleTree.build([bytes(32)]).root == leaf_hash(bytes(32))
