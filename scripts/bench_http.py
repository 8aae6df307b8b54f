"""HTTP verification under load, and memory with a million pending anchor items.

`run()` (a section of ``make bench``) does, bounded in time and requests:

1. **HTTP verification.** Starts anvil, deploys the registries and the demo organisations, then
   the real service: ``python -m credential_service.api.serve`` with 2 uvicorn worker
   processes (uvloop, httptools), each on its own ``SO_REUSEPORT`` socket, on 127.0.0.1,
   PostgreSQL when it answers at
   ``HRSS_BENCH_POSTGRES_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``;
   a throwaway database is created and dropped), SQLite otherwise. The demo school issues a
   ``vc+jwt`` diploma through the API. A SECOND PROCESS (``python -m scripts.bench_http load``)
   then sends ``POST /v1/credentials/verify`` (bearer token, whole verification pipeline:
   format, algorithm, issuer accreditation, key validity, signature, status, validity period,
   from chain state cached and kept fresh by events) at fixed rates, open loop: request i is
   due at ``start + i / rate`` whatever happened before, and its latency is counted from when
   it was due (so queueing in an overloaded server counts; no coordinated omission). Rate
   limiting, security headers, metrics and JSON access logs stay on, as in production (the
   rate limit is raised so that it never refuses).
2. **Peak memory with 1,000,000 pending items.** One process submits 1,000,000 digests
   through the anchoring submit path (``submit_digests``, 10,000 a call) into SQLite; a second
   process, playing the anchoring worker, seals one batch of the default size (100,000) from
   that backlog; each one's peak RSS is reported.

Both machine halves share the same 2 cores: the load generator takes CPU from the service.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RATES = (250, 500, 1000)
BACKENDS = ("postgres", "sqlite")
SECONDS_PER_RATE = 5.0
CONNECTIONS = 64
WORKERS = 2
PENDING_ITEMS = 1_000_000
REPO = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
DIPLOMA_SUBJECT = {
    "name": "王小明",
    "idNumber": "11010519900307123X",
    "schoolName": "北京市工业技师学院",
    "major": "数控加工",
    "programme": "高级工班",
    "graduationDate": "2025-07-01",
    "diplomaNumber": "D110105202500042",
}


# ---------------------------------------------------------------------------- load generator


def _percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


async def _read_response(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionError("connection closed")
    status = int(status_line.split(b" ", 2)[1])
    length = 0
    chunked = False
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value.strip())
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    if chunked:
        while True:
            size = int((await reader.readline()).strip(), 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        await reader.readexactly(length)
    return status


async def generate_load(
    *, host: str, port: int, request: bytes, rate: float, duration: float, connections: int
) -> dict[str, Any]:
    """Send ``rate * duration`` copies of `request` open loop over `connections` keep-alive
    connections; latencies are counted from each request's due time."""
    total = int(rate * duration)
    due: asyncio.Queue[float | None] = asyncio.Queue()
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    last_done = 0.0

    async def connection() -> None:
        nonlocal last_done
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                when = await due.get()
                if when is None:
                    return
                try:
                    writer.write(request)
                    status = await _read_response(reader)
                except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as err:
                    statuses[f"error:{type(err).__name__}"] += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                done = time.perf_counter()
                last_done = max(last_done, done)
                statuses[str(status)] += 1
                if status == 200:
                    latencies.append(done - when)
        finally:
            writer.close()

    tasks = [asyncio.create_task(connection()) for _ in range(connections)]
    await asyncio.sleep(0.2)  # connections open before the clock starts
    start = time.perf_counter() + 0.01
    for i in range(total):
        when = start + i / rate
        delay = when - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait(when)
    for _ in tasks:
        due.put_nowait(None)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 60)
    elapsed = max(last_done - start, 1e-9)
    ok = statuses.get("200", 0)
    return {
        "rate": rate,
        "sent": total,
        "ok": ok,
        "statuses": dict(statuses),
        "throughput": ok / elapsed,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "max_ms": max(latencies, default=float("nan")) * 1000,
    }


def _load_main(args: argparse.Namespace) -> int:
    with contextlib.suppress(ImportError):
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    request = Path(args.request_file).read_bytes()
    result = asyncio.run(
        generate_load(
            host="127.0.0.1",
            port=args.port,
            request=request,
            rate=args.rate,
            duration=args.duration,
            connections=args.connections,
        )
    )
    print(json.dumps(result))
    return 0


