"""The anchoring outbox in the database: bulk submission, sealing, leases and state changes.

Everything here is SQLAlchemy Core over a `Connection`/`Engine`, in set-based statements:
submitting 10,000 digests is one bulk insert (COPY into a staging table on PostgreSQL,
``executemany`` on SQLite), sealing a batch one UPDATE ... RETURNING, confirming it one UPDATE
plus one bulk insert of audit paths (COPY on PostgreSQL). No function here talks to the
chain; `credential_service.anchoring.batcher` drives these steps around the chain calls.

Concurrency: several workers may share one PostgreSQL database. Sealing takes waiting items
with ``FOR UPDATE SKIP LOCKED`` so two workers never seal the same item; a batch is worked on
by the holder of its lease only (a compare-and-set on ``lease_owner``), and a worker that dies
leaves a lease that expires. On SQLite the same statements run serialised by the database lock.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import repeat
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Engine, Table, and_, delete, func, or_, select, update

from credential_service.anchoring.models import AnchorBatch, AnchorItem, AnchorProof, BatchState
from credential_service.errors import ConfigurationError
from wallet_sdk.merkle import HashAlgorithm, MerkleTree

__all__ = [
    "BatchRecord",
    "Inclusion",
    "LeaseLost",
    "NewItem",
    "SealedBatch",
    "claim_batch",
    "confirm_batch",
    "insert_digests",
    "insert_items",
    "item_id_for",
    "item_ids_for",
    "mark_sending",
    "mark_sent",
    "retry_later",
    "seal_batch",
    "unconfirmed_items",
]

ITEM: Table = AnchorItem.__table__  # type: ignore[attr-defined]  # SQLModel adds __table__ at run time
BATCH: Table = AnchorBatch.__table__  # type: ignore[attr-defined]  # SQLModel adds __table__ at run time
PROOF: Table = AnchorProof.__table__  # type: ignore[attr-defined]  # SQLModel adds __table__ at run time

_ITEM_ID_TAG = b"hrss-anchor-item/1\x00"


def item_id_for(organisation_id: int, algorithm: str, digest: bytes) -> bytes:
    """The id (16 bytes of a UUID) of the item (organisation, algorithm, digest): the same
    input, the same id.

    A UUID version 8 (RFC 9562, "custom") made of 122 bits of a tagged SHA-256, so that
    resubmitting a digest is an idempotent no-op and a lookup by digest is a primary-key
    lookup.
    """
    material = b"%s%d\x00%s\x00%s" % (_ITEM_ID_TAG, organisation_id, algorithm.encode(), digest)
    raw = bytearray(hashlib.sha256(material).digest()[:16])
    raw[6] = (raw[6] & 0x0F) | 0x80
    raw[8] = (raw[8] & 0x3F) | 0x80
    return bytes(raw)


# The version and variant bits of `item_id_for`, as masks over one 16-byte id.
_ID_KEEP = bytes.fromhex("ffffffffffff0fff3fffffffffffffff")
_ID_SET = bytes.fromhex("00000000000080008000000000000000")


def item_ids_for(organisation_id: int, algorithm: str, digests: Sequence[bytes]) -> list[bytes]:
    """`item_id_for` of every digest, in order; the same ids, computed in bulk."""
    if not digests:
        return []
    prefix = b"%s%d\x00%s\x00" % (_ITEM_ID_TAG, organisation_id, algorithm.encode())
    sha256 = hashlib.sha256
    heads = b"".join([sha256(prefix + digest).digest()[:16] for digest in digests])
    # The version and variant bits of all ids at once, as one big-integer AND/OR: per-id
    # bytearray edits cost more than the hashing.
    count = len(digests)
    keep = int.from_bytes(_ID_KEEP * count, "big")
    set_bits = int.from_bytes(_ID_SET * count, "big")
    ids = ((int.from_bytes(heads, "big") & keep) | set_bits).to_bytes(16 * count, "big")
    return [ids[start : start + 16] for start in range(0, 16 * count, 16)]


@dataclass(frozen=True, slots=True)
class NewItem:
    """One digest to anchor, already validated by the caller."""

    digest: bytes
    document_type: str
    commitments: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class SealedBatch:
    """A batch just sealed, with its leaves in leaf order (item id, digest)."""

    id: bytes
    root: bytes
    leaf_count: int
    leaves: list[tuple[bytes, bytes]]


@dataclass(frozen=True, slots=True)
class Inclusion:
    """Where an anchored root sits on chain (from the transaction receipt or the event log)."""

    chain_id: int
    registry: str
    transaction_hash: bytes
    block_number: int
    block_hash: bytes
    block_time: int
    anchored_by: str
    entity_id: bytes
    gas_used: int | None = None


@dataclass(frozen=True, slots=True)
class BatchRecord:
    """A batch row as the worker sees it."""

    id: bytes
    state: BatchState
    algorithm: str
    root: bytes
    leaf_count: int
    attempts: int
    transaction_hash: bytes | None
    block_number: int | None
    block_hash: bytes | None

    @classmethod
    def from_row(cls, row: Any) -> BatchRecord:
        return cls(
            id=bytes(row.id),
            state=BatchState(row.state),
            algorithm=row.algorithm,
            root=bytes(row.root),
            leaf_count=row.leaf_count,
            attempts=row.attempts,
            transaction_hash=None if row.transaction_hash is None else bytes(row.transaction_hash),
            block_number=row.block_number,
            block_hash=None if row.block_hash is None else bytes(row.block_hash),
        )


def _chunks(rows: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


# ---------------------------------------------------------------------------- submission


def insert_items(
    connection: Connection,
    *,
    organisation_id: int,
    algorithm: str,
    items: Sequence[NewItem],
) -> list[bytes]:
    """Insert the items that are new and return every item's id, in input order.

    Items already present for this organisation are left as they are (the first submission's
    document type and commitments stand). Runs in the caller's transaction.
    """
    digests = [item.digest for item in items]
    dumps = json.dumps
    return _insert_digests(
        connection,
        organisation_id=organisation_id,
        algorithm=algorithm,
        digests=digests,
        document_types=[item.document_type for item in items],
        commitments=[None if i.commitments is None else dumps(list(i.commitments)) for i in items],
    )


def insert_digests(
    connection: Connection,
    *,
    organisation_id: int,
    algorithm: str,
    document_type: str,
    digests: Sequence[bytes],
) -> list[bytes]:
    """`insert_items` for digests of one document type without commitments, with no object
    per item: the shape of a bulk submission."""
    return _insert_digests(
        connection,
        organisation_id=organisation_id,
        algorithm=algorithm,
        digests=digests,
        document_types=repeat(document_type),
        commitments=repeat(None),
    )


def _insert_digests(
    connection: Connection,
    *,
    organisation_id: int,
    algorithm: str,
    digests: Sequence[bytes],
    document_types: Iterable[str],
    commitments: Iterable[str | None],
) -> list[bytes]:
    ids = item_ids_for(organisation_id, algorithm, digests)
    rows = list(
        zip(
            ids,
            repeat(organisation_id),
            repeat(algorithm),
            digests,
            document_types,
            commitments,
            strict=False,  # the `repeat` columns are endless; `zip` stops with the ids
        )
    )
    # In key order the primary-key index is filled page by page rather than at random. The
    # sort is stable, so of a digest sent twice in one request the first still stands.
    rows.sort(key=itemgetter(0))
    _insert_new_items(connection, rows)
    return ids


_ITEM_COLUMNS = "id, organisation_id, algorithm, digest, document_type, commitments"
# SQLite: multi-row VALUES, 100 rows a statement (at most 600 parameters, under every SQLite's
# limit of 999): a third faster than one row a statement through ``executemany``.
_SQLITE_ROWS_PER_INSERT = 100


def _insert_sqlite(
    cursor: Any, table: str, columns: str, rows: Sequence[tuple[Any, ...]], *, suffix: str = ""
) -> None:
    """INSERT `rows` into `table` (`columns`, a constant of this module) with multi-row VALUES."""
    if not rows:
        return
    width = len(rows[0])

    def statement(count: int) -> str:
        group = "(" + ", ".join(["?"] * width) + ")"
        # Only constants and "?" placeholders go into the text; every value is bound.
        return f"INSERT INTO {table} ({columns}) VALUES {','.join([group] * count)}{suffix}"  # noqa: S608

    values = [value for row in rows for value in row]
    step = width * _SQLITE_ROWS_PER_INSERT
    full = len(values) - len(values) % step
    if full:
        cursor.executemany(
            statement(_SQLITE_ROWS_PER_INSERT),
            [values[at : at + step] for at in range(0, full, step)],
        )
    if full < len(values):
        cursor.execute(statement(len(rows) % _SQLITE_ROWS_PER_INSERT), values[full:])


# PostgreSQL: COPY into a per-session staging table, then one INSERT ... ON CONFLICT DO NOTHING
# (COPY itself cannot skip duplicates). Twice as fast as INSERT ... SELECT FROM unnest(...).
_STAGE_ITEMS_POSTGRESQL = (
    "CREATE TEMPORARY TABLE IF NOT EXISTS anchor_item_stage (id bytea, organisation_id integer,"
    " algorithm text, digest bytea, document_type text, commitments json) ON COMMIT DELETE ROWS"
)
_COPY_ITEMS_POSTGRESQL = "COPY anchor_item_stage FROM STDIN"
_INSERT_ITEMS_POSTGRESQL = (
    "INSERT INTO anchor_item (id, organisation_id, algorithm, digest, document_type, commitments)"
    " SELECT id, organisation_id, algorithm, digest, document_type, commitments"
    " FROM anchor_item_stage ON CONFLICT DO NOTHING"
)


def _insert_new_items(connection: Connection, rows: list[tuple[Any, ...]]) -> None:
    # The hot path of submission goes straight to the driver: SQLAlchemy's per-row parameter
    # processing costs more than the database's own work at 100,000 rows.
    dialect = connection.dialect.name
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # a pooled connection always has its DBAPI connection here
    try:
        if dialect == "sqlite":
            _insert_sqlite(
                cursor, "anchor_item", _ITEM_COLUMNS, rows, suffix=" ON CONFLICT DO NOTHING"
            )
        elif dialect == "postgresql":
            cursor.execute(_STAGE_ITEMS_POSTGRESQL)
            with cursor.copy(_COPY_ITEMS_POSTGRESQL) as copy:
                for row in rows:
                    copy.write_row(row)
            cursor.execute(_INSERT_ITEMS_POSTGRESQL)
            # Emptied for a second call in the same transaction (commit empties it anyway).
            cursor.execute("DELETE FROM anchor_item_stage")
        else:
            raise ConfigurationError(f"anchoring runs on SQLite and PostgreSQL, not {dialect}")
    finally:
        cursor.close()


# ---------------------------------------------------------------------------- sealing


def waiting_summary(connection: Connection, *, algorithm: str, limit: int) -> tuple[int, Any]:
    """(number of waiting items, capped at `limit`; submission time of the oldest)."""
    capped = (
        select(ITEM.c.submitted_at)
        .where(ITEM.c.batch_id.is_(None), ITEM.c.algorithm == algorithm)
        .limit(limit)
        .subquery()
    )
    count = connection.execute(select(func.count()).select_from(capped)).scalar_one()
    oldest = connection.execute(
        select(func.min(ITEM.c.submitted_at)).where(
            ITEM.c.batch_id.is_(None), ITEM.c.algorithm == algorithm
        )
    ).scalar_one()
    return int(count), oldest


def seal_batch(
    engine: Engine,
    *,
    algorithm: str,
    max_leaves: int,
    max_age: timedelta,
    now: datetime,
) -> SealedBatch | None:
    """Seal the oldest waiting items into a new batch when there are `max_leaves` of them or
    the oldest has waited `max_age`; return the batch, or ``None`` when nothing was sealed.

    The leaves are ordered by item id, so that the tree can be rebuilt from the database
    alone. The batch row (with its root) and the items' batch id are written in one
    transaction.
    """
    with engine.begin() as connection:
        count, oldest = waiting_summary(connection, algorithm=algorithm, limit=max_leaves)
        if count == 0:
            return None
        if count < max_leaves and _as_utc(oldest) > now - max_age:
            return None
        batch_id = uuid.uuid4().bytes
        waiting = (
            select(ITEM.c.id)
            .where(ITEM.c.batch_id.is_(None), ITEM.c.algorithm == algorithm)
            .order_by(ITEM.c.submitted_at)
            .limit(max_leaves)
            .with_for_update(skip_locked=True)
        )
        leaves = [
            (bytes(row[0]), bytes(row[1]))
            for row in connection.execute(
                update(ITEM)
                .where(ITEM.c.id.in_(waiting.scalar_subquery()))
                .values(batch_id=batch_id)
                .returning(ITEM.c.id, ITEM.c.digest)
            )
        ]
        if not leaves:
            # Another worker holds every waiting row; the empty transaction commits harmlessly.
            return None
        leaves.sort()
        tree = MerkleTree.build(
            [digest for _, digest in leaves], HashAlgorithm.from_name(algorithm)
        )
        connection.execute(
            BATCH.insert().values(
                id=batch_id,
                state=BatchState.BATCHED.value,
                algorithm=algorithm,
                root=tree.root,
                leaf_count=len(leaves),
                sealed_at=now,
                attempts=0,
                next_attempt_at=now,
                rollbacks=0,
            )
        )
        return SealedBatch(id=batch_id, root=tree.root, leaf_count=len(leaves), leaves=leaves)


def _as_utc(value: datetime) -> datetime:
    # SQLite hands back naive datetimes; the database writes UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def load_leaf_rows(connection: Connection, batch_id: bytes) -> list[tuple[bytes, bytes]]:
    """(item id, digest) of every item in the batch, in leaf order (by item id)."""
    rows = connection.execute(
        select(ITEM.c.id, ITEM.c.digest).where(ITEM.c.batch_id == batch_id)
    ).all()
    leaves = [(bytes(row[0]), bytes(row[1])) for row in rows]
    leaves.sort()
    return leaves


# ---------------------------------------------------------------------------- leases


_WORKABLE = (BatchState.BATCHED.value, BatchState.SENDING.value, BatchState.SENT.value)


def claim_batch(
    engine: Engine,
    *,
    owner: str,
    lease: timedelta,
    now: datetime,
    exclude: Collection[bytes] = (),
) -> BatchRecord | None:
    """Lease the next batch that is due for work (not yet confirmed, its retry time reached,
    not leased by a live worker). A worker always gets its own unexpired leases back first,
    which is how a restarted worker resumes exactly where it died."""
    free = or_(
        BATCH.c.lease_owner.is_(None),
        BATCH.c.lease_owner == owner,
        BATCH.c.lease_expires_at < now,
    )
    with engine.begin() as connection:
        due = [BATCH.c.state.in_(_WORKABLE), BATCH.c.next_attempt_at <= now, free]
        if exclude:
            due.append(BATCH.c.id.not_in(list(exclude)))
        candidate = connection.execute(
            select(BATCH)
            .where(*due)
            .order_by((BATCH.c.lease_owner == owner).desc(), BATCH.c.next_attempt_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        ).first()
        if candidate is None:
            return None
        taken = connection.execute(
            update(BATCH)
            .where(BATCH.c.id == candidate.id, free)
            .values(lease_owner=owner, lease_expires_at=now + lease)
        ).rowcount
        return BatchRecord.from_row(candidate) if taken == 1 else None


def _leased(batch_id: bytes, owner: str) -> Any:
    return and_(BATCH.c.id == batch_id, BATCH.c.lease_owner == owner)


class LeaseLost(Exception):
    """The worker no longer holds the batch's lease; it must stop working on it."""


