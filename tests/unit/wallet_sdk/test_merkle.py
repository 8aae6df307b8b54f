"""RFC 6962 Merkle tree: CT test vectors, shape, proofs, tampering, and properties."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.wallet_sdk.conftest import digest_of, load_asset
from wallet_sdk import (
    FormatError,
    HashAlgorithm,
    InclusionProof,
    MerkleTree,
    UnsupportedAlgorithmError,
    VerificationError,
    leaf_hash,
    node_hash,
    verify_inclusion,
)

CT = load_asset("rfc6962_ct_vectors.json")
CT_LEAVES = [leaf_hash(bytes.fromhex(data)) for data in CT["leaves"]]


def _reference_root(leaves: list[bytes]) -> bytes:
    """RFC 6962 §2.1 MTH written recursively, as the RFC states it."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


@pytest.mark.parametrize("size", range(1, 9))
def test_roots_match_certificate_transparency_vectors(size: int) -> None:
    assert MerkleTree.from_leaf_hashes(CT_LEAVES[:size]).root.hex() == CT["roots"][size - 1]


@pytest.mark.parametrize("case", CT["inclusion_proofs"], ids=lambda c: f"leaf{c['leaf_index']}")
def test_inclusion_proofs_match_certificate_transparency_vectors(case: dict) -> None:
    tree = MerkleTree.from_leaf_hashes(CT_LEAVES[: case["tree_size"]])
    proof = tree.proof(case["leaf_index"])
    assert [node.hex() for node in proof.path] == case["path"]
    verify_inclusion(CT_LEAVES[case["leaf_index"]], proof, bytes.fromhex(CT["roots"][-1]))


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    digest = digest_of(0)
    assert leaf_hash(digest) == hashlib.sha256(b"\x00" + digest).digest()
    assert (
        node_hash(b"a" * 32, b"b" * 32) == hashlib.sha256(b"\x01" + b"a" * 32 + b"b" * 32).digest()
    )
    tree = MerkleTree.build([digest])
    assert tree.root == leaf_hash(digest) != digest


@pytest.mark.parametrize("size", [1, 2, 3, 5, 6, 7, 9, 16, 17, 31, 100])
def test_shape_is_rfc6962_for_any_size(size: int) -> None:
    digests = [digest_of(i) for i in range(size)]
    tree = MerkleTree.build(digests)
    assert tree.root == _reference_root([leaf_hash(d) for d in digests])
    assert tree.size == size


def test_proofs_equals_proof_for_every_index() -> None:
    for size in [1, 2, 3, 5, 8, 13, 100, 1025]:
        tree = MerkleTree.build([digest_of(i) for i in range(size)])
        assert tree.proofs() == [tree.proof(i) for i in range(size)]


def test_build_rejects_empty_batch() -> None:
    with pytest.raises(FormatError, match="at least one leaf"):
        MerkleTree.build([])


def test_build_rejects_digest_of_wrong_length() -> None:
    with pytest.raises(FormatError, match="leaf 1 is not a 32-byte digest"):
        MerkleTree.build([digest_of(0), b"short"])


def test_from_leaf_hashes_rejects_wrong_length() -> None:
    with pytest.raises(FormatError, match="leaf hash 0 is not 32 bytes"):
        MerkleTree.from_leaf_hashes([b"x"])


def test_proof_rejects_index_outside_tree() -> None:
    tree = MerkleTree.build([digest_of(0)])
    with pytest.raises(FormatError, match="outside a tree of 1 leaves"):
        tree.proof(1)
    with pytest.raises(FormatError):
        tree.leaf_hash(-1)


