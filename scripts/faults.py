"""The fault campaign: ``python -m scripts.faults [--documents N] [--credentials M] [--seed S]``.

Loopback only, bounded (every wait has a deadline). Runs the real processes: anvil (state
file, dumped every second), the service (``credential_service.api.serve``, 2 uvicorn workers)
and 2 anchoring workers
(``python -m credential_service.anchoring.worker``) on one database: a throwaway PostgreSQL
database when the server at ``HRSS_BENCH_POSTGRES_URL`` answers, SQLite otherwise.

1. **Credentials**: the demo school issues M credentials through ``POST /v1/credentials``
   (100 a request) while an API worker process is SIGKILLed and the service's PostgreSQL
   backends are terminated (``pg_terminate_backend``, what every client sees of a server
   restart), or, with ``--restart-postgres``, the local server itself is restarted
   (``pg_ctlcluster ... restart``; never in the test suite, which shares the server).
   Every request carries its own ``Idempotency-Key`` and, like a real client, is retried
   with the same key after a 5xx, a 409 ``idempotency_key_in_flight``, a dropped connection
   or a timeout, with exponential backoff, for up to a minute: a retry of a request the
   service had carried out gets the stored answer (``Idempotent-Replayed: true``), so every
   credential is accepted exactly once.
2. **Documents**: N digests through ``POST /v1/anchors`` (1,000 a request; submission is
   idempotent by digest, so a retry is safe) while, at random points, an anchoring worker is
   SIGKILLed and restarted (twice), anvil is SIGKILLed and restarted from its state file
   (losing up to a second of blocks: a rollback the workers must notice), an API worker is
   SIGKILLed, and the database backends are terminated again. Beside the process kills, chain
   faults made with the node's own controls: a **reorg** replacing the last blocks, anchors
   and all (``anvil_reorg``); pending anchoring transactions **dropped** from the pool
   (``anvil_dropTransaction``, mining paused until one is caught); a **halted** chain that
   accepts transactions but mines none for a few seconds (automine and interval mining off),
   then resumes.
3. **Disk full** (SQLite): a service process whose file size limit (``RLIMIT_FSIZE``, the
   SQLite file and its WAL) is a couple of MiB above its size takes digests until it refuses;
   then it restarts without the limit and an anchoring worker drains the queue.

Then it waits until every accepted item is confirmed and every batch's recorded block is on the
canonical chain (the workers' rollback watch has caught up with the last chain fault), and
checks, from the database and the chain: every accepted item is in the outbox
(nothing lost), confirmed, in exactly one batch whose root is on chain exactly where the batch
says (anchored once, not twice), every receipt checks offline and one per batch online
(`wallet_sdk.verify_receipt`), and every accepted credential verifies through the API; no
idempotency key was answered with two different sets of credentials, and the credentials the
database holds for the school are exactly the distinct ones accepted (none issued twice, none
lost). Prints the tally; exits 1 when a check failed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import resource
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from scripts.bench_http import (
    DIPLOMA_SUBJECT,
    REPO,
    Service,
    _database,
    _free_port,
    access_token,
    prepare,
    service_environment,
    start_service,
)

ANCHOR_BATCH = 1_000
CREDENTIAL_BATCH = 100
RECOVERY_LIMIT = 30
"""Answers that are 5xx or missing, in a row (at least 0.25 s apart, backing off), after which
the service counts as not having recovered from a fault. A restarted PostgreSQL server takes a
few seconds, during which the service answers 503 with Retry-After."""
RETRY_BUDGET_SECONDS = 60.0
"""How long a client keeps retrying one request (with the same idempotency key) before it
gives up on it."""
BACKOFF_FIRST_SECONDS = 0.25
BACKOFF_CAP_SECONDS = 4.0
CREDENTIAL_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
"""Per attempt: an issuance of 100 credentials takes well under a second on a healthy service;
an attempt stuck behind a killed worker or a restarting database is abandoned and retried."""


def _say(message: str) -> None:
    print(f"# faults: {message}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- processes


def children_of(pid: int) -> list[int]:
    """Direct children of `pid` (from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] not in ("Z", "X"):  # not a reaped-late zombie
            found.append(int(entry))
    return found


def api_workers(master: int) -> list[int]:
    """The uvicorn worker processes under `master` (not its multiprocessing resource
    tracker); the supervisor replaces a worker that dies."""
    workers = []
    for pid in children_of(master):
        with contextlib.suppress(OSError):
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if b"spawn_main" in f.read():
                    workers.append(pid)
    return workers


@dataclass
class AnchoringWorker:
    name: str
    environment: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "credential_service.anchoring.worker"],
                cwd=REPO,
                env={**os.environ, **self.environment, "HRSS_ANCHORING_WORKER_NAME": self.name},
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def terminate_backends(database_url: str) -> int:
    """``pg_terminate_backend`` every other session of the service's database; the number."""
    import psycopg
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True, connect_timeout=3) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()",
            (url.database,),
        ).fetchall()
    return sum(1 for (done,) in rows if done)


# ---------------------------------------------------------------------------- tally


