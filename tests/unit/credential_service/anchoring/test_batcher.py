"""The batcher on the in-process EVM and SQLite: sealing, anchoring, receipts, recovery."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import cast

import pytest
from sqlalchemy import Engine, func, select, update

from credential_service.anchoring import outbox
from credential_service.anchoring.batcher import Batcher, BatchPolicy, batch_ref_of
from credential_service.anchoring.chain import NodeAnchorLedger
from credential_service.anchoring.ledger import AnchorLedger
from credential_service.anchoring.models import AnchorState, BatchState
from credential_service.anchoring.outbox import Inclusion
from credential_service.anchoring.service import anchor_status, submit_digests
from credential_service.errors import LedgerUnavailable
from tests.fixtures.anchoring import AnchoringRegistries, random_items
from wallet_sdk.chain_view import NodeChainView
from wallet_sdk.receipt import verify_receipt, verify_receipt_offline

# These run on the in-process EVM only; tests/integration/credential_service/anchoring runs on
# anvil.
embedded = pytest.mark.parametrize("_chain_base", ["embedded"], indirect=True)

ORG = 7


def _submit(engine: Engine, count: int) -> list[bytes]:
    items = random_items(count)
    with engine.begin() as connection:
        submitted = submit_digests(
            connection, organisation_id=ORG, algorithm="sha-256", items=items
        )
    return [s.id for s in submitted]


def _batcher(engine: Engine, env: AnchoringRegistries, **policy: object) -> Batcher:
    settings = {"max_age": timedelta(0), **policy}
    return Batcher(
        engine=engine, ledger=env.ledger(), owner="test-worker", policy=BatchPolicy(**settings)
    )


def _verify_all(engine: Engine, env: AnchoringRegistries, ids: list[bytes]) -> None:
    """Every receipt passes the offline checks; a few (first, middle, last) the full
    verification against the chain (the in-process EVM answers a call in tens of ms)."""
    view = NodeChainView(env.chain)
    online = {ids[0], ids[len(ids) // 2], ids[-1]}
    with engine.connect() as connection:
        for item_id in ids:
            status = anchor_status(connection, organisation_id=ORG, item_id=item_id)
            assert status.state is AnchorState.CONFIRMED
            assert status.receipt is not None
            verify_receipt_offline(status.receipt, status.digest)
            if item_id not in online:
                continue
            verify_receipt(
                status.receipt,
                status.digest,
                view,
                anchor_registry=env.anchor_registry,
                trust_registry=env.trust_registry,
            )


@embedded
def test_submitted_digests_are_anchored_in_one_batch_and_every_receipt_verifies(
    anchoring_db: Callable[..., Engine], anchoring_registries: AnchoringRegistries
) -> None:
    engine = anchoring_db()
    ids = _submit(engine, 300)
    report = _batcher(engine, anchoring_registries).drain(timeout=30)
    assert (report.sealed, report.confirmed, report.confirmed_items) == (1, 1, 300)
    assert len(anchoring_registries.anchored_events()) == 1
    _verify_all(engine, anchoring_registries, ids)


def test_resubmitting_a_digest_returns_the_same_id_and_adds_nothing(
    anchoring_db: Callable[..., Engine],
) -> None:
    engine = anchoring_db()
    items = random_items(5)
    with engine.begin() as connection:
        first = submit_digests(connection, organisation_id=ORG, algorithm="sha-256", items=items)
    with engine.begin() as connection:
        again = submit_digests(
            connection, organisation_id=ORG, algorithm="sha-256", items=items + items[:2]
        )
        other = submit_digests(
            connection, organisation_id=ORG + 1, algorithm="sha-256", items=items
        )
        count = len(connection.execute(select(outbox.ITEM.c.id)).all())
    assert [s.id for s in again] == [s.id for s in first] + [s.id for s in first[:2]]
    assert {s.id for s in other}.isdisjoint({s.id for s in first})
    assert count == 10


@embedded
def test_batches_are_sealed_by_size_then_by_age(
    anchoring_db: Callable[..., Engine], anchoring_registries: AnchoringRegistries
) -> None:
    engine = anchoring_db()
    _submit(engine, 250)
    now = [datetime.now(UTC)]
    batcher = Batcher(
        engine=engine,
        ledger=anchoring_registries.ledger(),
        owner="w",
        policy=BatchPolicy(max_leaves=100, max_age=timedelta(seconds=60)),
        clock=lambda: now[0],
    )
    report = batcher.run_once()
    assert (report.sealed, report.sealed_items, report.confirmed) == (2, 200, 2)
    assert batcher.run_once().sealed == 0  # 50 wait: too few and too young
    now[0] += timedelta(seconds=61)
    report = batcher.run_once()
    assert (report.sealed, report.sealed_items, report.confirmed_items) == (1, 50, 50)
    assert len(anchoring_registries.anchored_events()) == 3


@embedded
def test_a_rejected_anchor_waits_and_goes_out_once_the_account_is_allowed(
    anchoring_db: Callable[..., Engine], anchoring_registries: AnchoringRegistries
) -> None:
    engine = anchoring_db()
    ids = _submit(engine, 10)
    outsider = anchoring_registries.registries.signers.outsider
    batcher = Batcher(
        engine=engine,
        ledger=anchoring_registries.ledger(outsider),
        owner="w",
        policy=BatchPolicy(max_age=timedelta(0), backoff_base=timedelta(0)),
    )
    report = batcher.run_once()
    assert (report.sealed, report.confirmed, report.deferred) == (1, 0, 1)
    with engine.connect() as connection:
        batch = connection.execute(select(outbox.BATCH)).one()
    assert batch.state == BatchState.SENDING.value
    assert "rejected" in batch.last_error
    anchoring_registries.add_anchorer(outsider)
    report = batcher.drain(timeout=30)
    assert report.confirmed_items == 10
    _verify_all(engine, anchoring_registries, ids)


@embedded
def test_a_root_already_on_chain_is_confirmed_without_sending_again(
    anchoring_db: Callable[..., Engine], anchoring_registries: AnchoringRegistries
) -> None:
    # What a worker killed after sending and before recording leaves behind.
    engine = anchoring_db()
    ids = _submit(engine, 20)
    sealed = outbox.seal_batch(
        engine, algorithm="sha-256", max_leaves=1000, max_age=timedelta(0), now=datetime.now(UTC)
    )
    assert sealed is not None
    with engine.begin() as connection:
        connection.execute(update(outbox.BATCH).values(state=BatchState.SENDING.value))
    anchoring_registries.registries.anchor.anchor(
        anchoring_registries.anchorer,
        root=sealed.root,
        leaf_count=sealed.leaf_count,
        batch_ref=batch_ref_of(sealed.id),
    )
    report = _batcher(engine, anchoring_registries).drain(timeout=30)
    assert report.confirmed_items == 20
    assert len(anchoring_registries.anchored_events()) == 1
    _verify_all(engine, anchoring_registries, ids)


@embedded
def test_a_rolled_back_anchor_is_anchored_again(
    anchoring_db: Callable[..., Engine], anchoring_registries: AnchoringRegistries
) -> None:
    engine = anchoring_db()
    chain = anchoring_registries.chain
    ids = _submit(engine, 30)
    before = chain.snapshot()
    batcher = _batcher(engine, anchoring_registries)
    assert batcher.drain(timeout=30).confirmed == 1
    chain.revert(before)  # the anchoring transaction is gone
    chain.mine(3)
    report = batcher.run_once()
    assert report.rolled_back == 1
    with engine.connect() as connection:
        status = anchor_status(connection, organisation_id=ORG, item_id=ids[0])
    assert status.state in (AnchorState.BATCHED, AnchorState.CONFIRMED)
    batcher.drain(timeout=30)
    assert len(anchoring_registries.anchored_events()) == 1
    _verify_all(engine, anchoring_registries, ids)


@embedded
def test_a_batch_of_100000_leaves_is_sealed_by_size_and_every_item_gets_its_path(
    anchoring_db: Callable[..., Engine], anchoring_registries: AnchoringRegistries
) -> None:
    engine = anchoring_db()
    ids: list[bytes] = []
    for _ in range(10):
        ids += _submit(engine, 10_000)
    batcher = Batcher(
        engine=engine,
        ledger=anchoring_registries.ledger(),
        owner="w",
        policy=BatchPolicy(max_leaves=100_000, max_age=timedelta(hours=1)),
    )
    report = batcher.run_once()
    assert (report.sealed, report.sealed_items, report.confirmed_items) == (1, 100_000, 100_000)
    with engine.connect() as connection:
        paths = connection.execute(
            select(func.count(), func.max(func.length(outbox.PROOF.c.path))).select_from(
                outbox.PROOF
            )
        ).one()
    assert paths[0] == 100_000 and paths[1] == 17 * 32  # 2**16 < 100,000 <= 2**17
    _verify_all(engine, anchoring_registries, ids[::997])


class _StuckLedger:
    """The ledger, except that `find` of one root answers as `NodeAnchorLedger.find` does while
    that root's block is being reorganised (the state and the logs disagree)."""

    def __init__(self, ledger: NodeAnchorLedger, stuck_root: bytes) -> None:
        self._ledger = ledger
        self.stuck_root = stuck_root

    def __getattr__(self, name: str) -> object:
        return getattr(self._ledger, name)

    def find(self, root: bytes) -> Inclusion | None:
        if root == self.stuck_root:
            raise LedgerUnavailable(f"anchor of 0x{root.hex()} is being reorganised")
        return self._ledger.find(root)