def test_unknown_algorithms_are_rejected_clearly() -> None:
    # SM3 is implemented now (tests/unit/wallet_sdk/test_sm3.py); other names stay refused.
    with pytest.raises(UnsupportedAlgorithmError, match="unknown hash algorithm 'md5'"):
        HashAlgorithm.from_name("md5")
    with pytest.raises(UnsupportedAlgorithmError, match="unknown hash algorithm 'SM3'"):
        HashAlgorithm.from_name("SM3")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"leaf_index": 0, "tree_size": 0, "path": ()}, "tree_size"),
        ({"leaf_index": 3, "tree_size": 3, "path": ()}, "leaf_index"),
        ({"leaf_index": 0, "tree_size": 2, "path": [b"x" * 32]}, "tuple"),
        ({"leaf_index": 0, "tree_size": 2, "path": (b"x" * 32,) * 65}, "at most 64"),
        ({"leaf_index": 0, "tree_size": 2, "path": ("00" * 32,)}, "bytes"),
    ],
)
def test_inclusion_proof_validates_fields(kwargs: dict, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        InclusionProof(**kwargs)


def _tree_and_proof(size: int, index: int) -> tuple[MerkleTree, InclusionProof]:
    tree = MerkleTree.build([digest_of(i) for i in range(size)])
    return tree, tree.proof(index)


def test_verify_rejects_wrong_root() -> None:
    tree, proof = _tree_and_proof(7, 3)
    with pytest.raises(VerificationError, match="does not lead to the expected root") as info:
        verify_inclusion(tree.leaf_hash(3), proof, bytes(32))
    assert info.value.check == "merkle_path"


def test_verify_rejects_path_too_long_or_short() -> None:
    tree, proof = _tree_and_proof(7, 3)
    longer = InclusionProof(3, 7, (*proof.path, bytes(32)))
    shorter = InclusionProof(3, 7, proof.path[:-1])
    for bad in (longer, shorter):
        with pytest.raises(VerificationError, match="does not fit leaf 3") as info:
            verify_inclusion(tree.leaf_hash(3), bad, tree.root)
        assert info.value.check == "merkle_path"


def test_verify_rejects_wrong_index_or_size() -> None:
    tree, proof = _tree_and_proof(8, 2)
    for bad in (InclusionProof(3, 8, proof.path), InclusionProof(2, 9, proof.path)):
        with pytest.raises(VerificationError) as info:
            verify_inclusion(tree.leaf_hash(2), bad, tree.root)
        assert info.value.check == "merkle_path"


def test_verify_rejects_hashes_of_wrong_length() -> None:
    tree, proof = _tree_and_proof(4, 0)
    with pytest.raises(VerificationError, match="must be 32 bytes") as info:
        verify_inclusion(tree.leaf_hash(0)[:31], proof, tree.root)
    assert info.value.check == "merkle_path"
    with pytest.raises(VerificationError, match="every path element"):
        verify_inclusion(tree.leaf_hash(0), InclusionProof(0, 4, (b"x",) * 2), tree.root)


def test_interior_node_is_not_accepted_as_a_leaf() -> None:
    # Second-preimage defence: presenting an interior node as a document digest fails,
    # because the verifier hashes the digest with the 0x00 leaf prefix.
    tree = MerkleTree.build([digest_of(i) for i in range(4)])
    left_pair = node_hash(tree.leaf_hash(0), tree.leaf_hash(1))
    forged = InclusionProof(0, 2, (node_hash(tree.leaf_hash(2), tree.leaf_hash(3)),))
    verify_inclusion(left_pair, forged, tree.root)  # the raw node does fit the path ...
    with pytest.raises(VerificationError):  # ... but never as a leaf of a document digest
        verify_inclusion(leaf_hash(left_pair), forged, tree.root)
    assert MerkleTree.build([left_pair, node_hash(tree.leaf_hash(2), tree.leaf_hash(3))]).root != (
        tree.root
    )


@st.composite
def _tree_and_index(draw: st.DrawFn) -> tuple[list[bytes], int]:
    digests = draw(st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=70))
    return digests, draw(st.integers(0, len(digests) - 1))


@settings(max_examples=60, deadline=None)
@given(_tree_and_index())
def test_property_every_proof_verifies(case: tuple[list[bytes], int]) -> None:
    digests, index = case
    tree = MerkleTree.build(digests)
    assert tree.root == _reference_root([leaf_hash(d) for d in digests])
    verify_inclusion(leaf_hash(digests[index]), tree.proof(index), tree.root)


@settings(max_examples=60, deadline=None)
@given(_tree_and_index(), st.data())
def test_property_any_single_bit_flip_fails(
    case: tuple[list[bytes], int], data: st.DataObject
) -> None:
    digests, index = case
    tree = MerkleTree.build(digests)
    proof = tree.proof(index)
    leaf = leaf_hash(digests[index])
    targets = ["leaf", "root"] + [f"path{i}" for i in range(len(proof.path))]
    target = data.draw(st.sampled_from(targets))
    bit = data.draw(st.integers(0, 255))

    def flip(value: bytes) -> bytes:
        changed = bytearray(value)
        changed[bit // 8] ^= 1 << (bit % 8)
        return bytes(changed)

    root = tree.root
    if target == "leaf":
        leaf = flip(leaf)
    elif target == "root":
        root = flip(root)
    else:
        i = int(target[4:])
        proof = InclusionProof(
            index,
            len(digests),
            tuple(flip(node) if j == i else node for j, node in enumerate(proof.path)),
        )
    with pytest.raises(VerificationError) as info:
        verify_inclusion(leaf, proof, root)
    assert info.value.check == "merkle_path"


@settings(max_examples=40, deadline=None)
@given(
    st.builds(
        InclusionProof,
        leaf_index=st.integers(0, 5),
        tree_size=st.integers(6, 40),
        path=st.lists(st.binary(min_size=0, max_size=40), max_size=8).map(tuple),
    ),
    st.binary(max_size=40),
    st.binary(max_size=40),
)
def test_property_verify_raises_only_verification_error(
    proof: InclusionProof, leaf: bytes, root: bytes
) -> None:
    with pytest.raises(VerificationError):
        verify_inclusion(leaf, proof, root)


def test_hundred_thousand_leaves_build_and_prove() -> None:
    # Scale check, not a timing test (timings belong to scripts/bench): 100,000 leaves.
    digests = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(100_000)]
    tree = MerkleTree.build(digests)
    proofs = tree.proofs()
    assert len(proofs) == 100_000
    for index in (0, 1, 4_095, 65_536, 99_998, 99_999):
        assert proofs[index] == tree.proof(index)
        verify_inclusion(leaf_hash(digests[index]), proofs[index], tree.root)
