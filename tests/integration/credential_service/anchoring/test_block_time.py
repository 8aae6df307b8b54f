"""Anchoring on a chain that mines a block every 2 s (QBFT's usual period; anvil's interval
mining) and waits for a confirmation depth: every item is anchored once, receipts name the
block that carried the root, and a batch is confirmed only once that block is deep enough."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import Engine, select

from credential_service.anchoring.batcher import Batcher, BatchPolicy
from credential_service.anchoring.outbox import BATCH
from credential_service.anchoring.service import submit_digests
from node_adapter import AnvilProcess, Chain
from tests.fixtures.anchoring import random_items, standalone_registries
from tests.fixtures.chain import node_rpc
from tests.integration.credential_service.anchoring.test_worker_crashes import (
    assert_each_anchored_once_and_verifies,
)

pytestmark = pytest.mark.anvil

ORG = 11
CONFIRMATIONS = 2


def test_anchoring_with_two_second_blocks_waits_for_the_confirmation_depth(
    anvil_process_factory: Callable[..., AnvilProcess],
    anchoring_db: Callable[..., Engine],
) -> None:
    node = anvil_process_factory()
    chain = Chain.from_urls([node.url], receipt_timeout=30.0)
    registries = standalone_registries(chain)
    # From here on a block every 2 s, as anvil's --block-time 2 mines (the setup above would
    # take a block period per transaction).
    node_rpc(node.url, "evm_setAutomine", False)
    node_rpc(node.url, "evm_setIntervalMining", 2)
    engine = anchoring_db()
    batcher = Batcher(
        engine=engine,
        ledger=registries.ledger(),
        owner="block-time",
        policy=BatchPolicy(max_age=timedelta(0), confirmations=CONFIRMATIONS),
    )
    with engine.begin() as connection:
        ids = [
            s.id
            for s in submit_digests(
                connection, organisation_id=ORG, algorithm="sha-256", items=random_items(30)
            )
        ]
    first = batcher.run_once()  # sent and mined within a block period, not yet deep enough
    assert first.confirmed == 0 and batcher.pending() == 30
    batcher.drain(timeout=30, poll_interval=0.2)
    head = chain.block_number()
    with engine.connect() as connection:
        (block_number,) = connection.execute(select(BATCH.c.block_number)).one()
    assert head - block_number >= CONFIRMATIONS
    assert_each_anchored_once_and_verifies(engine, registries, ids)
