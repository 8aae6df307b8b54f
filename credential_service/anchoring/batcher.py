"""The anchoring batcher: seals waiting items into batches, anchors each batch's Merkle root,
and writes every item's audit path once the root is confirmed.

One pass (`Batcher.run_once`) does, in order:

1. **Seal** batches of up to ``max_leaves`` waiting items, or fewer once the oldest has waited
   ``max_age``, for each digest algorithm in turn: a batch holds items of one algorithm only
   (SHA-256 or SM3), and its tree is built with that algorithm.
2. **Anchor** every batch that is due, one at a time under a lease:
   ``batched`` → (``sending`` written durably) → transaction → ``sent`` → ``confirmed`` with
   the paths, in one transaction.
   A batch found in ``sending`` or ``sent`` (a worker died, or the chain was down) is first
   looked up on chain by its root: found → confirmed without sending again; not found → sent
   again. The registry refuses a root twice (``RootAlreadyAnchored``), which is the last line
   against a double anchor: a refused resend is resolved by the same lookup.
3. **Watch for rollbacks**: batches confirmed in the last ``rollback_window`` blocks whose
   block hash is no longer canonical are looked up again: moved → the new block is recorded;
   gone → back to ``batched`` and anchored again (with the same root, so no path changes).

When the chain is down the batch is released with an exponential backoff and the items wait;
submissions are never refused for it.

Fault points (`FaultPoints`) let tests stop or kill the real worker process at a named step:
``after_sending_recorded`` (state ``sending`` durable, nothing sent), ``after_send`` (the
transaction is mined, nothing recorded), ``after_sent_recorded``, ``before_receipts`` (root
confirmed on chain, paths not written), ``after_seal``.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from credential_service.anchoring import outbox
from credential_service.anchoring.ledger import AnchorLedger
from credential_service.anchoring.models import BatchState
from credential_service.anchoring.outbox import BatchRecord, Inclusion, LeaseLost
from credential_service.errors import LedgerRejected, LedgerUnavailable, ServiceError
from wallet_sdk.merkle import HashAlgorithm

__all__ = ["BatchPolicy", "Batcher", "FaultPoints", "PassReport", "batch_ref_of"]

log = logging.getLogger("credential_service.anchoring")

FAULT_POINTS = (
    "after_seal",
    "after_sending_recorded",
    "after_send",
    "after_sent_recorded",
    "before_receipts",
)
FaultAction = Literal["pause", "crash"]


def batch_ref_of(batch_id: bytes) -> bytes:
    """The ``batchRef`` written on chain with a root: the batch id (16 bytes of a UUID),
    right-aligned in 32 bytes."""
    return bytes(16) + batch_id


@dataclass(frozen=True)
class BatchPolicy:
    """How the batcher seals, retries and watches. Validated when built."""

    max_leaves: int = 100_000
    max_age: timedelta = timedelta(seconds=2)
    lease: timedelta = timedelta(seconds=120)
    backoff_base: timedelta = timedelta(seconds=1)
    backoff_cap: timedelta = timedelta(seconds=30)
    confirmations: int = 0
    """Blocks on top of the anchoring block before a batch counts as confirmed (0 on QBFT,
    whose blocks are final)."""
    rollback_window: int = 64
    """Confirmed batches this many blocks deep or less are checked for rollbacks."""
    algorithms: tuple[str, ...] = tuple(algorithm.value for algorithm in HashAlgorithm)
    """Digest algorithms whose items this batcher seals (``sha-256`` and ``sm3``), each into
    batches of its own. Items of an algorithm left out wait for a batcher that has it."""

    def __post_init__(self) -> None:
        if not 1 <= self.max_leaves <= 2**32 - 1:
            raise ValueError("max_leaves must be in [1, 2**32 - 1] (leafCount is a uint32)")
        if self.max_age < timedelta(0) or self.lease <= timedelta(0):
            raise ValueError("max_age must be >= 0 and lease > 0")
        if self.confirmations < 0 or self.rollback_window < 0:
            raise ValueError("confirmations and rollback_window must be >= 0")
        known = [algorithm.value for algorithm in HashAlgorithm]
        if not self.algorithms or len(set(self.algorithms)) != len(self.algorithms):
            raise ValueError("algorithms must name at least one algorithm, none twice")
        unknown = [name for name in self.algorithms if name not in known]
        if unknown:
            raise ValueError(f"unknown digest algorithms {unknown}; known: {known}")

    def backoff(self, attempts: int) -> timedelta:
        base = self.backoff_base.total_seconds() * (2 ** min(max(attempts - 1, 0), 16))
        capped = min(base, self.backoff_cap.total_seconds())
        # Jitter keeps several workers from hammering a recovering node in step.
        return timedelta(seconds=capped * random.uniform(0.5, 1.0))  # noqa: S311


@dataclass
class FaultPoints:
    """Named steps at which the worker pauses forever or kills itself (tests only).

    ``pause`` prints ``fault-point <name>`` on stderr and sleeps, so that a test can SIGKILL
    the process at exactly that step; ``crash`` SIGKILLs the process itself.
    """

    actions: Mapping[str, FaultAction] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.actions) - set(FAULT_POINTS)
        if unknown:
            raise ValueError(f"unknown fault points {sorted(unknown)}; known: {FAULT_POINTS}")

    @classmethod
    def parse(cls, spec: str | None) -> FaultPoints:
        """``"after_send=pause,before_receipts=crash"`` → `FaultPoints`."""
        actions: dict[str, FaultAction] = {}
        for part in (spec or "").split(","):
            if not part.strip():
                continue
            name, _, action = part.strip().partition("=")
            if action not in ("pause", "crash"):
                raise ValueError(f"fault action must be pause or crash, not {action!r}")
            actions[name] = action  # type: ignore[assignment]  # checked to be pause or crash just above
        return cls(actions)

    def reach(self, name: str) -> None:
        action = self.actions.get(name)
        if action is None:
            return
        print(f"fault-point {name}", file=sys.stderr, flush=True)
        if action == "crash":
            os.kill(os.getpid(), signal.SIGKILL)
        while True:  # pause until killed
            time.sleep(3600)


@dataclass
class PassReport:
    """What one pass of the batcher did."""

    sealed: int = 0
    sealed_items: int = 0
    confirmed: int = 0
    confirmed_items: int = 0
    deferred: int = 0
    rolled_back: int = 0

    @property
    def idle(self) -> bool:
        return not (self.sealed or self.confirmed or self.deferred or self.rolled_back)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Batcher:
    """Drives the outbox in `engine` against `ledger`. Safe to run in several processes at
    once on PostgreSQL; give each its own `owner` name (and, ideally, its own anchoring
    account, so that their transactions never compete for nonces)."""

    def __init__(
        self,
        *,
        engine: Engine,
        ledger: AnchorLedger,
        owner: str,
        policy: BatchPolicy | None = None,
        faults: FaultPoints | None = None,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._engine = engine
        self._ledger = ledger
        self._owner = owner
        self._policy = policy or BatchPolicy()
        self._faults = faults or FaultPoints()
        self._clock = clock
        # Leaves of batches this process sealed, so confirming needs no second read of them.
        self._leaves: dict[bytes, list[tuple[bytes, bytes]]] = {}

    @property
    def owner(self) -> str:
        return self._owner

    # ------------------------------------------------------------------ the loop

    def run_once(self) -> PassReport:
        """Seal what is due, anchor what is due, check recent anchors for rollbacks."""
        report = PassReport()
        self._seal(report)
        self._anchor_due(report)
        self._watch_rollbacks(report)
        return report

    def run_forever(self, stop: threading.Event, *, poll_interval: float = 0.2) -> None:
        """Run passes until `stop` is set, sleeping `poll_interval` seconds after idle ones."""
        while not stop.is_set():
            try:
                report = self.run_once()
            except (ServiceError, SQLAlchemyError) as err:
                # The database or the chain failed outside a batch's own handling (a database
                # restart, a lock timeout): nothing was half-done, so wait and go again.
                log.warning("anchoring pass failed: %s", err)
                stop.wait(max(poll_interval, 1.0))
                continue
            if report.idle or report.deferred:
                stop.wait(poll_interval)

    def drain(self, *, timeout: float = 60.0, poll_interval: float = 0.05) -> PassReport:
        """Run passes until nothing waits and nothing is in flight (tests, CLI, bench).

        Raises `TimeoutError` when work remains after `timeout` seconds.
        """
        total = PassReport()
        deadline = time.monotonic() + timeout
        while True:
            report = self.run_once()
            for name in ("sealed", "sealed_items", "confirmed", "confirmed_items", "rolled_back"):
                setattr(total, name, getattr(total, name) + getattr(report, name))
            if report.idle and self.pending() == 0:
                return total
            if time.monotonic() > deadline:
                raise TimeoutError(f"anchoring did not drain within {timeout} s")
            if report.idle or report.deferred:
                time.sleep(poll_interval)

    def pending(self) -> int:
        """Items not yet confirmed (waiting or in an unconfirmed batch)."""
        with self._engine.connect() as connection:
            return outbox.unconfirmed_items(connection)

    # ------------------------------------------------------------------ sealing

    def _seal(self, report: PassReport) -> None:
        for algorithm in self._policy.algorithms:
            while True:
                sealed = outbox.seal_batch(
                    self._engine,
                    algorithm=algorithm,
                    max_leaves=self._policy.max_leaves,
                    max_age=self._policy.max_age,
                    now=self._clock(),
                )
                if sealed is None:
                    break
                log.info(
                    "sealed batch %s: %d leaves, root 0x%s",
                    sealed.id.hex(),
                    sealed.leaf_count,
                    sealed.root.hex(),
                )
                report.sealed += 1
                report.sealed_items += sealed.leaf_count
                self._leaves[sealed.id] = sealed.leaves
                self._faults.reach("after_seal")

    # ------------------------------------------------------------------ anchoring

    def _anchor_due(self, report: PassReport) -> None:
        tried: set[bytes] = set()  # each batch at most once a pass
        while True:
            batch = outbox.claim_batch(
                self._engine,
                owner=self._owner,
                lease=self._policy.lease,
                now=self._clock(),
                exclude=tried,
            )
            if batch is None:
                return
            tried.add(batch.id)
            try:
                outcome = self._advance(batch)
            except LeaseLost as err:
                log.warning("%s", err)
                continue
            except LedgerUnavailable as err:
                self._defer(batch, f"chain unavailable: {err}")
                report.deferred += 1
                return  # the chain is down: no point trying the next batch now
            except LedgerRejected as err:
                self._defer(batch, f"anchoring rejected: {err} ({err.detail})")
                report.deferred += 1
                continue
            if outcome == "confirmed":
                report.confirmed += 1
                report.confirmed_items += batch.leaf_count
            elif outcome == "waiting":
                report.deferred += 1

    def _advance(self, batch: BatchRecord) -> str:
        """Move one leased batch as far as it goes; return "confirmed" or "waiting"."""
        inclusion: Inclusion | None = None
        if batch.state in (BatchState.SENDING, BatchState.SENT):
            # A previous attempt may have reached the chain: never send before looking.
            inclusion = self._ledger.find(batch.root)
            if inclusion is None:
                self._ledger.resync()
                log.warning(
                    "batch %s was %s but its root is not on chain: sending again",
                    batch.id.hex(),
                    batch.state.value,
                )
            else:
                log.info(
                    "batch %s: root found on chain in block %d",
                    batch.id.hex(),
                    inclusion.block_number,
                )
        if inclusion is None:
            inclusion = self._send(batch)
            self._faults.reach("after_send")
        outbox.mark_sent(self._engine, batch.id, owner=self._owner, inclusion=inclusion)
        self._faults.reach("after_sent_recorded")
        if not self._deep_enough(inclusion):
            self._wait_for_confirmations(batch)
            return "waiting"
        self._faults.reach("before_receipts")
        written = outbox.confirm_batch(
            self._engine,
            batch.id,
            owner=self._owner,
            inclusion=inclusion,
            tree_rows=self._leaves.get(batch.id),
            now=self._clock(),
        )
        self._leaves.pop(batch.id, None)
        log.info(
            "batch %s confirmed in block %d (tx 0x%s): %d receipts",
            batch.id.hex(),
            inclusion.block_number,
            inclusion.transaction_hash.hex(),
            written,
        )
        return "confirmed"

    def _send(self, batch: BatchRecord) -> Inclusion:
        ledger = self._ledger
        outbox.mark_sending(
            self._engine,
            batch.id,
            owner=self._owner,
            chain_id=ledger.chain_id,
            registry=ledger.registry,
            anchored_by=ledger.account,
        )
        self._faults.reach("after_sending_recorded")
        try:
            return ledger.anchor(
                root=batch.root, leaf_count=batch.leaf_count, batch_ref=batch_ref_of(batch.id)
            )
        except LedgerRejected as err:
            if err.contract_error != "RootAlreadyAnchored":
                raise
            # An earlier transaction of ours (or a competing worker's) carried the root.
            found = ledger.find(batch.root)
            if found is None:
                raise
            return found

    def _deep_enough(self, inclusion: Inclusion) -> bool:
        if self._policy.confirmations == 0:
            return True
        return self._ledger.head() - inclusion.block_number >= self._policy.confirmations

    def _wait_for_confirmations(self, batch: BatchRecord) -> None:
        outbox.retry_later(
            self._engine,
            batch.id,
            owner=self._owner,
            error="waiting for confirmations",
            at=self._clock() + timedelta(seconds=1),
        )

    def _defer(self, batch: BatchRecord, error: str) -> None:
        delay = self._policy.backoff(batch.attempts + 1)
        log.warning("batch %s deferred %.1f s: %s", batch.id.hex(), delay.total_seconds(), error)
        try:
            outbox.retry_later(
                self._engine, batch.id, owner=self._owner, error=error, at=self._clock() + delay
            )
        except LeaseLost:
            # Another worker holds the batch now; its retry schedule is that worker's to set.
            log.info("batch %s: lease lost while deferring it", batch.id.hex())

    # ------------------------------------------------------------------ rollbacks

    def _watch_rollbacks(self, report: PassReport) -> None:
        if self._policy.rollback_window == 0:
            return
        try:
            head = self._ledger.head()
        except LedgerUnavailable:
            return
        with self._engine.connect() as connection:
            recent = outbox.recent_confirmed(
                connection, from_block=max(head - self._policy.rollback_window, 0), limit=256
            )
            # After a deep rollback the head may be lower than recorded blocks: those are
            # above the window's lower bound and are included.
        checked: dict[int, bytes | None] = {}
        for anchor in recent:
            try:
                if anchor.block_number not in checked:
                    checked[anchor.block_number] = self._ledger.block_hash(anchor.block_number)
            except LedgerUnavailable:
                return  # no node answers: the next pass checks them all again
            if checked[anchor.block_number] == anchor.block_hash:
                continue
            try:
                inclusion = self._ledger.find(anchor.root)
            except LedgerUnavailable as err:
                # This root's block is being reorganised (or the node failed on it): look at
                # it again next pass, but go on with the others, whose blocks may be gone too.
                log.warning("rollback watch: batch %s left for now: %s", anchor.id.hex(), err)
                continue
            self._ledger.resync()
            now = self._clock()
            if inclusion is not None:
                if outbox.move_confirmed(
                    self._engine,
                    anchor.id,
                    expected_block_hash=anchor.block_hash,
                    inclusion=inclusion,
                ):
                    log.warning(
                        "rollback: batch %s now in block %d",
                        anchor.id.hex(),
                        inclusion.block_number,
                    )
                    report.rolled_back += 1
            elif outbox.unconfirm(
                self._engine, anchor.id, expected_block_hash=anchor.block_hash, now=now
            ):
                log.warning("rollback: batch %s lost its anchor; anchoring again", anchor.id.hex())
                report.rolled_back += 1
