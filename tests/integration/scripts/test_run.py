"""`make run` (``python -m scripts.run``) as a real process: it stops everything it started
(anvil, the anchoring worker) on SIGTERM and on Ctrl-C; it refuses ports another process
holds before touching any chain; it refuses a saved deployment the chain does not hold (a
fresh chain under an old ``var/deployment.json``) and says how to start afresh."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from node_adapter import AnvilProcess, Chain
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


def test_a_taken_chain_port_is_refused_before_anything_is_deployed(
    anvil_process_factory: Callable[..., AnvilProcess], tmp_path: Path
) -> None:
    other = anvil_process_factory()
    other_chain = Chain.from_urls([other.url])
    height = other_chain.block_number()
    log = tmp_path / "run.log"
    process = start_run(tmp_path / "var", port=free_port(), chain_port=other.port, log=log)
    try:
        assert process.wait(timeout=60) == 2, log.read_text()[-3000:]
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert f"port {other.port} for the chain (anvil) on 127.0.0.1 is taken" in log.read_text()
    assert not (tmp_path / "var" / "deployment.json").exists()
    assert other_chain.block_number() == height  # nothing was deployed on the other chain
    assert other.is_running()


def test_a_taken_api_port_is_refused(tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        log = tmp_path / "run.log"
        process = start_run(tmp_path / "var", port=port, chain_port=free_port(), log=log)
        assert process.wait(timeout=60) == 2, log.read_text()[-3000:]
    assert f"port {port} for the API on 127.0.0.1 is taken" in log.read_text()
    assert "make run PORT=8001 CHAIN_PORT=8546" in log.read_text()
    assert not (tmp_path / "var" / "chain").exists()


def test_a_saved_deployment_on_a_fresh_chain_is_refused_with_the_way_out(
    tmp_path: Path,
) -> None:
    var = tmp_path / "var"
    port, chain_port = free_port(), free_port()
    log = tmp_path / "run.log"
    first = start_run(var, port=port, chain_port=chain_port, log=log)
    try:
        wait_ready(first, port, log)
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=60) == 0
    assert (var / "deployment.json").exists()
    (var / "chain" / "anvil-state.json").unlink()  # the chain is lost, its addresses kept

    again = start_run(var, port=port, chain_port=chain_port, log=log)
    try:
        assert again.wait(timeout=120) == 2, log.read_text()[-3000:]
    finally:
        if again.poll() is None:
            os.killpg(again.pid, signal.SIGKILL)
            again.wait()
    text = log.read_text()
    assert "does not hold this deployment: no TrustRegistry" in text, text[-3000:]
    assert "rm -rf var" in text