@dataclass
class Tally:
    faults: list[str] = field(default_factory=list)
    requests: Counter[str] = field(default_factory=Counter)
    checks: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    directory: Path | None = None
    logs: dict[str, str] = field(default_factory=dict)
    failing_in_a_row: Counter[str] = field(default_factory=Counter)
    retried: Counter[str] = field(default_factory=Counter)
    """Requests (not attempts) that needed at least one retry, by kind."""
    retries: Counter[str] = field(default_factory=Counter)
    """Attempts after the first, by kind."""
    chain_faults: int = 0
    """Reorgs, drops and halts made with the node's controls."""

    def keep_logs(self) -> None:
        """The tails of every process log, for the report when something failed."""
        if self.directory is None:
            return
        for path in sorted(self.directory.rglob("*.log")):
            lines = path.read_text(errors="replace").strip().splitlines()
            kinds: Counter[str] = Counter()
            for line in lines:
                with contextlib.suppress(ValueError, AttributeError):
                    entry = json.loads(line)
                    if entry.get("exception"):
                        kinds[entry["exception"].strip().splitlines()[-1][:300]] += 1
                    elif entry.get("level") in ("WARNING", "ERROR"):
                        kinds[str(entry.get("message"))[:300]] += 1
            self.logs[str(path.relative_to(self.directory))] = "\n".join(
                [f"{n} x {kind}" for kind, n in kinds.most_common(6)] + ["..."] + lines[-4:]
            )

    def fault(self, started: float, what: str) -> None:
        self.faults.append(f"t={time.monotonic() - started:5.1f}s {what}")
        _say(what)

    def problem(self, message: str) -> None:
        if len(self.problems) < 20:
            self.problems.append(message)
        _say(f"PROBLEM: {message}")

    def print(self) -> None:
        print("\nfault campaign\n")
        print("faults injected:")
        for fault in self.faults:
            print(f"  {fault}")
        print("\nrequests:", dict(sorted(self.requests.items())))
        print("requests retried:", dict(sorted(self.retried.items())))
        print("retry attempts:", dict(sorted(self.retries.items())))
        print("\n| check | result |\n|---|---|")
        for name, value in self.checks.items():
            print(f"| {name} | {value} |")
        print(f"\n{'FAILED' if self.problems else 'OK'}: {len(self.problems)} problem(s)")
        for problem in self.problems:
            print(f"  - {problem}")
        server_errors = any(":5" in key for key in self.requests)
        if self.problems or server_errors:
            for name, tail in self.logs.items():
                print(f"\n--- {name} (last lines)\n{tail}")


# ---------------------------------------------------------------------------- client side


def _backoff(attempt: int) -> float:
    """Exponential backoff with full jitter: up to 0.25 s, 0.5 s, 1 s, ... 4 s."""
    ceiling: float = min(BACKOFF_CAP_SECONDS, BACKOFF_FIRST_SECONDS * 2.0 ** (attempt - 1))
    return random.uniform(0.5, 1.0) * ceiling


def _retryable(response: httpx.Response) -> bool:
    if response.status_code >= 500 or response.status_code == 429:
        return True
    if response.status_code == 409:
        with contextlib.suppress(ValueError, AttributeError):
            return bool(response.json().get("code") == "idempotency_key_in_flight")
    return False


def _post_retrying(
    client: httpx.Client,
    tally: Tally,
    kind: str,
    url: str,
    *,
    json_body: Any,
    headers: dict[str, str],
    accept: int,
    deadline: float,
) -> httpx.Response | None:
    """POST until answered `accept` (the response) or another 4xx (None, and a problem).

    The request must be idempotent (anchoring is, by digest; issuance by the
    ``Idempotency-Key`` in `headers`): transport errors (timeouts included), 5xx, 429 and 409
    ``idempotency_key_in_flight`` are retried, the same request each time, with exponential
    backoff, for up to `RETRY_BUDGET_SECONDS` and never past `deadline`."""
    give_up = min(deadline, time.monotonic() + RETRY_BUDGET_SECONDS)
    attempt = 0
    while True:
        if attempt:
            if time.monotonic() >= give_up:
                tally.problem(f"{kind}: no answer after {attempt} attempts; gave up")
                return None
            tally.retries[kind] += 1
            if attempt == 1:
                tally.retried[kind] += 1
        attempt += 1
        if tally.failing_in_a_row[kind] == RECOVERY_LIMIT:
            tally.problem(
                f"{kind}: {RECOVERY_LIMIT} failures in a row: the service did not recover"
            )
        try:
            response = client.post(url, json=json_body, headers=headers)
        except httpx.HTTPError as err:
            tally.failing_in_a_row[kind] += 1
            tally.requests[f"{kind}:transport:{type(err).__name__}"] += 1
            time.sleep(_backoff(attempt))
            continue
        tally.requests[f"{kind}:{response.status_code}"] += 1
        if response.status_code >= 500:
            tally.failing_in_a_row[kind] += 1
            samples = tally.logs.setdefault(f"{kind}: 5xx answers (first 3)", "")
            if samples.count("\n") < 3:
                tally.logs[f"{kind}: 5xx answers (first 3)"] = (
                    samples + f"{response.status_code} {response.text[:400]}\n"
                )
        else:
            tally.failing_in_a_row[kind] = 0
        if response.status_code == accept:
            return response
        if _retryable(response):
            time.sleep(_backoff(attempt))
            continue
        tally.problem(f"{kind}: {response.status_code} {response.text[:200]}")
        return None


@dataclass
class World:
    service: Service
    tokens: dict[str, str]
    school_id: str


def _tokens(service: Service, directory: Path, credentials: list[Any]) -> World:
    from credential_service.keystore import FileKeystore
    from credential_service.models import OrganisationKind

    keystore = FileKeystore.open(directory / "clients.keystore", "bench")
    by_role: dict[Any, str] = {}
    for credential in credentials:
        by_role.setdefault(credential.role, credential.client_id)
    with httpx.Client(timeout=30) as client:
        tokens = {
            role.value: access_token(
                client, issuer_url=service.base, keystore=keystore, client_id=client_id
            )
            for role, client_id in by_role.items()
        }
        school_id = by_role[OrganisationKind.ISSUER]
        response = client.put(
            f"{service.base}/v1/credential-types/TechnicalSchoolDiploma/issuers/{school_id}",
            json={"allowed": True},
            headers={"Authorization": f"Bearer {tokens['province']}"},
        )
        response.raise_for_status()
    return World(service=service, tokens=tokens, school_id=school_id)