@embedded
def test_one_batch_being_reorganised_does_not_stop_the_rollback_watch_of_the_others(
    anchoring_db: Callable[..., Engine], anchoring_registries: AnchoringRegistries
) -> None:
    engine = anchoring_db()
    chain = anchoring_registries.chain
    before = chain.snapshot()
    batcher = _batcher(engine, anchoring_registries)
    older = _submit(engine, 5)
    assert batcher.drain(timeout=30).confirmed == 1
    _submit(engine, 5)
    assert batcher.drain(timeout=30).confirmed == 1
    with engine.connect() as connection:
        recent = outbox.recent_confirmed(connection, from_block=0, limit=10)
    assert len(recent) == 2 and recent[0].block_number > recent[1].block_number
    chain.revert(before)  # both anchoring transactions are gone
    chain.mine(3)
    # The newer batch is checked first; its root is stuck "being reorganised".
    stuck = _StuckLedger(anchoring_registries.ledger(), stuck_root=recent[0].root)
    watcher = Batcher(
        engine=engine,
        ledger=cast(AnchorLedger, stuck),
        owner="watcher",
        policy=BatchPolicy(max_age=timedelta(0)),
    )
    report = watcher.run_once()
    assert report.rolled_back == 1  # the older batch, whatever happens to the newer one
    with engine.connect() as connection:
        status = anchor_status(connection, organisation_id=ORG, item_id=older[0])
    assert status.state is AnchorState.BATCHED  # to be anchored again, its receipt withdrawn
    stuck.stuck_root = b""  # the reorganisation settles
    batcher.drain(timeout=30)
    assert len(anchoring_registries.anchored_events()) == 2  # each root once
    _verify_all(engine, anchoring_registries, older)
