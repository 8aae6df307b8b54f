"""Real worker processes on anvil, killed with SIGKILL at named steps, then restarted:
every item is anchored exactly once (one `Anchored` event per batch) and every receipt
verifies."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select

from credential_service.anchoring.outbox import BATCH
from credential_service.anchoring.service import anchor_statuses, submit_digests
from tests.fixtures.anchoring import (
    AnchoringRegistries,
    WorkerEnvironment,
    random_items,
    wait_until_anchored,
)
from wallet_sdk.chain_view import NodeChainView
from wallet_sdk.receipt import verify_receipt, verify_receipt_offline

pytestmark = [
    pytest.mark.anvil,
    pytest.mark.parametrize("_chain_base", ["anvil"], indirect=True),
]

ORG = 11


def _submit(engine: Engine, count: int) -> list[bytes]:
    with engine.begin() as connection:
        return [
            s.id
            for s in submit_digests(
                connection, organisation_id=ORG, algorithm="sha-256", items=random_items(count)
            )
        ]


def assert_each_anchored_once_and_verifies(
    engine: Engine, registries: AnchoringRegistries, ids: list[bytes]
) -> None:
    with engine.connect() as connection:
        roots = [bytes(r) for r in connection.execute(select(BATCH.c.root)).scalars()]
        statuses = anchor_statuses(connection, organisation_id=ORG, item_ids=ids)
    events = registries.anchored_events()
    assert sorted(events) == sorted(roots), "one Anchored event per batch, none twice"
    assert len(statuses) == len(ids)
    view = NodeChainView(registries.chain)
    # Every receipt offline; one in 50 (and the first and last) against the chain too.
    online = {ids[0], ids[-1], *ids[::50]}
    for status in statuses:
        assert status.receipt is not None
        verify_receipt_offline(status.receipt, status.digest)
        if status.id not in online:
            continue
        verify_receipt(
            status.receipt,
            status.digest,
            view,
            anchor_registry=registries.anchor_registry,
            trust_registry=registries.trust_registry,
        )


@pytest.mark.parametrize(
    "fault_point",
    [
        "after_sending_recorded",  # `sending` is durable, the transaction never left
        "after_send",  # the transaction is mined, nothing recorded
        "before_receipts",  # confirmed on chain and recorded `sent`, no receipt written
    ],
)
def test_worker_killed_at_a_step_and_restarted_anchors_every_item_exactly_once(
    fault_point: str,
    anchoring_db: Callable[..., Engine],
    worker_environment: Callable[[Engine], WorkerEnvironment],
) -> None:
    engine = anchoring_db()
    environment = worker_environment(engine)
    environment.prepare_account("w1")
    ids = _submit(engine, 500)
    worker = environment.start("w1", faults=f"{fault_point}=pause")
    worker.wait_for(f"fault-point {fault_point}")
    worker.kill()
    with engine.connect() as connection:
        states = connection.execute(select(BATCH.c.state)).scalars().all()
    assert states == [
        {"after_sending_recorded": "sending", "after_send": "sending"}.get(fault_point, "sent")
    ]

    restarted = environment.start("w1")
    wait_until_anchored(engine, timeout=90, workers=[restarted])
    restarted.stop()
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(BATCH)).scalar_one() == 1
    assert_each_anchored_once_and_verifies(engine, environment.registries, ids)


def test_a_rollback_that_loses_the_anchor_is_detected_and_the_batch_anchored_again(
    anchoring_db: Callable[..., Engine],
    worker_environment: Callable[[Engine], WorkerEnvironment],
) -> None:
    engine = anchoring_db()
    environment = worker_environment(engine)
    environment.prepare_account("w1")
    chain = environment.registries.chain
    before = chain.snapshot()
    ids = _submit(engine, 300)
    worker = environment.start("w1")
    wait_until_anchored(engine, timeout=90, workers=[worker])
    assert len(environment.registries.anchored_events()) == 1
    chain.revert(before)  # the node drops the block with the anchoring transaction
    chain.mine(2)
    worker.wait_for("lost its anchor; anchoring again")
    wait_until_anchored(engine, timeout=90, workers=[worker])
    worker.stop()
    with engine.connect() as connection:
        assert connection.execute(select(BATCH.c.rollbacks)).scalar_one() == 1
    assert_each_anchored_once_and_verifies(engine, environment.registries, ids)