@dataclass
class Issuance:
    """What the school's client saw: every 201 answer's credential ids by idempotency key
    (a key answered twice must name the same credentials), and the accepted tokens."""

    answers: dict[str, list[tuple[str, ...]]] = field(default_factory=dict)
    tokens: list[str] = field(default_factory=list)
    ids: list[str] = field(default_factory=list)
    replayed: int = 0
    """Answers to retries that were replays (the service had carried out an attempt whose
    answer the client never got)."""
    repeats: int = 0
    repeats_replayed: int = 0
    """Deliberate repeats of an answered request, and those answered as replays."""


def issue_credentials(world: World, tally: Tally, count: int, deadline: float) -> Issuance:
    """The school issues `count` credentials, 100 a request, each request under its own
    idempotency key and retried (see `_post_retrying`)."""
    issuance = Issuance()
    with httpx.Client(timeout=CREDENTIAL_TIMEOUT) as client:
        for start in range(0, count, CREDENTIAL_BATCH):
            n = min(CREDENTIAL_BATCH, count - start)
            body = {
                "credentials": [
                    {
                        "type": "TechnicalSchoolDiploma",
                        "subject": {**DIPLOMA_SUBJECT, "diplomaNumber": f"F{start + i:09d}"},
                    }
                    for i in range(n)
                ]
            }
            key = str(uuid.uuid4())
            headers = {"Authorization": f"Bearer {world.tokens['issuer']}", "Idempotency-Key": key}
            url = f"{world.service.base}/v1/credentials"
            answer = _post_retrying(
                client, tally, "credentials", url,
                json_body=body, headers=headers, accept=201, deadline=deadline,
            )  # fmt: skip
            if answer is None:
                continue
            credentials = answer.json()["credentials"]
            ids = tuple(c["id"] for c in credentials)
            issuance.answers.setdefault(key, []).append(ids)
            issuance.replayed += answer.headers.get("idempotent-replayed") == "true"
            issuance.tokens += [c["credential"] for c in credentials]
            issuance.ids += ids
            if len(ids) != n:
                tally.problem(f"credentials: asked for {n}, answered {len(ids)}")
            # a client that lost an answer would ask again: so does this one, once in a while,
            # and must get the very same credentials
            if start % (20 * CREDENTIAL_BATCH) == 0:
                again = _post_retrying(
                    client, tally, "credentials (replay)", url,
                    json_body=body, headers=headers, accept=201, deadline=deadline,
                )  # fmt: skip
                issuance.repeats += 1
                if again is not None:
                    if again.headers.get("idempotent-replayed") == "true":
                        issuance.repeats_replayed += 1
                    else:
                        tally.problem("credentials: a repeated request was not a replay")
                    issuance.answers[key].append(
                        tuple(c["id"] for c in again.json()["credentials"])
                    )
    return issuance


def check_issuance(engine: Any, world: World, issuance: Issuance, tally: Tally) -> None:
    """Exactly once: no key answered with two different sets of credentials, no credential
    accepted twice, and the database holds exactly the accepted credentials of the school."""
    from sqlalchemy import func, select
    from sqlmodel import col

    from credential_service.credentials.models import CredentialRecord
    from credential_service.models import Organisation

    conflicting = sum(1 for answers in issuance.answers.values() if len(set(answers)) > 1)
    tally.checks["idempotency keys answered with different credentials"] = conflicting
    if conflicting:
        tally.problem(f"{conflicting} idempotency keys produced different credential ids")
    distinct = set(issuance.ids)
    tally.checks["credentials accepted / distinct"] = f"{len(issuance.ids)} / {len(distinct)}"
    if len(distinct) != len(issuance.ids):
        tally.problem(f"{len(issuance.ids) - len(distinct)} credentials were accepted twice")
    with engine.connect() as connection:
        organisation_id = connection.execute(
            select(col(Organisation.id)).where(col(Organisation.credit_code) == world.school_id)
        ).scalar_one()
        stored = connection.execute(
            select(func.count())
            .select_from(CredentialRecord)
            .where(col(CredentialRecord.organisation_id) == organisation_id)
        ).scalar_one()
        ids = list(distinct)
        found = 0
        for start in range(0, len(ids), 5_000):
            found += connection.execute(
                select(func.count())
                .select_from(CredentialRecord)
                .where(col(CredentialRecord.id).in_(ids[start : start + 5_000]))
            ).scalar_one()
    tally.checks["credentials in the database / accepted ones among them"] = f"{stored} / {found}"
    if found != len(distinct):
        tally.problem(f"{len(distinct) - found} accepted credentials are not in the database")
    if stored != len(distinct):
        tally.problem(
            f"the database holds {stored} credentials of the school, {len(distinct)} accepted"
        )


def submit_documents(
    world: World, tally: Tally, digests: list[str], deadline: float
) -> dict[str, str]:
    """digest → accepted item id."""
    accepted: dict[str, str] = {}
    headers = {"Authorization": f"Bearer {world.tokens['employer']}"}
    with httpx.Client(timeout=60) as client:
        for start in range(0, len(digests), ANCHOR_BATCH):
            chunk = digests[start : start + ANCHOR_BATCH]
            answer = _post_retrying(
                client, tally, "anchors", f"{world.service.base}/v1/anchors",
                json_body={"document_type": "labour-contract", "digests": chunk},
                headers=headers, accept=202, deadline=deadline,
            )  # fmt: skip
            if answer is not None:
                for item in answer.json()["items"]:
                    accepted[item["digest"].removeprefix("0x")] = item["id"]
    return accepted


