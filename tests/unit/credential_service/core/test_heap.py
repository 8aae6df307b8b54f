"""`credential_service.core.heap.settle` freezes the long-lived heap, in a serving process only."""

from __future__ import annotations

import gc
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from credential_service.api import server
from credential_service.api.main import create_app
from credential_service.core.config import Settings

REPO = Path(__file__).resolve().parents[4]


def test_settle_moves_the_live_heap_out_of_later_collections() -> None:
    # in a process of its own: a frozen heap is never collected again
    script = (
        "import gc, time\n"
        "from credential_service.core import heap\n"
        "import credential_service.api.main\n"
        "kept = [[i] for i in range(200_000)]\n"
        "start = time.perf_counter(); gc.collect(); before = time.perf_counter() - start\n"
        "heap.settle()\n"
        "start = time.perf_counter(); gc.collect(); after = time.perf_counter() - start\n"
        "assert gc.get_freeze_count() > 200_000, gc.get_freeze_count()\n"
        "print(f'{before:.4f} {after:.4f}')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    before, after = map(float, done.stdout.split())
    assert after < before / 5, (before, after)


def test_only_a_serving_process_asks_for_the_heap_to_be_settled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # the production factory asks for it; apps made by tests (with or without a context of
    # their own) do not freeze the test process's heap
    asked: dict[str, object] = {}
    monkeypatch.setenv("HRSS_DEV_MODE", "true")
    monkeypatch.setattr(server, "configure_logging", lambda **_: None)
    monkeypatch.setattr(server, "create_app", lambda settings, **kwargs: asked.update(kwargs))
    server.app_from_environment()
    assert asked == {"settle_heap": True}
    frozen = gc.get_freeze_count()
    app = create_app(Settings(dev_mode=True), context=object())  # type: ignore[arg-type]
    with TestClient(app) as client:
        client.get("/healthz")
    assert not getattr(app.state, "settle_heap", False)
    # frozen objects that die leave the permanent generation, so the count may only fall
    assert gc.get_freeze_count() <= frozen
