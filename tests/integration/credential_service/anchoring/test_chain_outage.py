"""anvil stopped while documents keep arriving: nothing is refused, everything is anchored
once the node is back, exactly once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import Engine

from credential_service.anchoring.service import submit_digests
from node_adapter import AnvilProcess, Chain
from tests.fixtures.anchoring import (
    random_items,
    standalone_registries,
    wait_until_anchored,
    worker_environment_for,
)
from tests.integration.credential_service.anchoring.test_worker_crashes import (
    assert_each_anchored_once_and_verifies,
)

pytestmark = pytest.mark.anvil

ORG = 11  # what assert_each_anchored_once_and_verifies reads back


def _outage(
    pause: float,
    anchoring_db: Callable[..., Engine],
    anvil_process_factory: Callable[..., AnvilProcess],
    tmp_path: Path,
) -> None:
    state = tmp_path / "anvil-state.json"
    node = anvil_process_factory(state_file=state)
    registries = standalone_registries(Chain.from_urls([node.url], receipt_timeout=30.0))
    engine = anchoring_db()
    environment = worker_environment_for(engine, registries, [node.url], tmp_path)
    environment.prepare_account("w1")
    worker = environment.start("w1")
    worker.wait_for("ready")

    ids: list[bytes] = []
    refused: list[BaseException] = []
    stop = threading.Event()

    def keep_submitting() -> None:
        while not stop.is_set():
            try:
                with engine.begin() as connection:
                    submitted = submit_digests(
                        connection, organisation_id=ORG, algorithm="sha-256", items=random_items(20)
                    )
                ids.extend(s.id for s in submitted)
            except BaseException as err:  # any refusal fails the test
                refused.append(err)
            time.sleep(0.1)

    submitter = threading.Thread(target=keep_submitting)
    submitter.start()
    try:
        time.sleep(1.0)
        node.stop()  # SIGTERM: anvil writes its state file
        down_since = time.monotonic()
        time.sleep(pause)
        restarted = anvil_process_factory(port=node.port, state_file=state)
        assert time.monotonic() - down_since >= pause
        time.sleep(1.0)
    finally:
        stop.set()
        submitter.join()
    assert not refused
    wait_until_anchored(engine, timeout=60 + pause, workers=[worker])
    assert "chain unavailable" in worker.output()  # the outage was seen, and waited out
    worker.stop()
    assert restarted.url == node.url  # same port: the registries' chain object reads it
    assert_each_anchored_once_and_verifies(engine, registries, ids)


@pytest.mark.slow
def test_anvil_down_for_30_seconds_during_submissions(
    anchoring_db: Callable[..., Engine],
    anvil_process_factory: Callable[..., AnvilProcess],
    tmp_path: Path,
) -> None:
    """The acceptance case itself: 30 s without a chain, submissions never refused."""
    _outage(30.0, anchoring_db, anvil_process_factory, tmp_path)
