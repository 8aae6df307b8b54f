"""A service process that starts while no chain node answers waits for one (with backoff, for
`chain_startup_wait_seconds`) instead of exiting, then serves; past the wait it gives up."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from credential_service import Settings, create_app
from credential_service.context import ServiceContext
from credential_service.errors import LedgerUnavailable
from node_adapter import AnvilProcess
from node_adapter.anvil import _free_port

pytestmark = pytest.mark.anvil


def _settings(tmp_path: Path, port: int, wait: float) -> Settings:
    return Settings(
        dev_mode=True,
        database_url=f"sqlite:///{tmp_path / 'hrss.db'}",
        keystore_path=tmp_path / "service.keystore",
        keystore_passphrase=SecretStr("outage-passphrase"),
        deployment_path=tmp_path / "deployment.json",
        chain_rpc_urls=(f"http://127.0.0.1:{port}",),
        chain_startup_wait_seconds=wait,
    )


def test_a_process_started_during_a_chain_outage_serves_once_the_chain_is_back(
    tmp_path: Path, anvil_process_factory: Callable[..., AnvilProcess]
) -> None:
    state = tmp_path / "anvil-state.json"
    port = _free_port()
    node = anvil_process_factory(port=port, state_file=state)
    settings = _settings(tmp_path, port, wait=60.0)
    ServiceContext.open(settings).close()  # deployed, Ministry accredited
    node.stop()  # the outage begins; the state is dumped

    def chain_returns() -> None:
        time.sleep(3.0)
        anvil_process_factory(port=port, state_file=state)

    returning = threading.Thread(target=chain_returns)
    started = time.monotonic()
    returning.start()
    try:
        app = create_app(settings)
        with TestClient(app) as client:  # startup waits for the chain
            waited = time.monotonic() - started
            # the verification cache is built at startup, not by the first verification
            runtime = getattr(app.state, "credential_runtime", None)
            ready = client.get("/readyz")
    finally:
        returning.join()
    assert waited >= 3.0
    assert ready.status_code == 200, ready.text
    assert runtime is not None and runtime.trust_state.block_number >= 0
    assert runtime.trust_state._thread is None or not runtime.trust_state._thread.is_alive()


def test_past_the_wait_startup_gives_up_with_the_chain_error(tmp_path: Path) -> None:
    settings = _settings(tmp_path, _free_port(), wait=1.5)
    started = time.monotonic()
    with pytest.raises(LedgerUnavailable):
        ServiceContext.open_waiting_for_chain(settings)
    assert 1.5 <= time.monotonic() - started < 10.0


def test_startup_retries_with_doubling_delays(tmp_path: Path) -> None:
    settings = _settings(tmp_path, _free_port(), wait=600.0)
    sleeps: list[float] = []

    class Enough(Exception):
        pass

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 7:
            raise Enough

    with pytest.raises(Enough):
        ServiceContext.open_waiting_for_chain(settings, sleep=sleep)
    assert sleeps == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
