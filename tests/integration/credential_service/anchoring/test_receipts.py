"""Receipts verified against a real anvil node, without the service: the genuine one passes;
each kind of forgery or mistake fails with its named check."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine

from credential_service.anchoring.batcher import Batcher, BatchPolicy
from credential_service.anchoring.cli import verify_receipt_command
from credential_service.anchoring.outbox import NewItem
from credential_service.anchoring.service import anchor_status, submit_digests
from node_adapter import Chain
from tests.fixtures.anchoring import AnchoringRegistries
from wallet_sdk.chain_view import NodeChainView
from wallet_sdk.errors import VerificationError
from wallet_sdk.merkle import MerkleTree
from wallet_sdk.receipt import AnchorReceipt, verify_receipt

pytestmark = [
    pytest.mark.anvil,
    pytest.mark.parametrize("_chain_base", ["anvil"], indirect=True),
]

ORG = 3


@pytest.fixture
def anchored(
    anchoring_db: Callable[..., Engine],
    anchoring_registries: AnchoringRegistries,
    tmp_path: Path,
) -> tuple[list[Path], list[AnchorReceipt]]:
    """Five documents on disk, anchored in one batch on anvil, and their receipts."""
    engine = anchoring_db()
    documents = []
    for index in range(5):
        path = tmp_path / f"contract-{index}.pdf"
        path.write_bytes(os.urandom(2048))
        documents.append(path)
    import hashlib

    digests = [hashlib.sha256(p.read_bytes()).digest() for p in documents]
    with engine.begin() as connection:
        submitted = submit_digests(
            connection,
            organisation_id=ORG,
            algorithm="sha-256",
            items=[NewItem(d, "labour_contract") for d in digests],
        )
    Batcher(
        engine=engine,
        ledger=anchoring_registries.ledger(),
        owner="w",
        policy=BatchPolicy(max_age=timedelta(0)),
    ).drain(timeout=30)
    receipts = []
    with engine.connect() as connection:
        for item in submitted:
            receipt = anchor_status(connection, organisation_id=ORG, item_id=item.id).receipt
            assert receipt is not None
            receipts.append(receipt)
    return documents, receipts


def _check(
    registries: AnchoringRegistries,
    receipt: AnchorReceipt,
    digest: bytes,
    *,
    chain: Chain | None = None,
    anchor_registry: str | None = None,
) -> str | None:
    """The name of the first failed check, or None when the receipt verifies."""
    try:
        verify_receipt(
            receipt,
            digest,
            NodeChainView(chain or registries.chain),
            anchor_registry=anchor_registry or registries.anchor_registry,
            trust_registry=registries.trust_registry,
        )
    except VerificationError as err:
        return err.check
    return None


def _digest(receipt: AnchorReceipt) -> bytes:
    return bytes.fromhex(receipt.document_digest[2:])


def test_the_genuine_receipt_verifies(
    anchored: tuple[list[Path], list[AnchorReceipt]], anchoring_registries: AnchoringRegistries
) -> None:
    _, receipts = anchored
    for receipt in receipts:
        assert _check(anchoring_registries, receipt, _digest(receipt)) is None


def test_each_forgery_fails_with_its_named_check(
    anchored: tuple[list[Path], list[AnchorReceipt]], anchoring_registries: AnchoringRegistries
) -> None:
    _, receipts = anchored
    # Digests are random, so leaf positions are too: take a receipt with an inner path node
    # to forge (in a tree of 5 the last leaf's path has a single hash).
    receipt = next(r for r in receipts if len(r.path) >= 2)
    digest = _digest(receipt)
    registries = anchoring_registries

    flipped = bytearray(digest)
    flipped[0] ^= 0x01
    assert _check(registries, receipt, bytes(flipped)) == "document_digest"

    path = list(receipt.path)
    path[1] = "0x" + os.urandom(32).hex()
    assert _check(registries, replace(receipt, path=tuple(path)), digest) == "merkle_path"

    never = [os.urandom(32) for _ in range(4)]
    tree = MerkleTree.build(never)
    unanchored = AnchorReceipt.create(
        document_digest=never[1],
        proof=tree.proof(1),
        root=tree.root,
        chain_id=receipt.chain_id,
        registry=receipt.registry,
        transaction_hash=bytes.fromhex(receipt.transaction_hash[2:]),
        block_number=receipt.block_number,
        block_hash=bytes.fromhex(receipt.block_hash[2:]),
        block_time=receipt.block_time,
        anchored_by=receipt.anchored_by,
        entity_id=bytes.fromhex(receipt.entity_id[2:]),
        batch_ref=bytes.fromhex(receipt.batch_ref[2:]),
    )
    assert _check(registries, unanchored, never[1]) == "root_anchored"

    other_chain = Chain.embedded()  # another chain id (eth-tester's)
    assert other_chain.chain_id != receipt.chain_id
    assert _check(registries, receipt, digest, chain=other_chain) == "chain_id"

    other_registry = registries.registries.deployment.status_registry
    assert _check(registries, receipt, digest, anchor_registry=other_registry) == "registry_address"


@pytest.mark.parametrize(
    ("field", "value", "check"),
    [
        ("block_time", lambda r: r.block_time + 1, "block"),
        ("block_number", lambda r: r.block_number - 1, "block"),
        ("block_hash", lambda r: "0x" + "ab" * 32, "block"),
        ("anchored_by", lambda r: "0x000000000000000000000000000000000000dEaD", "root_anchored"),
        ("entity_id", lambda r: "0x" + "11" * 32, "anchoring_entity_active"),
        ("leaf_index", lambda r: (r.leaf_index + 1) % r.tree_size, "merkle_path"),
        ("root", lambda r: "0x" + "22" * 32, "merkle_path"),
    ],
)
def test_a_receipt_edited_by_hand_fails_with_its_named_check(
    field: str,
    value: Callable[[AnchorReceipt], object],
    check: str,
    anchored: tuple[list[Path], list[AnchorReceipt]],
    anchoring_registries: AnchoringRegistries,
) -> None:
    receipt = anchored[1][3]
    edited = AnchorReceipt.parse({**receipt.to_dict(), field: value(receipt)})
    assert _check(anchoring_registries, edited, _digest(receipt)) == check


def test_the_command_line_verifies_a_file_and_names_the_failed_check(
    anchored: tuple[list[Path], list[AnchorReceipt]],
    anchoring_registries: AnchoringRegistries,
    anvil: object,
    tmp_path: Path,
) -> None:
    documents, receipts = anchored
    receipt_path = tmp_path / "receipt.json"
    receipt_path.write_text(receipts[0].to_json())
    deployment_path = tmp_path / "deployment.json"
    anchoring_registries.registries.deployment.save(deployment_path)
    args = ["--rpc-url", anvil.url, "--deployment", str(deployment_path)]  # type: ignore[attr-defined]
    runner = CliRunner()

    ok = runner.invoke(verify_receipt_command, [str(documents[0]), str(receipt_path), *args])
    assert ok.exit_code == 0, ok.output
    assert ok.output.strip().endswith("VERIFIED")

    tampered = tmp_path / "tampered.pdf"
    content = bytearray(documents[0].read_bytes())
    content[100] ^= 0xFF  # one flipped byte
    tampered.write_bytes(bytes(content))
    bad = runner.invoke(verify_receipt_command, [str(tampered), str(receipt_path), *args, "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.output)
    assert report["verified"] is False
    assert [c["name"] for c in report["checks"] if c["status"] == "failed"] == ["document_digest"]

    garbage = tmp_path / "garbage.json"
    garbage.write_text('{"version": "hrss-anchor-receipt/1"}')
    unusable = runner.invoke(verify_receipt_command, [str(documents[0]), str(garbage), *args])
    assert unusable.exit_code == 2
