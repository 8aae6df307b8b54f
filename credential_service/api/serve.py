"""Several API worker processes on one port, each with a listening socket of its own.

``python -m credential_service.api.serve --workers N [--host H] [--port P]``

``uvicorn --workers N`` gives every worker the same listening socket, and whichever worker
wakes first accepts every connection waiting: a client (or a load balancer) that opens its
keep-alive connections together finds most of them on one worker while the other idles. With
64 connections opened at once, splits of 63 to 1 were seen, and that worker's queue, not the
work, set the latency. Here each worker binds its own socket with ``SO_REUSEPORT``, so the
kernel spreads new connections over the workers by a hash of the peer's address and port,
as nginx (``reuseport``) and gunicorn (``--reuse-port``) do.

The supervisor replaces a worker that dies (as ``uvicorn --workers`` does) and stops
altogether when a worker fails during startup (a broken configuration fails the same way on
every restart). SIGTERM or SIGINT stop the workers gracefully, then the supervisor. A
supervisor that dies without stopping them (SIGKILL, a crash) takes them along: each worker
asks the kernel for SIGTERM when its parent dies (`die_with_parent`).

The workers count their metrics together (``prometheus_client``'s multiprocess mode): the
supervisor creates a fresh directory, names it in ``PROMETHEUS_MULTIPROC_DIR`` for the
workers, marks a worker that died as dead there (its counts stay counted) and removes the
directory when it stops.
"""

from __future__ import annotations

import argparse
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
from collections.abc import Sequence
from multiprocessing.process import BaseProcess

import uvicorn
from uvicorn.config import STARTUP_FAILURE

from credential_service.core.serving import die_with_parent, restore_recursion_limit
from credential_service.observability import configure_logging
from credential_service.observability.metrics import (
    MULTIPROCESS_DIRECTORY_VARIABLE,
    mark_process_dead,
)

__all__ = ["bind_reuse_port", "main"]

APP = "credential_service.api.server:app_from_environment"
_log = logging.getLogger("credential_service.serve")
_spawn = multiprocessing.get_context("spawn")


def bind_reuse_port(host: str, port: int, *, backlog: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` that other processes may bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    return sock


class _OwnSocketServer(uvicorn.Server):
    """A uvicorn server that listens on a ``SO_REUSEPORT`` socket of its own."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        if sockets is None:
            try:
                own = bind_reuse_port(
                    self.config.host, self.config.port, backlog=self.config.backlog
                )
            except OSError as err:
                _log.error("cannot listen on %s:%s: %s", self.config.host, self.config.port, err)
                sys.exit(STARTUP_FAILURE)
            sockets = [own]
        # the app and its lifespan have imported everything by now, the chain libraries too
        restore_recursion_limit()
        await super().startup(sockets=sockets)


def _worker(config: uvicorn.Config, supervisor: int) -> None:
    # First of all: a worker outliving its supervisor would keep serving old code on the
    # port (SO_REUSEPORT) next to the workers of a restarted one. SIGTERM is uvicorn's
    # graceful shutdown.
    die_with_parent(supervisor)
    config.configure_logging()
    _OwnSocketServer(config).run()


class Supervisor:
    """Keeps ``workers`` processes serving ``config`` until told to stop."""

    def __init__(self, config: uvicorn.Config, *, workers: int) -> None:
        if workers < 1:
            raise ValueError("at least one worker")
        self.config = config
        self.workers = workers
        self.processes: list[BaseProcess] = []
        self.stopping = threading.Event()

    def _start(self) -> BaseProcess:
        process = _spawn.Process(
            target=_worker, args=(self.config, os.getpid()), name="hrss-api-worker"
        )
        process.start()
        return process

    def run(self) -> int:
        """Serve until SIGTERM/SIGINT (0) or a worker that cannot start (1)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())
        # fresh: counts left by an earlier run would be summed with this one's
        metrics_directory = tempfile.mkdtemp(prefix="hrss-metrics-")
        os.environ[MULTIPROCESS_DIRECTORY_VARIABLE] = metrics_directory  # the workers inherit it
        self.processes = [self._start() for _ in range(self.workers)]
        code = 0
        while not self.stopping.wait(0.5):
            for index, process in enumerate(self.processes):
                if process.is_alive():
                    continue
                process.join()
                mark_process_dead(process.pid, metrics_directory)
                if process.exitcode == STARTUP_FAILURE:
                    _log.error("worker %s failed to start; stopping", process.pid)
                    code = 1
                    self.stopping.set()
                    break
                _log.warning(
                    "worker %s died (exit code %s); replacing it", process.pid, process.exitcode
                )
                self.processes[index] = self._start()
        for process in self.processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn's graceful shutdown
        for process in self.processes:
            process.join(self.config.timeout_graceful_shutdown or 30)
            if process.is_alive():
                process.kill()
                process.join()
        shutil.rmtree(metrics_directory, ignore_errors=True)
        return code


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--app", default=APP, help="factory of the ASGI app, module:function")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--backlog", type=int, default=2048)
    parser.add_argument("--timeout-graceful-shutdown", type=int, default=5)
    parser.add_argument(
        "--proxy-headers",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="trust X-Forwarded-For from --forwarded-allow-ips (as uvicorn does by default)",
    )
    parser.add_argument("--forwarded-allow-ips", default="127.0.0.1")
    args = parser.parse_args(argv)
    config = uvicorn.Config(
        args.app,
        factory=True,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        access_log=False,  # the app writes its own access lines, with request ids
        backlog=args.backlog,
        timeout_graceful_shutdown=args.timeout_graceful_shutdown,
        proxy_headers=args.proxy_headers,
        forwarded_allow_ips=args.forwarded_allow_ips,
    )
    configure_logging(level="INFO")  # JSON lines, as the workers write
    return Supervisor(config, workers=args.workers).run()


if __name__ == "__main__":
    sys.exit(main())