# ---------------------------------------------------------------------------- checks


def wait_confirmed(engine: Any, item_ids: list[bytes], deadline: float) -> int:
    """Wait until every item is in a confirmed batch; the number still unconfirmed."""
    from sqlalchemy import select

    from credential_service.anchoring.outbox import BATCH, ITEM

    remaining = list(item_ids)
    while True:
        still: list[bytes] = []
        with engine.connect() as connection:
            for start in range(0, len(remaining), 5_000):
                chunk = remaining[start : start + 5_000]
                confirmed = {
                    bytes(row[0])
                    for row in connection.execute(
                        select(ITEM.c.id)
                        .join(BATCH, BATCH.c.id == ITEM.c.batch_id)
                        .where(ITEM.c.id.in_(chunk), BATCH.c.state == "confirmed")
                    )
                }
                still += [i for i in chunk if i not in confirmed]
        remaining = still
        if not remaining or time.monotonic() > deadline:
            return len(remaining)
        _say(f"{len(remaining)} items not confirmed yet")
        time.sleep(2)


def node_rpc(url: str, method: str, *params: Any) -> Any:
    """One JSON-RPC call to the node (anvil's controls); raises `RuntimeError` on an error."""
    answer = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=10
    ).json()
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer.get("result")


def _pending_count(url: str) -> int:
    pool = node_rpc(url, "txpool_status") or {}
    return int(str(pool.get("pending", "0x0")), 16)


def reorg(url: str, depth: int, *, within: float = 30.0) -> tuple[int, int, int]:
    """Replace up to the last `depth` blocks once the latest one carries transactions
    (waiting up to `within` seconds), so that what is removed is real work (anchors); their
    transactions are gone. Returns the new head, the depth reorganised and the number of
    transactions removed.

    anvil keeps no state for blocks before the one it was loaded at and refuses to reorg past
    it ("Required data unavailable"): a shallower reorg is tried, then more blocks are waited
    for. Past `within`, one block is mined and replaced, whatever it holds.
    """
    deadline = time.monotonic() + within
    while True:
        head = int(node_rpc(url, "eth_blockNumber"), 16)
        latest = node_rpc(url, "eth_getBlockByNumber", hex(head), False) or {}
        late = time.monotonic() > deadline
        if late:
            node_rpc(url, "evm_mine")
            head += 1
        if latest.get("transactions") or late:
            for tried in range(depth, 0, -1):
                removed = 0
                for number in range(max(head - tried + 1, 0), head + 1):
                    block = node_rpc(url, "eth_getBlockByNumber", hex(number), False) or {}
                    removed += len(block.get("transactions") or [])
                try:
                    node_rpc(url, "anvil_reorg", tried, [])
                except RuntimeError as err:
                    if "unavailable" not in str(err):
                        raise
                    continue
                return int(node_rpc(url, "eth_blockNumber"), 16), tried, removed
            if late:
                raise RuntimeError(f"anvil_reorg refused within {within:.0f} s")
        time.sleep(0.2)


def drop_pending(url: str, *, within: float) -> int:
    """Pause mining until transactions wait in the pool (at most `within` seconds), drop them
    all, resume; the number dropped."""
    node_rpc(url, "evm_setAutomine", False)
    dropped = 0
    try:
        deadline = time.monotonic() + within
        while not dropped and time.monotonic() < deadline:
            pool = node_rpc(url, "txpool_content") or {}
            for by_nonce in (pool.get("pending") or {}).values():
                for tx in by_nonce.values():
                    node_rpc(url, "anvil_dropTransaction", tx["hash"])
                    dropped += 1
            time.sleep(0.02)
    finally:
        node_rpc(url, "evm_setAutomine", True)
        node_rpc(url, "evm_mine")  # anything that came in meanwhile is not left waiting
    return dropped


def halt(url: str, seconds: float, *, within: float) -> tuple[float, int]:
    """Mine nothing for at least `seconds` and until a transaction waits (at most `within`
    seconds; transactions are accepted meanwhile), then resume. Returns how long the chain
    stood still and how many transactions waited."""
    node_rpc(url, "evm_setAutomine", False)
    node_rpc(url, "evm_setIntervalMining", 0)
    started = time.monotonic()
    try:
        time.sleep(seconds)
        while not _pending_count(url) and time.monotonic() - started < within:
            time.sleep(0.1)
        waiting = _pending_count(url)
    finally:
        node_rpc(url, "evm_setAutomine", True)
        node_rpc(url, "evm_mine")
    return time.monotonic() - started, waiting


def wait_receipts_canonical(engine: Any, chain_url: str, deadline: float) -> int:
    """Wait until every confirmed batch's recorded block hash is the chain's block at that
    height; the number of batches that still point at a block not on the chain."""
    from sqlalchemy import select

    from credential_service.anchoring.outbox import BATCH
    from node_adapter import Chain, ChainError

    chain = Chain.from_urls([chain_url])
    while True:
        with engine.connect() as connection:
            rows = connection.execute(
                select(BATCH.c.block_number, BATCH.c.block_hash).where(BATCH.c.state == "confirmed")
            ).all()
        stale = 0
        hashes: dict[int, bytes | None] = {}
        for number, block_hash in rows:
            if number not in hashes:
                try:
                    block = chain.find_block(int(number))
                except ChainError:
                    block = None
                hashes[number] = None if block is None else block.hash
            stale += hashes[number] != bytes(block_hash)
        if not stale or time.monotonic() > deadline:
            return stale
        _say(f"{stale} confirmed batches point at blocks no longer on the chain")
        time.sleep(1)


