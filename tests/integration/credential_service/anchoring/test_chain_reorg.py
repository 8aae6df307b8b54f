"""Chain faults made with the node's own controls, not by restarting it from an old state file:
a reorg that removes the block carrying an anchor (`anvil_reorg`), an anchoring transaction
dropped from the pool (`anvil_dropTransaction`), and a halted chain that accepts transactions
but mines none, then resumes. After each: every item anchored, none twice (one `Anchored`
event per batch on the canonical chain), and every receipt verifies against the chain, so no
receipt points at a block that left it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine

from credential_service.anchoring.batcher import Batcher, BatchPolicy
from credential_service.anchoring.service import submit_digests
from node_adapter import AnvilProcess, Chain
from tests.fixtures.anchoring import AnchoringRegistries, random_items, standalone_registries
from tests.fixtures.chain import drop_pending_transactions, node_rpc
from tests.integration.credential_service.anchoring.test_worker_crashes import (
    assert_each_anchored_once_and_verifies,
)

pytestmark = pytest.mark.anvil

ORG = 11  # what assert_each_anchored_once_and_verifies reads back


@dataclass
class Scene:
    node: AnvilProcess
    chain: Chain
    registries: AnchoringRegistries
    engine: Engine
    batcher: Batcher

    def rpc(self, method: str, *params: Any) -> Any:
        return node_rpc(self.node.url, method, *params)

    def submit(self, count: int) -> list[bytes]:
        with self.engine.begin() as connection:
            submitted = submit_digests(
                connection, organisation_id=ORG, algorithm="sha-256", items=random_items(count)
            )
        return [s.id for s in submitted]


@pytest.fixture
def scene(
    anvil_process_factory: Callable[..., AnvilProcess],
    anchoring_db: Callable[..., Engine],
) -> Scene:
    node = anvil_process_factory()
    chain = Chain.from_urls([node.url], receipt_timeout=3.0)
    registries = standalone_registries(chain)
    engine = anchoring_db()
    batcher = Batcher(
        engine=engine,
        ledger=registries.ledger(),
        owner="reorg-test",
        policy=BatchPolicy(
            max_age=timedelta(0),
            backoff_base=timedelta(milliseconds=100),
            backoff_cap=timedelta(milliseconds=500),
        ),
    )
    return Scene(node, chain, registries, engine, batcher)


def _anchor_block(scene: Scene) -> int:
    events = scene.chain.get_logs(
        address=scene.registries.anchor_registry, from_block=0, to_block=scene.chain.block_number()
    )
    return max(entry.block_number for entry in events if len(entry.topics) == 4)


def test_a_reorg_that_removes_the_anchoring_block_is_anchored_again(scene: Scene) -> None:
    first = scene.submit(30)
    scene.batcher.drain(timeout=30)
    anchored_in = _anchor_block(scene)
    scene.chain.mine(2)
    removed = scene.chain.block(anchored_in)
    depth = scene.chain.block_number() - anchored_in + 1
    scene.rpc("anvil_reorg", depth, [])  # the anchoring block and those above it are replaced
    replaced = scene.chain.find_block(anchored_in)
    assert replaced is None or replaced.hash != removed.hash
    assert scene.registries.anchored_events() == []  # the anchor left the chain

    second = scene.submit(10)
    report = scene.batcher.drain(timeout=60)
    assert report.rolled_back >= 1
    assert_each_anchored_once_and_verifies(scene.engine, scene.registries, first + second)


def test_a_dropped_anchoring_transaction_is_sent_again(scene: Scene) -> None:
    scene.rpc("evm_setAutomine", False)
    dropped: list[str] = []

    def drop_when_pending() -> None:
        dropped.extend(drop_pending_transactions(scene.node.url))
        scene.rpc("evm_setAutomine", True)

    dropper = threading.Thread(target=drop_when_pending)
    ids = scene.submit(25)
    dropper.start()
    scene.batcher.run_once()  # sends, the transaction is dropped, no receipt comes
    dropper.join()
    assert dropped
    assert scene.batcher.pending() == 25
    scene.batcher.drain(timeout=60)
    assert_each_anchored_once_and_verifies(scene.engine, scene.registries, ids)


def test_a_halted_chain_loses_nothing_and_resumes(scene: Scene) -> None:
    scene.rpc("evm_setAutomine", False)
    scene.rpc("evm_setIntervalMining", 0)
    height = scene.chain.block_number()
    ids = scene.submit(40)
    scene.batcher.run_once()  # accepted by the node, never mined: the batch waits
    assert scene.chain.block_number() == height
    assert scene.batcher.pending() == 40
    more = scene.submit(5)  # submissions are still accepted while the chain is halted
    scene.rpc("evm_setAutomine", True)
    scene.rpc("evm_mine")  # what the halted node held is mined now
    scene.batcher.drain(timeout=60)
    assert_each_anchored_once_and_verifies(scene.engine, scene.registries, ids + more)
