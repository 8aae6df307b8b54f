"""Two worker processes sharing one PostgreSQL database: 10,000 documents, each anchored
exactly once, the work split between them (SELECT ... FOR UPDATE SKIP LOCKED and leases)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select

from credential_service.anchoring.outbox import BATCH, ITEM, PROOF
from credential_service.anchoring.service import submit_digests
from tests.fixtures.anchoring import WorkerEnvironment, random_items, wait_until_anchored
from tests.integration.credential_service.anchoring.test_worker_crashes import (
    ORG,
    assert_each_anchored_once_and_verifies,
)

pytestmark = [
    pytest.mark.anvil,
    pytest.mark.postgres,
    pytest.mark.parametrize("_chain_base", ["anvil"], indirect=True),
]


def test_two_workers_on_postgresql_anchor_10000_documents_each_exactly_once(
    anchoring_db: Callable[..., Engine],
    worker_environment: Callable[[Engine], WorkerEnvironment],
) -> None:
    engine = anchoring_db("postgres")
    environment = worker_environment(engine)
    accounts = {environment.prepare_account(name).address for name in ("w1", "w2")}
    workers = [environment.start(name, batch_size=250) for name in ("w1", "w2")]
    for worker in workers:
        worker.wait_for("ready")

    ids: list[bytes] = []

    def submit(count: int) -> None:
        for _ in range(count // 500):
            with engine.begin() as connection:
                submitted = submit_digests(
                    connection, organisation_id=ORG, algorithm="sha-256", items=random_items(500)
                )
            ids.extend(s.id for s in submitted)

    # Two API processes' worth of submissions while both workers run.
    submitters = [threading.Thread(target=submit, args=(5_000,)) for _ in range(2)]
    for thread in submitters:
        thread.start()
    for thread in submitters:
        thread.join()
    assert len(set(ids)) == 10_000
    wait_until_anchored(engine, timeout=90, workers=workers)
    for worker in workers:
        worker.stop()

    with engine.connect() as connection:
        leaves = connection.execute(select(func.sum(BATCH.c.leaf_count))).scalar_one()
        proofs = connection.execute(select(func.count()).select_from(PROOF)).scalar_one()
        items = connection.execute(select(func.count()).select_from(ITEM)).scalar_one()
        senders = set(connection.execute(select(BATCH.c.anchored_by).distinct()).scalars())
    assert leaves == proofs == items == 10_000
    assert senders == accounts, "both workers anchored batches"
    # One Anchored event per batch root; receipts of one item in 20 checked (building all
    # 10,000 receipt objects costs more than the rest of the test).
    assert_each_anchored_once_and_verifies(engine, environment.registries, ids[::20])
    # Both workers logged as the API does: one JSON object a line, nothing else.
    for worker in workers:
        lines = worker.output().splitlines()
        assert any("ready" in line for line in lines)
        for line in lines:
            entry = json.loads(line)
            assert {"time", "level", "logger", "message", "request_id"} <= entry.keys(), line