def check_anchoring(
    engine: Any, chain_url: str, deployment_path: Path, accepted: dict[bytes, bytes], tally: Tally
) -> None:
    """`accepted`: item id → digest. Nothing lost, anchored once, receipts verify."""
    from sqlalchemy import func, select

    from credential_service.anchoring.outbox import BATCH, ITEM, PROOF
    from credential_service.anchoring.service import anchor_statuses
    from node_adapter import AnchorRegistryClient, Chain, Deployment
    from wallet_sdk import VerificationError, verify_receipt, verify_receipt_offline
    from wallet_sdk.chain_view import NodeChainView

    ids = list(accepted)
    with engine.connect() as connection:
        present: dict[bytes, tuple[int, bytes | None]] = {}
        for start in range(0, len(ids), 5_000):
            chunk = ids[start : start + 5_000]
            for row in connection.execute(
                select(ITEM.c.id, ITEM.c.organisation_id, ITEM.c.batch_id).where(
                    ITEM.c.id.in_(chunk)
                )
            ):
                present[bytes(row[0])] = (int(row[1]), None if row[2] is None else bytes(row[2]))
        lost = [i for i in ids if i not in present]
        tally.checks["accepted items lost"] = len(lost)
        if lost:
            tally.problem(f"{len(lost)} accepted items are not in the outbox")
        batches = {bytes(row.id): row for row in connection.execute(select(BATCH)).all()}
        proofs = connection.execute(
            select(func.count()).select_from(PROOF).where(PROOF.c.item_id.in_(ids[:50_000]))
        ).scalar_one()
        by_org: dict[int, list[bytes]] = {}
        for item_id, (organisation, _) in present.items():
            by_org.setdefault(organisation, []).append(item_id)
        receipts = []
        for organisation, item_ids in by_org.items():
            receipts += anchor_statuses(connection, organisation_id=organisation, item_ids=item_ids)
    unconfirmed = [s for s in receipts if s.receipt is None]
    tally.checks["accepted items confirmed"] = f"{len(receipts) - len(unconfirmed)}/{len(ids)}"
    if unconfirmed:
        tally.problem(f"{len(unconfirmed)} accepted items have no receipt")
    tally.checks["proof rows (first 50,000 items)"] = proofs
    chain = Chain.from_urls([chain_url])
    deployment = Deployment.load(deployment_path)
    registry = AnchorRegistryClient(chain, deployment.anchor_registry)
    used = {batch_id for _, batch_id in present.values() if batch_id is not None}
    twice = 0
    for batch_id in used:
        row = batches[batch_id]
        record = registry.anchor_of(bytes(row.root))
        if record is None:
            tally.problem(f"batch {batch_id.hex()} root is not on chain")
            continue
        if row.block_number is not None and record.block_number != row.block_number:
            twice += 1
            tally.problem(
                f"batch {batch_id.hex()}: database says block {row.block_number}, "
                f"chain says {record.block_number}"
            )
    roots = Counter(bytes(batches[b].root) for b in used)
    twice += sum(1 for n in roots.values() if n > 1)
    tally.checks["batches used / distinct roots"] = f"{len(used)} / {len(roots)}"
    tally.checks["anchored more than once"] = twice
    offline_failed = 0
    for status in receipts:
        if status.receipt is None:
            continue
        try:
            verify_receipt_offline(status.receipt, accepted[status.id])
        except VerificationError:
            offline_failed += 1
    tally.checks["receipts verified offline"] = (
        f"{len(receipts) - len(unconfirmed) - offline_failed}"
    )
    if offline_failed:
        tally.problem(f"{offline_failed} receipts fail offline")
    view = NodeChainView(chain)
    online_ok = online_failed = 0
    seen: set[bytes | None] = set()
    for status in receipts:
        if status.receipt is None or status.batch_id in seen:
            continue
        seen.add(status.batch_id)
        try:
            verify_receipt(
                status.receipt,
                accepted[status.id],
                view,
                anchor_registry=deployment.anchor_registry,
                trust_registry=deployment.trust_registry,
            )
            online_ok += 1
        except VerificationError as err:
            online_failed += 1
            tally.problem(f"receipt of batch {status.batch_id!r} fails online: {err}")
    tally.checks["receipts verified online (one per batch)"] = (
        f"{online_ok} ok, {online_failed} failed"
    )


def service_restarts(tally: Tally) -> int:
    return sum(1 for fault in tally.faults if "supervisor: the service exited" in fault)


def check_credentials(world: World, credentials: list[str], tally: Tally) -> None:
    """Every accepted credential verifies through the API (each retried for up to 30 s while
    the service has no answer, e.g. a worker being replaced)."""
    headers = {"Authorization": f"Bearer {world.tokens['court']}"}
    ok = failed = unanswered = 0
    with httpx.Client(timeout=30) as client:
        for token in credentials:
            if unanswered > 3:
                tally.problem("the service stopped answering: credential checks abandoned")
                break
            report: dict[str, Any] = {}
            status = 0
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    response = client.post(
                        f"{world.service.base}/v1/credentials/verify",
                        json={"credential": token},
                        headers=headers,
                    )
                except httpx.HTTPError as err:
                    tally.requests[f"verify:transport:{type(err).__name__}"] += 1
                    time.sleep(0.5)
                    continue
                status = response.status_code
                tally.requests[f"verify:{status}"] += 1
                if status < 500:
                    report = response.json()
                    break
                time.sleep(0.5)
            unanswered = unanswered + 1 if status == 0 else 0
            if status == 200 and report.get("verified"):
                ok += 1
            else:
                failed += 1
                if failed <= 3:
                    bad = [c for c in report.get("checks", []) if c.get("status") == "failed"]
                    tally.problem(f"credential does not verify ({status}): {bad or report}")
    tally.checks["accepted credentials verified"] = f"{ok}/{len(credentials)}"
    if failed > 3:
        tally.problem(f"{failed} credentials in all do not verify")


