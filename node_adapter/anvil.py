"""`AnvilProcess`: a local anvil node (npm `@foundry-rs/anvil`) for development and tests."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import IO

from .errors import ChainUnavailable, ConfigurationError

__all__ = ["ANVIL_DEV_KEYS", "AnvilProcess", "find_anvil_binary", "port_is_free"]

# The accounts anvil derives from its default mnemonic
# ("test test test test test test test test test test test junk", m/44'/60'/0'/0/i).
ANVIL_DEV_KEYS: tuple[str, ...] = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "0x92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "0x4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
)

_PLATFORM_PACKAGE = "anvil-linux-amd64"


def _default_repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def find_anvil_binary(repo_root: Path | None = None) -> Path:
    """The anvil executable from `node_modules`: the platform package's binary first, then the
    `node_modules/.bin/anvil` launcher. Raises `ConfigurationError` when neither exists."""
    root = repo_root or _default_repo_root()
    candidates = [
        *sorted((root / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")),
        root / "node_modules" / "@foundry-rs" / _PLATFORM_PACKAGE / "bin" / "anvil",
        root / "node_modules" / ".bin" / "anvil",
    ]
    for path in candidates:
        if path.is_file() and os.access(path, os.X_OK):
            return path
    raise ConfigurationError(
        f"anvil not found under {root / 'node_modules'}; run `npm ci` (package @foundry-rs/anvil)"
    )


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    """Whether nothing listens on ``host:port``: a probe binds it (as a server restarting
    would, so connections of an earlier listener waiting in TIME_WAIT do not count)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AnvilProcess:
    """A running anvil node on 127.0.0.1.

    `AnvilProcess.start(...)` launches it and waits until it answers JSON-RPC. With a
    `state_file`, the chain is loaded from it when it exists and dumped to it on `stop()`
    (SIGTERM; anvil's `--state`); `kill()` (SIGKILL) loses everything since the last dump,
    which is what a crash does. Use as a context manager to stop it on exit.
    """

    def __init__(
        self,
        process: subprocess.Popen[bytes],
        port: int,
        args: list[str],
        log_file: IO[bytes] | None,
    ) -> None:
        self._process = process
        self.port = port
        self.args = args
        self._log_file = log_file

    @classmethod
    def start(
        cls,
        port: int | None = None,
        state_file: Path | None = None,
        chain_id: int = 31337,
        block_time: float | None = None,
        *,
        gas_price: int | None = None,
        base_fee: int | None = None,
        state_interval: int | None = None,
        extra_args: tuple[str, ...] = (),
        repo_root: Path | None = None,
        ready_timeout: float = 15.0,
        log_path: Path | None = None,
    ) -> AnvilProcess:
        """Launch anvil and wait until it is ready.

        `port=None` picks a free port (retrying if another process takes it first). A given
        `port` that another process listens on is refused before anvil starts: anvil would
        exit, and the other process would answer the readiness check in its place.
        `gas_price=0, base_fee=0` makes a zero-gas chain like a permissioned Besu network.
        `state_interval` dumps the state every so many seconds as well as on `stop()`.
        Raises `ConfigurationError` when the binary is missing, `ChainUnavailable` when the
        port is taken or anvil does not come up.
        """
        binary = find_anvil_binary(repo_root)
        if port is not None and not port_is_free(port):
            raise ChainUnavailable(f"port {port} on 127.0.0.1 is taken by another process")
        attempts = 1 if port is not None else 4
        last_error: Exception | None = None
        for _ in range(attempts):
            chosen = port if port is not None else _free_port()
            args = [str(binary), "--port", str(chosen), "--chain-id", str(chain_id)]
            if state_file is not None:
                args += ["--state", str(state_file)]
            if state_interval is not None:
                args += ["--state-interval", str(state_interval)]
            if block_time is not None:
                args += ["--block-time", str(block_time)]
            if gas_price is not None:
                args += ["--gas-price", str(gas_price)]
            if base_fee is not None:
                args += ["--base-fee", str(base_fee)]
            if gas_price == 0 or base_fee == 0:
                args += ["--disable-min-priority-fee"]
            args += list(extra_args)
            log_file: IO[bytes] | None = open(log_path, "ab") if log_path else None
            process = subprocess.Popen(
                args,
                stdout=log_file if log_file else subprocess.DEVNULL,
                stderr=subprocess.STDOUT if log_file else subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
            )
            node = cls(process, chosen, args, log_file)
            try:
                node.wait_ready(ready_timeout)
                return node
            except ChainUnavailable as err:
                last_error = err
                node.kill()
        raise ChainUnavailable(f"anvil did not start: {last_error}")

    @property
    def url(self) -> str:
        """The JSON-RPC URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return int(self._process.pid)

    def is_running(self) -> bool:
        return self._process.poll() is None

    def wait_ready(self, timeout: float = 15.0) -> None:
        """Block until anvil answers `eth_chainId`. Raises `ChainUnavailable` when it exits or
        does not answer within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"}).encode()
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise ChainUnavailable(
                    f"anvil exited with code {self._process.returncode} (port {self.port} taken?)"
                )
            request = urllib.request.Request(  # noqa: S310 (fixed http URL on localhost)
                self.url, data=body, headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=1.0) as response:  # noqa: S310
                    answered = b"result" in response.read()
                if answered and self._process.poll() is None:
                    return
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.02)
        raise ChainUnavailable(f"anvil on port {self.port} not ready after {timeout} s")

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM and wait: anvil writes its `--state` file on the way out."""
        if self._process.poll() is None:
            self._process.send_signal(signal.SIGTERM)
            try:
                self._process.wait(timeout)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._close_log()

    def kill(self) -> None:
        """SIGKILL: a crash; nothing is dumped."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            with contextlib.suppress(OSError):
                self._log_file.close()
            self._log_file = None

    @staticmethod
    def dev_keys() -> tuple[str, ...]:
        """Private keys (hex) of anvil's ten default funded accounts."""
        return ANVIL_DEV_KEYS

    def __enter__(self) -> AnvilProcess:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.is_running() else "stopped"
        return f"AnvilProcess(url={self.url!r}, pid={self.pid}, {state})"
