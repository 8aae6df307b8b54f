"""The multi-worker supervisor (`credential_service.api.serve`) as a real process: keep-alive
connections opened together are spread over the workers, a killed worker is replaced, a worker
that cannot start stops everything, SIGTERM stops it cleanly, and its workers die with it when
it is SIGKILLed."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from credential_service.core.serving import SANE_RECURSION_LIMIT
from node_adapter.anvil import _free_port as free_port
from scripts.faults import api_workers

REPO = Path(__file__).resolve().parents[4]
APPS = "tests.integration.credential_service.api.apps"


def _start(app: str, port: int, workers: int = 2) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "credential_service.api.serve",
            "--app",
            f"{APPS}:{app}",
            "--port",
            str(port),
            "--workers",
            str(workers),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _get_pid(sock: socket.socket, port: int) -> int:
    sock.sendall(f"GET /pid HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
    data = b""
    while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return int(json.loads(data.split(b"\r\n\r\n", 1)[1])["pid"])


def _wait_serving(port: int, deadline: float = 60) -> None:
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                _get_pid(sock, port)
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("the service did not answer")


def _workers(master: int) -> set[int]:
    return set(api_workers(master))


def _running(pid: int) -> bool:
    """Whether ``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def _get(port: int, path: str) -> dict[str, int]:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
    answer: dict[str, int] = json.loads(data.split(b"\r\n\r\n", 1)[1])
    return answer


@contextlib.contextmanager
def serving(app: str) -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    """The supervisor with two workers serving `app` (of ``apps``), once both have started;
    stopped on the way out if still running (SIGTERM, so it removes its metrics directory)."""
    port = free_port()
    process = _start(app, port)
    try:
        _wait_serving(port)
        end = time.monotonic() + 60
        while len(_workers(process.pid)) < 2 and time.monotonic() < end:
            time.sleep(0.2)
        yield process, port
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    with serving("answering_pid") as started:
        yield started


def test_connections_opened_together_are_spread_over_the_workers(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = served
    time.sleep(1)  # both workers listening
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(64)]
    try:
        served_by = Counter(_get_pid(sock, port) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()
    assert set(served_by) == _workers(process.pid)
    # one shared socket gave splits like 63/1; a hash over 64 peers falls below 12 about
    # once in ten million runs
    assert min(served_by.values()) >= 12, served_by


def test_a_killed_worker_is_replaced_and_sigterm_stops_everything(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = served
    before = _workers(process.pid)
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    end = time.monotonic() + 60
    while time.monotonic() < end:
        now = _workers(process.pid)
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.2)
    else:
        raise AssertionError(f"no replacement for {victim}: {_workers(process.pid)}")
    _wait_serving(port)

    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_a_worker_that_cannot_start_stops_the_supervisor() -> None:
    process = _start("failing_at_startup", free_port())
    try:
        assert process.wait(timeout=60) == 1
    finally:
        if process.poll() is None:
            process.kill()


def test_workers_die_with_a_sigkilled_supervisor(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = served
    workers = _workers(process.pid)
    assert len(workers) == 2
    process.kill()
    process.wait()
    end = time.monotonic() + 30
    while any(_running(pid) for pid in workers) and time.monotonic() < end:
        time.sleep(0.2)
    assert [pid for pid in workers if _running(pid)] == []
    # nothing listens on the port any more: a new supervisor would not share it with orphans
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


def test_workers_run_with_a_sane_recursion_limit(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    _, port = served
    # the app imports py_ecc (as the chain libraries do), which raises the limit to 100,000
    assert _get(port, "/recursion-limit") == {"limit": SANE_RECURSION_LIMIT}