def _require(rowcount: int, batch_id: bytes) -> None:
    if rowcount != 1:
        raise LeaseLost(f"lease on batch {batch_id.hex()} lost")


def renew_lease(
    engine: Engine, batch_id: bytes, *, owner: str, lease: timedelta, now: datetime
) -> None:
    with engine.begin() as connection:
        _require(
            connection.execute(
                update(BATCH).where(_leased(batch_id, owner)).values(lease_expires_at=now + lease)
            ).rowcount,
            batch_id,
        )


def mark_sending(
    engine: Engine,
    batch_id: bytes,
    *,
    owner: str,
    chain_id: int,
    registry: str,
    anchored_by: str,
) -> None:
    """Record, durably, that the root is about to be sent from `anchored_by`."""
    with engine.begin() as connection:
        _require(
            connection.execute(
                update(BATCH)
                .where(_leased(batch_id, owner))
                .values(
                    state=BatchState.SENDING.value,
                    attempts=BATCH.c.attempts + 1,
                    chain_id=chain_id,
                    registry_address=registry,
                    anchored_by=anchored_by,
                )
            ).rowcount,
            batch_id,
        )


def _inclusion_values(inclusion: Inclusion) -> dict[str, Any]:
    return {
        "chain_id": inclusion.chain_id,
        "registry_address": inclusion.registry,
        "anchored_by": inclusion.anchored_by,
        "entity_id": inclusion.entity_id,
        "transaction_hash": inclusion.transaction_hash,
        "block_number": inclusion.block_number,
        "block_hash": inclusion.block_hash,
        "block_time": inclusion.block_time,
        "gas_used": inclusion.gas_used,
    }