# ---------------------------------------------------------------------------- disk full


def disk_full(
    directory: Path, chain_url: str, tally: Tally, *, digests: int, headroom: int
) -> None:
    """A SQLite service with a file size limit: take digests until refused, then restart it
    without the limit and drain with one anchoring worker; every accepted item anchored."""
    from credential_service.persistence import create_database_engine

    directory.mkdir()
    port = _free_port()
    environment = service_environment(
        database_url=f"sqlite:///{directory / 'hrss.db'}",
        chain_url=chain_url,
        directory=directory,
        port=port,
    )
    environment["HRSS_LOG_LEVEL"] = "WARNING"
    credentials = prepare(environment, directory)
    database = directory / "hrss.db"
    limit = database.stat().st_size + headroom

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    service = start_service(environment, port=port, directory=directory, preexec_fn=limited)
    world = _tokens(service, directory, credentials)
    headers = {"Authorization": f"Bearer {world.tokens['employer']}"}
    accepted: dict[bytes, bytes] = {}
    statuses: Counter[str] = Counter()
    refused_in_a_row = 0
    with httpx.Client(timeout=30) as client:
        for _ in range(0, digests, ANCHOR_BATCH):
            chunk = [secrets.token_bytes(32) for _ in range(ANCHOR_BATCH)]
            try:
                response = client.post(
                    f"{service.base}/v1/anchors",
                    json={"document_type": "disk-full", "digests": [d.hex() for d in chunk]},
                    headers=headers,
                )
            except httpx.HTTPError as err:
                statuses[f"transport:{type(err).__name__}"] += 1
                refused_in_a_row += 1
            else:
                statuses[str(response.status_code)] += 1
                if response.status_code == 202:
                    refused_in_a_row = 0
                    by_digest = {d.hex(): d for d in chunk}
                    for item in response.json()["items"]:
                        accepted[uuid.UUID(item["id"]).bytes] = by_digest[
                            item["digest"].removeprefix("0x")
                        ]
                else:
                    refused_in_a_row += 1
            if refused_in_a_row >= 3:
                break
        alive = service.process.poll() is None
        health: int | str = "no answer"
        with contextlib.suppress(httpx.HTTPError):
            health = client.get(f"{service.base}/healthz").status_code
    service.stop()
    tally.checks["disk full: answers while full"] = dict(statuses)
    tally.checks["disk full: service alive and healthy when full"] = f"{alive}, {health}"
    if refused_in_a_row < 3:
        tally.problem(f"disk full: the limit of {limit} bytes was never reached")
    # restart without the limit, drain, check
    service = start_service(environment, port=port, directory=directory)
    worker = AnchoringWorker(
        "disk-full-1",
        {
            **environment,
            "HRSS_ANCHORING_BATCH_SIZE": "5000",
            "HRSS_ANCHORING_MAX_AGE_SECONDS": "0.2",
            "HRSS_ANCHORING_POLL_INTERVAL_SECONDS": "0.1",
        },
        directory / "worker.log",
    )
    worker.start()
    engine = create_database_engine(environment["HRSS_DATABASE_URL"])
    try:
        left = wait_confirmed(engine, list(accepted), time.monotonic() + 120)
        tally.checks["disk full: accepted before full / confirmed after restart"] = (
            f"{len(accepted)} / {len(accepted) - left}"
        )
        if left:
            tally.problem(f"disk full: {left} accepted items not confirmed after restart")
    finally:
        worker.stop()
        service.stop()
        engine.dispose()


# ---------------------------------------------------------------------------- the campaign


def restart_postgres() -> None:
    """Restart the local PostgreSQL server (``pg_ctlcluster``; loopback, this machine only).
    Everything else using the server sees its connections drop, so the test suite never
    asks for this; the full campaign does with ``--restart-postgres``."""
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


def whole_state(state: Path, *, attempts: int = 1) -> bytes | None:
    """The anvil state file's bytes when it holds whole JSON (anvil rewrites it in place every
    second, so a read may catch it mid-write: tried `attempts` times, 0.2 s apart)."""
    for attempt in range(attempts):
        if attempt:
            time.sleep(0.2)
        try:
            data = state.read_bytes()
            json.loads(data)
        except (OSError, ValueError):
            continue
        return data
    return None


def restore_torn_state(state: Path, backup: bytes | None) -> bool:
    """Put `backup` back when a SIGKILL tore the state file mid-write (anvil then refuses to
    start); whether it did. The blocks after the backup are lost, a deeper rollback of the
    kind the workers must notice anyway."""
    if backup is None or whole_state(state) is not None:
        return False
    state.write_bytes(backup)
    return True