def _http_request(path: str, body: bytes, *, port: int, token: str) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode("ascii") + body


# ---------------------------------------------------------------------------- the service


def _progress(message: str) -> None:
    print(f"# bench_http: {message}", file=sys.stderr, flush=True)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def _database(directory: Path, backend: str = "postgres") -> Iterator[tuple[str, str]]:
    """A throwaway PostgreSQL database when asked for and the server answers, else a SQLite
    file."""
    from sqlalchemy.engine import make_url

    if backend == "sqlite":
        yield f"sqlite:///{directory / 'hrss.db'}", "SQLite (WAL)"
        return
    url = make_url(os.environ.get("HRSS_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL))
    try:
        import psycopg

        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        admin = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except Exception:  # no PostgreSQL here: the benchmark still runs, on SQLite
        yield f"sqlite:///{directory / 'hrss.db'}", "SQLite (WAL)"
        return
    name = f"hrss_bench_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False), "PostgreSQL"
    finally:
        # a fresh connection: the fault campaign may have restarted the server meanwhile
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Service:
    port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def service_environment(
    *, database_url: str, chain_url: str, directory: Path, port: int
) -> dict[str, str]:
    return {
        "HRSS_DEV_MODE": "false",
        "HRSS_DATABASE_URL": database_url,
        "HRSS_CHAIN_RPC_URLS": chain_url,
        "HRSS_DEPLOYMENT_PATH": str(directory / "deployment.json"),
        "HRSS_KEYSTORE_PATH": str(directory / "service.keystore"),
        "HRSS_KEYSTORE_PASSPHRASE": "bench-" + secrets.token_hex(12),
        "HRSS_ISSUER_URL": f"http://127.0.0.1:{port}",
        "HRSS_ACCESS_TOKEN_LIFETIME_SECONDS": "3600",
        "HRSS_RATE_LIMIT_PER_SECOND": "1000000",
        "HRSS_RATE_LIMIT_BURST": "1000000",
        "HRSS_LOG_LEVEL": "INFO",
    }


def prepare(environment: dict[str, str], directory: Path) -> list[Any]:
    """Deploy the registries, migrate, create the demo organisations (in this process, once,
    so the workers only load what exists)."""
    from pydantic import SecretStr

    from credential_service import Settings
    from credential_service.bootstrap import bootstrap_demo
    from credential_service.context import ServiceContext

    settings = Settings(
        dev_mode=False,
        database_url=environment["HRSS_DATABASE_URL"],
        chain_rpc_urls=environment["HRSS_CHAIN_RPC_URLS"],
        deployment_path=Path(environment["HRSS_DEPLOYMENT_PATH"]),
        keystore_path=Path(environment["HRSS_KEYSTORE_PATH"]),
        keystore_passphrase=SecretStr(environment["HRSS_KEYSTORE_PASSPHRASE"]),
        issuer_url=environment["HRSS_ISSUER_URL"],
    )
    context = ServiceContext.open(settings)
    try:
        return bootstrap_demo(
            context,
            client_keystore_path=directory / "clients.keystore",
            client_passphrase="bench",
        )
    finally:
        context.close()


SERVERS = ("serve", "gunicorn")


def _server_command(server: str, port: int) -> list[str]:
    """``serve``: the service's own supervisor. ``gunicorn``: ``gunicorn --reuse-port`` with
    uvicorn workers, for comparison (docs/benchmarks.md)."""
    if server == "gunicorn":
        return [
            sys.executable, "-m", "gunicorn", "--reuse-port", "--workers", str(WORKERS),
            "--worker-class", "uvicorn_worker.UvicornWorker", "--bind", f"127.0.0.1:{port}",
            "--backlog", "2048", "--graceful-timeout", "5",
            "credential_service.api.server:app_from_environment()",
        ]  # fmt: skip
    return [
        sys.executable, "-m", "credential_service.api.serve",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS),
        "--backlog", "2048", "--timeout-graceful-shutdown", "5",
    ]  # fmt: skip


def start_service(
    environment: dict[str, str],
    *,
    port: int,
    directory: Path,
    preexec_fn: Callable[[], None] | None = None,
    server: str = "serve",
) -> Service:
    log_path = directory / f"service-{port}.log"
    command = _server_command(server, port)
    if server == "gunicorn":  # counting across workers as serve does (it makes its own)
        metrics_directory = directory / "metrics"
        metrics_directory.mkdir(exist_ok=True)
        environment = {**environment, "PROMETHEUS_MULTIPROC_DIR": str(metrics_directory)}
    # Through a pipe this process copies to the log file: a file size limit set by
    # `preexec_fn` (the disk-full fault) must hit the database, not the log.
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env={**os.environ, **environment},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=preexec_fn,
    )
    threading.Thread(target=_copy, args=(process.stdout, log_path), daemon=True).start()
    service = Service(port=port, process=process, log_path=log_path)
    import httpx

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited: {log_path.read_text()[-2000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{service.base}/readyz", timeout=2).status_code == 200:
                return service
        time.sleep(0.3)
    service.stop()
    raise RuntimeError("the service did not become ready in 90 s")


def _copy(stream: Any, path: Path) -> None:
    # Whatever the pipe holds at once, not a line at a time: a reader that makes two system
    # calls and takes the GIL per log line falls behind at 1,000 req/s on 2 busy cores, the
    # pipe fills and the service's workers block writing their access log, which a log
    # collector in production (journald, a container runtime) does not make them do.
    fd = stream.fileno()
    with open(path, "ab", buffering=0) as log:
        while chunk := os.read(fd, 1 << 20):
            log.write(chunk)


def access_token(client: Any, *, issuer_url: str, keystore: Any, client_id: str) -> str:
    """An access token for a demo client (private_key_jwt)."""
    from credential_service.bootstrap import load_client_key
    from credential_service.service_client import client_assertion

    private = load_client_key(keystore, client_id)
    assertion = client_assertion(
        private, client_id=client_id, token_endpoint=f"{issuer_url.rstrip('/')}/v1/auth/token"
    )
    response = client.post(
        f"{issuer_url.rstrip('/')}/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def issue_diploma(service: Service, directory: Path, credentials: list[Any]) -> tuple[str, str]:
    """The demo province accredits the demo school for diplomas; the school issues one; the
    court's token verifies it. Returns (credential, court token)."""
    import httpx

    from credential_service.keystore import FileKeystore
    from credential_service.models import OrganisationKind

    keystore = FileKeystore.open(directory / "clients.keystore", "bench")
    by_role = {}
    for credential in credentials:
        by_role.setdefault(credential.role, credential.client_id)
    with httpx.Client(timeout=30) as client:

        def token(role: OrganisationKind) -> str:
            return access_token(
                client, issuer_url=service.base, keystore=keystore, client_id=by_role[role]
            )

        province = {"Authorization": f"Bearer {token(OrganisationKind.PROVINCE)}"}
        school_id = by_role[OrganisationKind.ISSUER]
        response = client.put(
            f"{service.base}/v1/credential-types/TechnicalSchoolDiploma/issuers/{school_id}",
            json={"allowed": True},
            headers=province,
        )
        response.raise_for_status()
        school = {"Authorization": f"Bearer {token(OrganisationKind.ISSUER)}"}
        response = client.post(
            f"{service.base}/v1/credentials",
            json={"credentials": [{"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}]},
            headers=school,
        )
        response.raise_for_status()
        credential = str(response.json()["credentials"][0]["credential"])
        court = token(OrganisationKind.COURT)
        # every worker builds its chain-state cache on first use and follows events after
        deadline = time.monotonic() + 60
        verified = 0
        while verified < 40:
            if time.monotonic() > deadline:
                raise RuntimeError("the credential never verified")
            response = client.post(
                f"{service.base}/v1/credentials/verify",
                json={"credential": credential},
                headers={"Authorization": f"Bearer {court}"},
            )
            response.raise_for_status()
            verified = verified + 1 if response.json()["verified"] else 0
            if not verified:
                time.sleep(0.25)
    return credential, court


def _run_load(*, port: int, request_file: Path, rate: float, duration: float) -> dict[str, Any]:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "scripts.bench_http",
            "load",
            "--port",
            str(port),
            "--request-file",
            str(request_file),
            "--rate",
            str(rate),
            "--duration",
            str(duration),
            "--connections",
            str(CONNECTIONS),
        ],
        cwd=REPO,
        capture_output=True,
        timeout=duration + 120,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"the load generator failed: {completed.stderr.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(completed.stdout.decode().strip().splitlines()[-1])
    return result


def http_rows(
    rates: tuple[int, ...] = RATES,
    seconds: float = SECONDS_PER_RATE,
    backends: tuple[str, ...] = BACKENDS,
    server: str = "serve",
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for backend in backends:
        rows += _http_rows(rates, seconds, backend, server)
    return rows


def _http_rows(
    rates: tuple[int, ...], seconds: float, backend: str, server: str
) -> list[dict[str, Any]]:
    from node_adapter import AnvilProcess

    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hrss-bench-http-") as tmp:
        directory = Path(tmp)
        node = AnvilProcess.start(log_path=directory / "anvil.log")
        try:
            with _database(directory, backend) as (database_url, database_name):
                port = _free_port()
                environment = service_environment(
                    database_url=database_url, chain_url=node.url, directory=directory, port=port
                )
                _progress("deploying registries and demo organisations")
                credentials = prepare(environment, directory)
                _progress(f"starting the service ({WORKERS} workers, {database_name})")
                service = start_service(environment, port=port, directory=directory, server=server)
                _progress("issuing a credential; warming both workers up")
                try:
                    credential, token = issue_diploma(service, directory, credentials)
                    request_file = directory / "request.http"
                    body = json.dumps({"credential": credential}).encode()
                    request_file.write_bytes(
                        _http_request("/v1/credentials/verify", body, port=port, token=token)
                    )
                    _run_load(port=port, request_file=request_file, rate=200, duration=1.0)
                    workers = (
                        "gunicorn --reuse-port"
                        if server == "gunicorn"
                        else "own SO_REUSEPORT sockets"
                    )
                    setup = (
                        f"{WORKERS} uvicorn workers, {workers}, "
                        f"{database_name}, anvil; "
                        f"load from a second process, {CONNECTIONS} keep-alive connections, "
                        f"open loop, {seconds:.0f} s per rate"
                    )
                    for rate in rates:
                        _progress(f"{rate} req/s for {seconds:.0f} s")
                        result = _run_load(
                            port=port, request_file=request_file, rate=rate, duration=seconds
                        )
                        errors = {k: v for k, v in result["statuses"].items() if k != "200"}
                        note = f"{result['ok']}/{result['sent']} answered 200"
                        if errors:
                            note += f"; others: {errors}"
                        rows += [
                            {
                                "benchmark": f"POST /v1/credentials/verify at {rate} req/s "
                                f"({database_name}): throughput",
                                "value": f"{result['throughput']:.0f}",
                                "baseline": f"{rate} offered",
                                "unit": "req/s",
                                "note": f"{note}; {setup}",
                            },
                            {
                                "benchmark": f"  … at {rate} req/s: latency p50 / p99",
                                "value": f"{result['p50_ms']:.1f} / {result['p99_ms']:.1f}",
                                "baseline": "p99 < 25 (target at 1000 req/s)",
                                "unit": "ms",
                                "note": f"max {result['max_ms']:.0f} ms; from due time",
                            },
                        ]
                finally:
                    service.stop()
        finally:
            node.stop()
    return rows


# ---------------------------------------------------------------------------- memory


def _peak_rss_mib() -> float:
    """This process's peak resident set (VmHWM). Not ``ru_maxrss``: that one survives
    ``execve`` and would report the forking parent's peak."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pending_insert_main(args: argparse.Namespace) -> int:
    from credential_service.anchoring.outbox import NewItem
    from credential_service.anchoring.service import MAX_DIGESTS_PER_REQUEST, submit_digests
    from credential_service.persistence import create_database_engine, migrate

    engine = create_database_engine(f"sqlite:///{args.database}")
    migrate(engine)
    started = time.perf_counter()
    for start in range(0, args.items, MAX_DIGESTS_PER_REQUEST):
        count = min(MAX_DIGESTS_PER_REQUEST, args.items - start)
        items = [NewItem(digest=os.urandom(32), document_type="bench") for _ in range(count)]
        with engine.begin() as connection:
            submit_digests(connection, organisation_id=1, algorithm="sha-256", items=items)
    elapsed = time.perf_counter() - started
    engine.dispose()
    print(json.dumps({"seconds": elapsed, "peak_rss_mib": _peak_rss_mib()}))
    return 0


def _pending_seal_main(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import func, select

    from credential_service.anchoring.outbox import ITEM, seal_batch
    from credential_service.core.config import AnchoringSettings
    from credential_service.persistence import create_database_engine

    engine = create_database_engine(f"sqlite:///{args.database}")
    baseline = _peak_rss_mib()
    max_leaves = AnchoringSettings().batch_size
    started = time.perf_counter()
    sealed = seal_batch(
        engine,
        algorithm="sha-256",
        max_leaves=max_leaves,
        max_age=timedelta(seconds=0),
        now=datetime.now(UTC),
    )
    elapsed = time.perf_counter() - started
    with engine.connect() as connection:
        waiting = connection.execute(
            select(func.count()).select_from(ITEM).where(ITEM.c.batch_id.is_(None))
        ).scalar_one()
    engine.dispose()
    print(
        json.dumps(
            {
                "seconds": elapsed,
                "leaves": 0 if sealed is None else sealed.leaf_count,
                "still_waiting": int(waiting),
                "peak_rss_mib": _peak_rss_mib(),
                "rss_before_mib": baseline,
            }
        )
    )
    return 0


def memory_rows(items: int = PENDING_ITEMS) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="hrss-bench-mem-") as tmp:
        database = Path(tmp) / "outbox.db"

        def child(command: str) -> dict[str, Any]:
            completed = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "scripts.bench_http",
                    command,
                    "--database",
                    str(database),
                    "--items",
                    str(items),
                ],
                cwd=REPO,
                capture_output=True,
                timeout=900,
                check=True,
            )
            result: dict[str, Any] = json.loads(completed.stdout.decode().strip().splitlines()[-1])
            return result

        inserted = child("pending-insert")
        sealed = child("pending-seal")
        size_mib = database.stat().st_size / 2**20
    return [
        {
            "benchmark": f"peak RSS, anchoring worker sealing one batch from {items:,} pending",
            "value": f"{sealed['peak_rss_mib']:.0f}",
            "baseline": f"{sealed['rss_before_mib']:.0f} before sealing",
            "unit": "MiB",
            "note": (
                f"SQLite outbox ({size_mib:.0f} MiB file); batch of {sealed['leaves']:,} "
                f"(default size) sealed in {sealed['seconds']:.1f} s, "
                f"{sealed['still_waiting']:,} still waiting"
            ),
        },
        {
            "benchmark": f"peak RSS, submitting process after {items:,} items",
            "value": f"{inserted['peak_rss_mib']:.0f}",
            "baseline": "",
            "unit": "MiB",
            "note": (
                f"submit_digests, 10,000 a call, {items / inserted['seconds']:,.0f} items/s "
                "into SQLite"
            ),
        },
    ]


# ---------------------------------------------------------------------------- entry points


def run() -> list[dict[str, Any]]:
    """The bench section: HTTP verification at fixed rates, then memory."""
    rows = http_rows()
    try:
        rows += memory_rows()
    except Exception as err:  # report, keep the HTTP figures
        rows.append({"benchmark": "peak RSS with 1,000,000 pending", "value": "not measured",
                     "note": repr(err)})  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    commands = parser.add_subparsers(dest="command")
    load = commands.add_parser("load", help="(internal) the load generator process")
    load.add_argument("--port", type=int, required=True)
    load.add_argument("--request-file", required=True)
    load.add_argument("--rate", type=float, required=True)
    load.add_argument("--duration", type=float, required=True)
    load.add_argument("--connections", type=int, default=CONNECTIONS)
    for name in ("pending-insert", "pending-seal"):
        sub = commands.add_parser(name, help="(internal) memory measurement process")
        sub.add_argument("--database", required=True)
        sub.add_argument("--items", type=int, default=PENDING_ITEMS)
    only = commands.add_parser("run", help="run the section and print its rows")
    only.add_argument("--rates", default=",".join(map(str, RATES)))
    only.add_argument("--seconds", type=float, default=SECONDS_PER_RATE)
    only.add_argument("--items", type=int, default=PENDING_ITEMS)
    only.add_argument("--skip-memory", action="store_true")
    only.add_argument("--backends", default=",".join(BACKENDS))
    only.add_argument("--server", choices=SERVERS, default="serve")
    args = parser.parse_args(argv)
    if args.command == "load":
        return _load_main(args)
    if args.command == "pending-insert":
        return _pending_insert_main(args)
    if args.command == "pending-seal":
        return _pending_seal_main(args)
    rates = tuple(int(r) for r in getattr(args, "rates", ",".join(map(str, RATES))).split(","))
    backends = tuple(getattr(args, "backends", ",".join(BACKENDS)).split(","))
    server = getattr(args, "server", "serve")
    rows = http_rows(rates, getattr(args, "seconds", SECONDS_PER_RATE), backends, server)
    if not getattr(args, "skip_memory", False):
        rows += memory_rows(getattr(args, "items", PENDING_ITEMS))
    for row in rows:
        print(
            " | ".join(
                str(row.get(k, "")) for k in ("benchmark", "value", "baseline", "unit", "note")
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