def mark_sent(engine: Engine, batch_id: bytes, *, owner: str, inclusion: Inclusion) -> None:
    """Record the transaction that carries the root and the block it landed in."""
    with engine.begin() as connection:
        _require(
            connection.execute(
                update(BATCH)
                .where(_leased(batch_id, owner))
                .values(
                    state=BatchState.SENT.value, last_error=None, **_inclusion_values(inclusion)
                )
            ).rowcount,
            batch_id,
        )


def confirm_batch(
    engine: Engine,
    batch_id: bytes,
    *,
    owner: str,
    inclusion: Inclusion,
    tree_rows: Sequence[tuple[bytes, bytes]] | None = None,
    now: datetime,
) -> int:
    """Write every item's audit path and mark the batch confirmed, in one transaction.

    The tree is rebuilt from the stored leaves and must give the stored root; paths already
    written (a batch anchored again after a rollback keeps its tree) are replaced. Returns the
    number of paths written. Raises `LeaseLost` when another worker took the batch.
    """
    with engine.begin() as connection:
        batch = connection.execute(
            select(BATCH.c.root, BATCH.c.algorithm).where(_leased(batch_id, owner))
        ).first()
        if batch is None:
            raise LeaseLost(f"lease on batch {batch_id.hex()} lost")
        rows = list(tree_rows) if tree_rows is not None else load_leaf_rows(connection, batch_id)
        tree = MerkleTree.build(
            [digest for _, digest in rows], HashAlgorithm.from_name(batch.algorithm)
        )
        if tree.root != bytes(batch.root):
            raise RuntimeError(f"batch {batch_id.hex()}: its leaves no longer give its root")
        join = b"".join
        records = [
            (item_id, batch_id, proof.leaf_index, join(proof.path))
            for (item_id, _), proof in zip(rows, tree.proofs(), strict=True)
        ]
        # The paths are computed before the first write: on SQLite that write takes the
        # database lock, which submissions wait for.
        connection.execute(delete(PROOF).where(PROOF.c.batch_id == batch_id))
        _insert_proofs(connection, records)
        _require(
            connection.execute(
                update(BATCH)
                .where(_leased(batch_id, owner))
                .values(
                    state=BatchState.CONFIRMED.value,
                    confirmed_at=now,
                    lease_owner=None,
                    lease_expires_at=None,
                    last_error=None,
                    **_inclusion_values(inclusion),
                )
            ).rowcount,
            batch_id,
        )
        return len(records)