def campaign(
    *,
    documents: int,
    credentials: int,
    seed: int,
    disk_full_digests: int = 20_000,
    restart_database: bool = False,
) -> Tally:
    from credential_service.persistence import create_database_engine
    from node_adapter import AnvilProcess

    rng = random.Random(seed)
    tally = Tally()
    tally.checks["seed"] = seed
    with tempfile.TemporaryDirectory(prefix="hrss-faults-") as tmp:
        directory = Path(tmp)
        tally.directory = directory
        state = directory / "anvil-state.json"
        node = AnvilProcess.start(
            state_file=state, state_interval=1, log_path=directory / "anvil.log"
        )
        anvil_port = node.port
        workers: list[AnchoringWorker] = []
        service: Service | None = None
        supervisor: _Supervisor | None = None
        try:
            with _database(directory) as (database_url, database_name):
                tally.checks["database"] = database_name
                postgres = database_name == "PostgreSQL"
                port = _free_port()
                environment = service_environment(
                    database_url=database_url, chain_url=node.url, directory=directory, port=port
                )
                environment["HRSS_LOG_LEVEL"] = "WARNING"
                _say(f"preparing ({database_name}, anvil on {node.url})")
                demo = prepare(environment, directory)
                service = start_service(environment, port=port, directory=directory)
                world = _tokens(service, directory, demo)
                started = time.monotonic()
                supervisor = _Supervisor(
                    service,
                    environment=environment,
                    directory=directory,
                    tally=tally,
                    started=started,
                )
                supervisor.start()

                def kill_api_worker() -> None:
                    assert supervisor is not None
                    pids = api_workers(supervisor.service.process.pid)
                    if pids:
                        victim = rng.choice(pids)
                        os.kill(victim, signal.SIGKILL)
                        tally.fault(started, f"SIGKILL API worker {victim}")

                def cut_database() -> None:
                    if postgres and restart_database:
                        restart_postgres()
                        tally.fault(started, "PostgreSQL server restarted")
                    elif postgres:
                        n = terminate_backends(database_url)
                        tally.fault(started, f"pg_terminate_backend: {n} backends")

                # --- phase 1: credentials, with an API worker killed and the database cut
                _say(f"phase 1: {credentials} credentials")
                injector = _Injector(
                    rng, [kill_api_worker, cut_database], window=(0.05, max(0.5, credentials / 400))
                )
                injector.start()
                issuance = issue_credentials(world, tally, credentials, time.monotonic() + 600)
                injector.join()
                issued = issuance.tokens
                tally.checks["credentials accepted (201)"] = f"{len(issued)}/{credentials}"
                tally.checks["credential requests retried / retry attempts / replayed"] = (
                    f"{tally.retried['credentials']} / {tally.retries['credentials']}"
                    f" / {issuance.replayed}"
                )
                tally.checks["deliberate repeats answered by a replay"] = (
                    f"{issuance.repeats_replayed}/{issuance.repeats}"
                )
                if len(issued) != credentials:
                    tally.problem(f"{credentials - len(issued)} credentials never accepted")
                # make the chain state durable before killing anvil later
                node.stop()
                node = AnvilProcess.start(port=anvil_port, state_file=state, state_interval=1,
                                          log_path=directory / "anvil.log")  # fmt: skip

                # --- phase 2: documents, with workers, anvil, API and database faults
                worker_env = {
                    **environment,
                    "HRSS_ANCHORING_BATCH_SIZE": str(max(1_000, documents // 20)),
                    "HRSS_ANCHORING_MAX_AGE_SECONDS": "0.5",
                    "HRSS_ANCHORING_POLL_INTERVAL_SECONDS": "0.1",
                    "HRSS_ANCHORING_LEASE_SECONDS": "10",
                    "HRSS_ANCHORING_BACKOFF_CAP_SECONDS": "2",
                }
                workers = [
                    AnchoringWorker(f"anchoring-{i}", worker_env, directory / f"worker-{i}.log")
                    for i in (1, 2)
                ]
                for worker in workers:
                    worker.start()

                def kill_worker() -> None:
                    worker = rng.choice(workers)
                    worker.kill()
                    tally.fault(started, f"SIGKILL anchoring worker {worker.name}")
                    time.sleep(rng.uniform(0.2, 1.5))
                    worker.start()
                    tally.fault(started, f"restarted anchoring worker {worker.name}")

                def kill_anvil() -> None:
                    nonlocal node
                    backup = whole_state(state, attempts=5)
                    node.kill()
                    tally.fault(started, "SIGKILL anvil")
                    time.sleep(rng.uniform(0.5, 1.5))
                    if restore_torn_state(state, backup):
                        tally.fault(started, "anvil state file torn by the kill: last whole copy")
                    node = AnvilProcess.start(port=anvil_port, state_file=state, state_interval=1,
                                              log_path=directory / "anvil.log")  # fmt: skip
                    tally.fault(started, "restarted anvil from its state file")

                def reorg_chain() -> None:
                    depth = rng.randint(1, 3)
                    head, depth, removed = reorg(node.url, depth)
                    tally.chain_faults += 1
                    tally.fault(
                        started,
                        f"reorg: last {depth} blocks replaced, {removed} transactions gone "
                        f"(head {head})",
                    )

                def drop_transactions() -> None:
                    dropped = drop_pending(node.url, within=10.0)
                    tally.chain_faults += 1
                    tally.fault(started, f"dropped {dropped} pending transactions from the pool")

                def halt_chain() -> None:
                    stood, waited = halt(node.url, rng.uniform(2.0, 4.0), within=10.0)
                    tally.chain_faults += 1
                    tally.fault(
                        started,
                        f"chain halted {stood:.1f} s ({waited} transactions waited), resumed",
                    )

                digests = [secrets.token_hex(32) for _ in range(documents)]
                expected = max(1.0, documents / 4_000)
                _say(f"phase 2: {documents} documents (~{expected:.0f} s)")
                injector = _Injector(
                    rng,
                    [
                        kill_worker,
                        kill_anvil,
                        kill_worker,
                        kill_api_worker,
                        cut_database,
                        reorg_chain,
                        drop_transactions,
                        halt_chain,
                    ],
                    window=(0.2, expected),
                )
                injector.start()
                accepted_documents = submit_documents(world, tally, digests, time.monotonic() + 900)
                injector.join()
                tally.checks["documents accepted (202)"] = f"{len(accepted_documents)}/{documents}"
                tally.checks["anchor requests retried / retry attempts"] = (
                    f"{tally.retried['anchors']} / {tally.retries['anchors']}"
                )

                # --- wait, then check
                engine = create_database_engine(database_url)
                try:
                    from sqlalchemy import select

                    from credential_service.anchoring.outbox import ITEM

                    with engine.connect() as connection:
                        all_items = {
                            bytes(row[0]): bytes(row[1])
                            for row in connection.execute(select(ITEM.c.id, ITEM.c.digest))
                        }
                    accepted_ids = {
                        uuid.UUID(item_id).bytes: bytes.fromhex(digest)
                        for digest, item_id in accepted_documents.items()
                    }
                    # credentials are queued for anchoring too: check every item in the outbox
                    everything = {**all_items, **accepted_ids}
                    _say(f"waiting for {len(everything)} items to be confirmed")
                    left = wait_confirmed(
                        engine, list(everything), time.monotonic() + max(120, documents / 500)
                    )
                    tally.checks["items not confirmed at the deadline"] = left
                    tally.checks["chain faults injected (reorg, drop, halt)"] = tally.chain_faults
                    stale = wait_receipts_canonical(engine, node.url, time.monotonic() + 120)
                    tally.checks["batches pointing at a block off the chain"] = stale
                    if stale:
                        tally.problem(f"{stale} batches record a block that left the chain")
                    left = wait_confirmed(engine, list(everything), time.monotonic() + 120)
                    tally.checks["items not confirmed after the chain settled"] = left
                    check_anchoring(
                        engine, node.url, Path(environment["HRSS_DEPLOYMENT_PATH"]), everything,
                        tally,
                    )  # fmt: skip
                    check_issuance(engine, world, issuance, tally)
                finally:
                    engine.dispose()
                _say(f"verifying {len(issued)} credentials")
                check_credentials(world, issued, tally)
                for worker in workers:
                    worker.stop()
                service = supervisor.stop()
                supervisor = None
                tally.checks["service restarts by the supervisor"] = service_restarts(tally)
                service.stop()
                service = None
            # --- phase 3: disk full
            _say("phase 3: SQLite disk full")
            disk_full(
                directory / "disk-full", node.url, tally, digests=disk_full_digests,
                headroom=2 * 2**20,
            )  # fmt: skip
        finally:
            # every step on its own: one failing must not leave the other processes running
            for worker in workers:
                with contextlib.suppress(Exception):
                    worker.kill()
            if supervisor is not None:
                with contextlib.suppress(Exception):
                    service = supervisor.stop()
            if service is not None:
                with contextlib.suppress(Exception):
                    service.stop()
            with contextlib.suppress(Exception):
                node.stop()
            tally.keep_logs()
    return tally


class _Supervisor(threading.Thread):
    """What systemd or Kubernetes does in production: start the service again when its
    master process exits (the service stops altogether when a worker fails to start,
    e.g. while the chain is unreachable)."""

    def __init__(
        self,
        service: Service,
        *,
        environment: dict[str, str],
        directory: Path,
        tally: Tally,
        started: float,
    ) -> None:
        super().__init__(daemon=True)
        self.service = service
        self.environment = environment
        self.directory = directory
        self.tally = tally
        self.started = started
        self.restarts = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.wait(0.5):
            code = self.service.process.poll()
            if code is None:
                continue
            self.restarts += 1
            tail = self.service.log_path.read_text(errors="replace").splitlines()[-40:]
            reason = next((line for line in tail if "failed to start" in line), f"exit {code}")
            self.tally.fault(self.started, f"supervisor: the service exited ({reason.strip()})")
            try:
                self.service = start_service(
                    self.environment, port=self.service.port, directory=self.directory
                )
                self.tally.fault(self.started, "supervisor: service started again")
            except Exception as err:  # keep supervising; the checks will report the outage
                self.tally.problem(f"supervisor could not start the service: {err}")

    def stop(self) -> Service:
        self._halt.set()
        self.join()
        return self.service


class _Injector(threading.Thread):
    """Runs each fault once, at a random time within `window` seconds, in random order."""

    def __init__(
        self, rng: random.Random, faults: list[Callable[[], None]], *, window: tuple[float, float]
    ) -> None:
        super().__init__(daemon=True)
        self.schedule = sorted((rng.uniform(*window), fault) for fault in faults)

    def run(self) -> None:
        started = time.monotonic()
        for at, fault in self.schedule:
            delay = at - (time.monotonic() - started)
            if delay > 0:
                time.sleep(delay)
            try:
                fault()
            except Exception as err:  # report, keep injecting
                _say(f"fault injection failed: {err!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--credentials", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--disk-full-digests", type=int, default=20_000)
    parser.add_argument(
        "--restart-postgres",
        action="store_true",
        help="restart the local PostgreSQL server mid-run instead of terminating the "
        "service's connections (drops every other client of the server too)",
    )
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    started = time.perf_counter()
    tally = campaign(
        documents=args.documents,
        credentials=args.credentials,
        seed=seed,
        disk_full_digests=args.disk_full_digests,
        restart_database=args.restart_postgres,
    )
    tally.checks["duration"] = f"{time.perf_counter() - started:.0f} s"
    tally.print()
    return 1 if tally.problems else 0


if __name__ == "__main__":
    sys.exit(main())
