"""Metrics of a real ``python -m credential_service.api.serve --workers 2``: whichever worker
answers a scrape, it reports the requests of every worker, and a counter never goes backwards,
not even when a worker is killed and replaced; the metrics directory lives as long as the
supervisor."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.credential_service.api.test_serve import _wait_serving, _workers, serving

_PID_REQUESTS = re.compile(
    r'^hrss_http_request_duration_seconds_count\{method="GET",route="/pid",status="200"\} (\S+)$',
    re.MULTILINE,
)


def _request(port: int, path: str) -> bytes:
    """One request on a connection of its own (so the kernel spreads them over the workers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head
    return body


def _scrape(port: int) -> float:
    text = _request(port, "/metrics").decode()
    found = _PID_REQUESTS.findall(text)
    assert len(found) == 1, text
    return float(found[0])


@pytest.fixture
def served() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    with serving("observed") as started:
        yield started


def _count_and_scrape(port: int, requests: int, total: int) -> int:
    """Send `requests` more GET /pid; eight scrapes must each read `total` + `requests`, the
    new total, returned."""
    for _ in range(requests):
        _request(port, "/pid")
    total += requests
    assert [_scrape(port) for _ in range(8)] == [total] * 8
    return total


def test_every_scrape_reads_the_requests_of_both_workers_and_never_less(
    served: tuple[subprocess.Popen[bytes], int],
) -> None:
    process, port = served
    total = 1  # the fixture's readiness probe, a GET /pid
    served_by: set[int] = set()
    end = time.monotonic() + 60
    while served_by != _workers(process.pid):  # until both workers listen
        assert time.monotonic() < end, f"only {served_by} answered"
        served_by.add(int(json.loads(_request(port, "/pid"))["pid"]))
        total += 1
    total = _count_and_scrape(port, 41, total)

    # a worker killed and replaced: what it counted stays counted
    victim = min(_workers(process.pid))
    os.kill(victim, signal.SIGKILL)
    end = time.monotonic() + 60
    while not (len(now := _workers(process.pid)) == 2 and victim not in now):
        assert time.monotonic() < end, f"no replacement for {victim}"
        time.sleep(0.2)
    _wait_serving(port)  # one more GET /pid
    _count_and_scrape(port, 10, total + 1)

    # the supervisor made the directory for this run, and removes it when it stops
    worker = min(_workers(process.pid))
    environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
    named = [e.split(b"=", 1)[1] for e in environ if e.startswith(b"PROMETHEUS_MULTIPROC_DIR=")]
    assert len(named) == 1
    directory = Path(os.fsdecode(named[0]))
    assert any(directory.glob("*.db"))
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert not directory.exists()
