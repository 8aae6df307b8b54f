"""Tables of the anchoring outbox and the wire models of the anchoring API.

Three tables, written in bulk through SQLAlchemy Core (never one ORM object per row):

Ids are UUIDs stored as 16 raw bytes (the same on SQLite and PostgreSQL, and nothing to
convert on the hot path); the API shows them in the usual text form.

- ``anchor_item``: one submitted document digest. Its id is derived from (organisation,
  algorithm, digest), so submitting the same digest twice lands on the same row (idempotency
  without a second unique index). ``batch_id`` is empty while the item waits.
- ``anchor_batch``: a sealed set of items, its Merkle root and where the root sits on chain.
  The state of every item in a batch is the batch's state, so moving 100,000 items from
  ``sent`` to ``confirmed`` (or back to ``batched`` after a rollback) is a one-row update.
- ``anchor_proof``: the Merkle audit path of one item, stored compactly (the sibling hashes
  concatenated, 32 bytes each), written in the same transaction that confirms the batch.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    String,
    func,
    text,
)
from sqlmodel import Field, SQLModel

__all__ = [
    "AnchorBatch",
    "AnchorItem",
    "AnchorProof",
    "AnchorState",
    "BatchState",
]


class BatchState(StrEnum):
    """Life of a batch. ``sending`` is written, durably, just before the transaction leaves, so
    a worker that dies with the transaction in flight finds it again by its root."""

    BATCHED = "batched"
    SENDING = "sending"
    SENT = "sent"
    CONFIRMED = "confirmed"


class AnchorState(StrEnum):
    """State of one item as the API reports it: ``submitted`` until sealed, then its batch's."""

    SUBMITTED = "submitted"
    BATCHED = "batched"
    SENT = "sent"
    CONFIRMED = "confirmed"

    @classmethod
    def of_batch(cls, state: str | None) -> AnchorState:
        if state is None:
            return cls.SUBMITTED
        if state == BatchState.SENDING:
            # Whether the transaction left is unknown until the root is looked up on chain.
            return cls.BATCHED
        return cls(state)


def _ts(*, nullable: bool = False) -> Any:
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=nullable))


class AnchorItem(SQLModel, table=True):
    __tablename__ = "anchor_item"
    __table_args__ = (
        # The worker takes the oldest waiting items; the index holds only waiting ones.
        Index(
            "ix_anchor_item_waiting",
            "submitted_at",
            postgresql_where=text("batch_id IS NULL"),
            sqlite_where=text("batch_id IS NULL"),
        ),
        Index("ix_anchor_item_batch", "batch_id"),
    )

    id: bytes = Field(sa_column=Column(LargeBinary(16), primary_key=True))
    organisation_id: int = Field(sa_column=Column(Integer, nullable=False))
    algorithm: str = Field(sa_column=Column(String(16), nullable=False))
    digest: bytes = Field(sa_column=Column(LargeBinary(64), nullable=False))
    document_type: str = Field(sa_column=Column(String(64), nullable=False))
    commitments: list[str] | None = Field(
        default=None, sa_column=Column(JSON(none_as_null=True), nullable=True)
    )
    # Set by the database, so that a bulk insert binds no per-row timestamp.
    submitted_at: datetime = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now()),
    )
    batch_id: bytes | None = Field(default=None, sa_column=Column(LargeBinary(16), nullable=True))


class AnchorBatch(SQLModel, table=True):
    __tablename__ = "anchor_batch"
    __table_args__ = (Index("ix_anchor_batch_state", "state", "next_attempt_at"),)

    id: bytes = Field(sa_column=Column(LargeBinary(16), primary_key=True))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    algorithm: str = Field(sa_column=Column(String(16), nullable=False))
    root: bytes = Field(sa_column=Column(LargeBinary(32), nullable=False))
    leaf_count: int = Field(sa_column=Column(Integer, nullable=False))
    sealed_at: datetime = _ts()
    # Lease: the worker that owns the batch until lease_expires_at; renewed while working.
    lease_owner: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    lease_expires_at: datetime | None = _ts(nullable=True)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False))
    next_attempt_at: datetime = _ts()
    last_error: str | None = Field(default=None, sa_column=Column(String(500), nullable=True))
    # Where the root sits on chain, once known.
    chain_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    registry_address: str | None = Field(default=None, sa_column=Column(String(42), nullable=True))
    anchored_by: str | None = Field(default=None, sa_column=Column(String(42), nullable=True))
    entity_id: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32), nullable=True))
    transaction_hash: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary(32), nullable=True)
    )
    block_number: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    block_hash: bytes | None = Field(default=None, sa_column=Column(LargeBinary(32), nullable=True))
    block_time: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    gas_used: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    confirmed_at: datetime | None = _ts(nullable=True)
    rollbacks: int = Field(default=0, sa_column=Column(Integer, nullable=False))


class AnchorProof(SQLModel, table=True):
    __tablename__ = "anchor_proof"
    __table_args__ = (Index("ix_anchor_proof_batch", "batch_id"),)

    item_id: bytes = Field(sa_column=Column(LargeBinary(16), primary_key=True))
    batch_id: bytes = Field(sa_column=Column(LargeBinary(16), nullable=False))
    leaf_index: int = Field(sa_column=Column(Integer, nullable=False))
    path: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
