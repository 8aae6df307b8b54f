"""SM3 anchor receipts: the v1 format carries them, and verification pins the algorithm.

A verifier says which algorithm its digest is (SHA-256 unless told); a receipt for another
algorithm, or one that relabels a SHA-256 tree as SM3, fails at a named check."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import wallet_sdk
from tests.unit.wallet_sdk.conftest import (
    ANCHORER,
    BLOCK_HASH,
    BLOCK_NUMBER,
    BLOCK_TIME,
    CHAIN_ID,
    ENTITY,
    REGISTRY,
    TRUST_REGISTRY,
    AnchoredBatch,
    FakeChain,
)
from wallet_sdk import (
    RECEIPT_CHECKS,
    AnchorReceipt,
    CheckStatus,
    HashAlgorithm,
    MerkleTree,
    VerificationError,
    leaf_hash,
    verify_receipt,
    verify_receipt_offline,
)

SM3 = HashAlgorithm.SM3
SHA256 = HashAlgorithm.SHA256


def _documents(size: int) -> list[bytes]:
    return [f"劳动合同 {i}".encode() for i in range(size)]


def _batch(algorithm: HashAlgorithm, size: int = 5) -> AnchoredBatch:
    """Documents hashed with `algorithm`, their tree (same algorithm), receipts, a chain."""
    digests = [algorithm.digest(document) for document in _documents(size)]
    tree = MerkleTree.build(digests, algorithm)
    receipts = [
        AnchorReceipt.create(
            document_digest=digest,
            proof=tree.proof(index),
            root=tree.root,
            chain_id=CHAIN_ID,
            registry=REGISTRY,
            transaction_hash=bytes.fromhex("cd" * 32),
            block_number=BLOCK_NUMBER,
            block_hash=BLOCK_HASH,
            block_time=BLOCK_TIME,
            anchored_by=ANCHORER,
            entity_id=ENTITY,
            batch_ref=bytes.fromhex("ef" * 32),
            algorithm=algorithm,
        )
        for index, digest in enumerate(digests)
    ]
    chain = FakeChain(
        anchors={(REGISTRY, tree.root): (ANCHORER, BLOCK_TIME, BLOCK_NUMBER)},
        accounts={ANCHORER: [(BLOCK_TIME - 100, ENTITY)]},
        active={ENTITY: [(BLOCK_TIME - 1000, BLOCK_TIME + 1000)]},
    )
    return AnchoredBatch(digests, tree, receipts, chain)


def _verify(receipt: AnchorReceipt, digest: bytes, chain: FakeChain, **kwargs: Any) -> Any:
    return verify_receipt(
        receipt, digest, chain, anchor_registry=REGISTRY, trust_registry=TRUST_REGISTRY, **kwargs
    )


def _failed_check(run: Callable[[], object]) -> str:
    with pytest.raises(VerificationError) as info:
        run()
    report = info.value.report
    assert report is not None and report.first_failure is not None
    assert report.first_failure.name == info.value.check
    return info.value.check


def test_an_sm3_receipt_names_sm3_and_round_trips_through_the_schema() -> None:
    batch = _batch(SM3)
    receipt = batch.receipts[1]
    assert receipt.hash_algorithm == "sm3" and receipt.algorithm is SM3
    assert receipt.leaf_hash == "0x" + leaf_hash(batch.digests[1], SM3).hex()
    assert receipt.root == "0x" + batch.tree.root.hex()
    # parse() applies the JSON Schema as well as the hand-written checks.
    assert AnchorReceipt.parse(receipt.to_json()) == receipt
    schema_path = Path(wallet_sdk.__file__).parent / "schemas" / "anchor-receipt-1.schema.json"
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    assert schema["properties"]["hash_algorithm"]["enum"] == ["sha-256", "sm3"]


def test_sm3_receipts_verify_against_the_digest_and_the_document() -> None:
    batch = _batch(SM3, 7)
    for index, document in enumerate(_documents(7)):
        receipt = batch.receipts[index]
        report = _verify(receipt, batch.digests[index], batch.chain, algorithm=SM3)
        assert report.passed and [c.name for c in report.checks] == list(RECEIPT_CHECKS)
        assert "sm3" in report.checks[0].detail and "sm3" in report.checks[1].detail
        # Against the document itself: the verifier hashes it with SM3.
        assert _verify(receipt, SM3.digest(document), batch.chain, algorithm=SM3).passed
        streamed = SM3.new()
        streamed.update(document[:5])
        streamed.update(document[5:])
        assert verify_receipt_offline(receipt, streamed.digest(), algorithm=SM3).passed


def test_an_sm3_receipt_fails_a_verifier_expecting_sha256() -> None:
    batch = _batch(SM3)
    receipt, digest = batch.receipts[2], batch.digests[2]
    with pytest.raises(
        VerificationError, match="receipt is for a digest of sm3, the digest given is of sha-256"
    ) as info:
        _verify(receipt, digest, batch.chain)  # SHA-256 unless told
    assert info.value.check == "document_digest"
    report = info.value.report
    assert report is not None
    failed, skipped = CheckStatus.FAILED, CheckStatus.SKIPPED
    assert [c.status for c in report.checks[:3]] == [failed, skipped, skipped]
    assert _failed_check(lambda: verify_receipt_offline(receipt, digest)) == "document_digest"
    document = _documents(5)[2]
    assert (
        _failed_check(lambda: _verify(receipt, SHA256.digest(document), batch.chain))
        == "document_digest"
    )


def test_a_receipt_claiming_sm3_for_a_sha256_digest_fails_at_document_digest() -> None:
    batch = _batch(SHA256)
    genuine = batch.receipts[3]
    document = _documents(5)[3]
    forged = dataclasses.replace(genuine, hash_algorithm="sm3")
    forged = AnchorReceipt.parse(forged.to_json())  # a well-formed receipt: the lie is inside
    # The verifier holds the document and hashes it with SM3, as the receipt says.
    with pytest.raises(VerificationError, match="different document digest") as info:
        _verify(forged, SM3.digest(document), batch.chain, algorithm=SM3)
    assert info.value.check == "document_digest"
    # A verifier holding the SHA-256 digest says so, and the receipt is for another algorithm.
    sha_digest = SHA256.digest(document)
    assert _failed_check(lambda: _verify(forged, sha_digest, batch.chain)) == "document_digest"
    # Mislabelling the SHA-256 digest as SM3 does not help: the leaf is not SM3's.
    mislabelled = _failed_check(lambda: _verify(forged, sha_digest, batch.chain, algorithm=SM3))
    assert mislabelled == "leaf_hash"
    # The genuine receipt still verifies as SHA-256.
    assert _verify(genuine, sha_digest, batch.chain).passed


def test_an_sm3_receipt_relabelled_sha256_fails() -> None:
    batch = _batch(SM3)
    forged = dataclasses.replace(batch.receipts[0], hash_algorithm="sha-256")
    digest = batch.digests[0]
    assert _failed_check(lambda: _verify(forged, digest, batch.chain)) == "leaf_hash"
    assert _failed_check(lambda: _verify(forged, digest, batch.chain, algorithm=SM3)) == (
        "document_digest"
    )


def test_an_sm3_receipt_whose_path_is_edited_fails_at_merkle_path() -> None:
    batch = _batch(SM3)
    receipt = batch.receipts[2]
    edited = dataclasses.replace(
        receipt, path=(receipt.path[1], receipt.path[0], *receipt.path[2:])
    )
    check = _failed_check(lambda: _verify(edited, batch.digests[2], batch.chain, algorithm=SM3))
    assert check == "merkle_path"


def test_the_algorithm_must_be_a_hash_algorithm_not_a_name() -> None:
    batch = _batch(SM3)
    with pytest.raises(VerificationError, match="must be a HashAlgorithm, not 'sm3'") as info:
        _verify(batch.receipts[0], batch.digests[0], batch.chain, algorithm="sm3")
    assert info.value.check == "document_digest"


def test_the_wallet_cli_hashes_the_document_with_the_receipts_algorithm(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from wallet_sdk.cli import main

    batch = _batch(SM3)
    receipt = tmp_path / "receipt.json"
    receipt.write_text(batch.receipts[2].to_json())
    document = tmp_path / "contract.txt"
    document.write_bytes(_documents(5)[2])
    ok = CliRunner().invoke(main, ["verify-receipt", "--offline", str(document), str(receipt)])
    assert ok.exit_code == 0, ok.output
    document.write_bytes(_documents(5)[3])
    other = CliRunner().invoke(main, ["verify-receipt", "--offline", str(document), str(receipt)])
    assert other.exit_code == 1 and "FAIL document_digest" in other.output