def _insert_proofs(connection: Connection, rows: list[tuple[bytes, bytes, int, bytes]]) -> None:
    dialect = connection.dialect.name
    cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]  # a pooled connection always has its DBAPI connection here
    try:
        if dialect == "postgresql":
            # COPY is several times faster than multi-row INSERT at 100,000 rows.
            with cursor.copy(
                "COPY anchor_proof (item_id, batch_id, leaf_index, path) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            _insert_sqlite(cursor, "anchor_proof", "item_id, batch_id, leaf_index, path", rows)
    finally:
        cursor.close()


def retry_later(
    engine: Engine,
    batch_id: bytes,
    *,
    owner: str,
    error: str,
    at: datetime,
    state: BatchState | None = None,
) -> None:
    """Release the batch until `at`, recording why. `state` resets it (e.g. to ``batched``
    when the root is known not to be on chain)."""
    values: dict[str, Any] = {
        "next_attempt_at": at,
        "last_error": error[:500],
        "lease_owner": None,
        "lease_expires_at": None,
    }
    if state is not None:
        values["state"] = state.value
    with engine.begin() as connection:
        connection.execute(update(BATCH).where(_leased(batch_id, owner)).values(**values))


# ---------------------------------------------------------------------------- rollbacks


@dataclass(frozen=True, slots=True)
class ConfirmedAnchor:
    id: bytes
    root: bytes
    block_number: int
    block_hash: bytes


def recent_confirmed(
    connection: Connection, *, from_block: int, limit: int
) -> list[ConfirmedAnchor]:
    """Confirmed batches anchored at or after `from_block`, newest first."""
    rows = connection.execute(
        select(BATCH.c.id, BATCH.c.root, BATCH.c.block_number, BATCH.c.block_hash)
        .where(BATCH.c.state == BatchState.CONFIRMED.value, BATCH.c.block_number >= from_block)
        .order_by(BATCH.c.block_number.desc())
        .limit(limit)
    ).all()
    return [
        ConfirmedAnchor(row.id, bytes(row.root), row.block_number, bytes(row.block_hash))
        for row in rows
    ]


def move_confirmed(
    engine: Engine, batch_id: bytes, *, expected_block_hash: bytes, inclusion: Inclusion
) -> bool:
    """The root is still on chain but in another block: record where (the paths stay)."""
    with engine.begin() as connection:
        return (
            connection.execute(
                update(BATCH)
                .where(
                    BATCH.c.id == batch_id,
                    BATCH.c.state == BatchState.CONFIRMED.value,
                    BATCH.c.block_hash == expected_block_hash,
                )
                .values(rollbacks=BATCH.c.rollbacks + 1, **_inclusion_values(inclusion))
            ).rowcount
            == 1
        )


def unconfirm(
    engine: Engine, batch_id: bytes, *, expected_block_hash: bytes, now: datetime
) -> bool:
    """The chain lost the anchoring transaction: the batch goes back to ``batched`` and will be
    anchored again with the same root. Its stored paths stay valid for the same tree but are
    not served until the batch is confirmed again."""
    with engine.begin() as connection:
        return (
            connection.execute(
                update(BATCH)
                .where(
                    BATCH.c.id == batch_id,
                    BATCH.c.state == BatchState.CONFIRMED.value,
                    BATCH.c.block_hash == expected_block_hash,
                )
                .values(
                    state=BatchState.BATCHED.value,
                    rollbacks=BATCH.c.rollbacks + 1,
                    transaction_hash=None,
                    block_number=None,
                    block_hash=None,
                    block_time=None,
                    confirmed_at=None,
                    next_attempt_at=now,
                    last_error="anchoring transaction lost in a chain rollback",
                )
            ).rowcount
            == 1
        )


def unconfirmed_items(connection: Connection) -> int:
    """Items not yet in a confirmed batch (waiting, or in a batch still on its way)."""
    waiting = connection.execute(
        select(func.count()).select_from(ITEM).where(ITEM.c.batch_id.is_(None))
    ).scalar_one()
    in_flight = connection.execute(
        select(func.coalesce(func.sum(BATCH.c.leaf_count), 0)).where(
            BATCH.c.state != BatchState.CONFIRMED.value
        )
    ).scalar_one()
    return int(waiting) + int(in_flight)
