"""Real headless Chromium driven over the Chrome DevTools Protocol (websocket), for tests of
the service's web pages. `find_chromium()` fails in CI (``CI=true``) when no browser is
installed, and skips elsewhere: the browser test must never be silently skipped in CI."""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from websockets.sync.client import ClientConnection, connect

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
)
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


def find_chromium() -> str:
    """Path of a Chromium binary; fails the test in CI, skips it elsewhere, when missing."""
    for name in (
        os.environ.get("HRSS_CHROMIUM", ""),
        "chromium",
        "chromium-browser",
        "google-chrome",
    ):
        path = shutil.which(name) if name else None
        if path:
            return path
    message = "headless Chromium is not installed (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class Page:
    """One page target over CDP: send commands, wait for conditions in the page."""

    def __init__(self, socket: ClientConnection) -> None:
        self._socket = socket
        self._ids = itertools.count(1)

    def send(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self._ids)
        self._socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:
            reply = json.loads(self._socket.recv(timeout=30))
            if reply.get("id") == message_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.05)
        raise TimeoutError(f"{expression} stayed falsy for {timeout} s")

    def set_files(self, selector: str, *paths: Path) -> None:
        """Choose files in an ``<input type=file>``, as a user would (DOM.setFileInputFiles)."""
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", nodeId=root, selector=selector)["nodeId"]
        assert node, f"no element {selector}"
        self.send("DOM.setFileInputFiles", nodeId=node, files=[str(p) for p in paths])

    def navigate(self, url: str) -> None:
        self.send("Page.navigate", url=url)


@contextmanager
def chromium_page(binary: str, profile: Path, *extra_flags: str) -> Iterator[Page]:
    """A fresh headless Chromium (own profile, `extra_flags` after ours) and a CDP session
    on its first page."""
    process = subprocess.Popen(
        [binary, *CHROMIUM_FLAGS, *extra_flags, f"--user-data-dir={profile}", "about:blank"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        browser_url = None
        deadline = time.monotonic() + 30
        while browser_url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line and process.poll() is not None:
                raise RuntimeError(f"chromium exited with {process.returncode}")
            match = _LISTENING.search(line)
            if match:
                browser_url = match.group(1)
        if browser_url is None:
            raise TimeoutError("chromium did not open its DevTools port")
        # Drain stderr so the browser never blocks on a full pipe.
        threading.Thread(target=lambda: [None for _ in process.stderr], daemon=True).start()  # type: ignore[union-attr]
        http = browser_url.split("/devtools/")[0].replace("ws://", "http://")
        targets: list[dict[str, Any]] = []
        while not targets and time.monotonic() < deadline:
            with urllib.request.urlopen(f"{http}/json/list", timeout=5) as response:
                targets = [t for t in json.load(response) if t.get("type") == "page"]
        with connect(targets[0]["webSocketDebuggerUrl"], max_size=2**24) as socket:
            page = Page(socket)
            page.send("Page.enable")
            page.send("Runtime.enable")
            page.send("DOM.enable")
            yield page
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def serve(app: Any, port: int = 0) -> Iterator[str]:
    """Serve an ASGI app with uvicorn on `port` (0: a free one) of the loopback interface;
    yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
