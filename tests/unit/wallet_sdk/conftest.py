"""Factories for wallet_sdk tests: test vectors, receipts, and an in-memory ChainView."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.unit.wallet_sdk.wallets import (  # noqa: F401  (the wallet tests' factories)
    make_controller,
    make_request,
    make_wallet,
    service_key,
    trusted,
)
from wallet_sdk import AnchorReceipt, AnchorRecord, MerkleTree

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "wallet_sdk"

REGISTRY = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
TRUST_REGISTRY = "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359"
ANCHORER = "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB"
ENTITY = bytes.fromhex("11" * 32)
CHAIN_ID = 1337
BLOCK_NUMBER = 42
BLOCK_HASH = bytes.fromhex("ab" * 32)
BLOCK_TIME = 1_760_000_000


def load_asset(name: str) -> Any:
    return json.loads((ASSETS / name).read_text(encoding="utf-8"))


def digest_of(i: int) -> bytes:
    return hashlib.sha256(f"document {i}".encode()).digest()


@dataclass
class FakeChain:
    """In-memory ChainView; tests mutate its fields to break one fact at a time."""

    chain: int = CHAIN_ID
    anchors: dict[tuple[str, bytes], tuple[str, int, int]] = field(default_factory=dict)
    blocks: dict[int, bytes] = field(default_factory=lambda: {BLOCK_NUMBER: BLOCK_HASH})
    accounts: dict[str, list[tuple[int, bytes]]] = field(default_factory=dict)
    active: dict[bytes, list[tuple[int, int]]] = field(default_factory=dict)
    fail_with: Exception | None = None

    def chain_id(self) -> int:
        if self.fail_with is not None:
            raise self.fail_with
        return self.chain

    def anchor_of(self, registry: str, root: bytes) -> AnchorRecord | None:
        found = self.anchors.get((registry, root))
        return None if found is None else AnchorRecord(*found)

    def block_hash(self, number: int) -> bytes:
        return self.blocks[number]

    def anchoring_entity_at(self, trust_registry: str, address: str, t: int) -> bytes:
        assert trust_registry == TRUST_REGISTRY
        entity = bytes(32)
        for since, owner in self.accounts.get(address, []):
            if since <= t:
                entity = owner
        return entity

    def is_active_at(self, trust_registry: str, entity: bytes, t: int) -> bool:
        return any(start <= t < end for start, end in self.active.get(entity, []))


@dataclass
class AnchoredBatch:
    digests: list[bytes]
    tree: MerkleTree
    receipts: list[AnchorReceipt]
    chain: FakeChain


@pytest.fixture
def make_batch() -> Callable[..., AnchoredBatch]:
    """Build a batch, its receipts, and a FakeChain on which its root is anchored."""

    def factory(size: int = 5) -> AnchoredBatch:
        digests = [digest_of(i) for i in range(size)]
        tree = MerkleTree.build(digests)
        receipts = [
            AnchorReceipt.create(
                document_digest=digest,
                proof=tree.proof(index),
                root=tree.root,
                chain_id=CHAIN_ID,
                registry=REGISTRY.lower(),
                transaction_hash=bytes.fromhex("cd" * 32),
                block_number=BLOCK_NUMBER,
                block_hash=BLOCK_HASH,
                block_time=BLOCK_TIME,
                anchored_by=ANCHORER,
                entity_id=ENTITY,
                batch_ref=bytes.fromhex("ef" * 32),
            )
            for index, digest in enumerate(digests)
        ]
        chain = FakeChain(
            anchors={(REGISTRY, tree.root): (ANCHORER, BLOCK_TIME, BLOCK_NUMBER)},
            accounts={ANCHORER: [(BLOCK_TIME - 100, ENTITY)]},
            active={ENTITY: [(BLOCK_TIME - 1000, BLOCK_TIME + 1000)]},
        )
        return AnchoredBatch(digests, tree, receipts, chain)

    return factory
