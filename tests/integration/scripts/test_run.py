"""`make run` (``python -m scripts.run``) as a real process: it stops everything it started
(anvil, the anchoring worker) on SIGTERM and on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from node_adapter.anvil import _free_port as free_port
from tests.fixtures.processes import running_descendants

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[3]
READY_SECONDS = 120


def start_run(var: Path, *, port: int, chain_port: int, log: Path) -> subprocess.Popen[bytes]:
    """``python -m scripts.run`` in its own process group (a terminal's foreground job)."""
    with open(log, "ab") as output:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scripts.run",
                "--var",
                str(var),
                "--port",
                str(port),
                "--chain-port",
                str(chain_port),
            ],
            cwd=REPO,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def wait_ready(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"make run exited {process.returncode}:\n{log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"make run not ready after {READY_SECONDS} s:\n{log.read_text()}")


def _command(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            return cmdline.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


@pytest.fixture
def run_process(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, Path]]:
    port, chain_port = free_port(), free_port()
    log = tmp_path / "run.log"
    process = start_run(tmp_path / "var", port=port, chain_port=chain_port, log=log)
    try:
        wait_ready(process, port, log)
        yield process, port, log
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@pytest.mark.parametrize("stop", ["sigterm", "ctrl-c"])
def test_stopping_make_run_stops_everything_it_started(
    run_process: tuple[subprocess.Popen[bytes], int, Path], stop: str
) -> None:
    process, port, log = run_process
    children = running_descendants(process.pid)
    commands = [_command(pid) for pid in children]
    assert any("anvil" in c for c in commands), commands
    assert any("credential_service.anchoring.worker" in c for c in commands), commands
    if stop == "sigterm":
        process.send_signal(signal.SIGTERM)
    else:  # a terminal sends SIGINT to the whole foreground process group
        os.killpg(process.pid, signal.SIGINT)
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
    end = time.monotonic() + 10
    while any(_running(pid) for pid in children) and time.monotonic() < end:
        time.sleep(0.2)
    assert [(pid, _command(pid)) for pid in children if _running(pid)] == []
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
