"""The audit trail: an append-only, hash-chained record of every state-changing request.

Each row's ``hash`` is SHA-256 over the canonical JSON (sorted keys, no spaces, UTF-8) of all
its other columns, ``prev_hash`` included. Writers serialise on the single ``audit_head`` row:
the first statement of an append is an UPDATE of that row, which holds its row lock on
PostgreSQL and the database write lock on SQLite until the append commits.

A domain function can add a short note to the entry of the request it serves
(``note_for_audit``), e.g. that a retried change was already on chain and only mirrored; the
HTTP layer collects the notes (``collect_audit_notes``) and appends them to the entry's target.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlmodel import Session, col, select

from credential_service.errors import AuditChainBroken, ErrorCode
from credential_service.models import AuditEntry, AuditHead

GENESIS_HASH = "0" * 64
_notes: ContextVar[list[str] | None] = ContextVar("audit_notes", default=None)


@contextmanager
def collect_audit_notes() -> Iterator[list[str]]:
    """Collect the notes that code running inside (in this context or contexts copied from
    it, such as the thread pool's) adds with ``note_for_audit``."""
    notes: list[str] = []
    token = _notes.set(notes)
    try:
        yield notes
    finally:
        _notes.reset(token)


def note_for_audit(note: str) -> None:
    """Add a note to the audit entry of the request being served; nothing outside a request."""
    notes = _notes.get()
    if notes is not None:
        notes.append(note)


def audit_target(path: str, notes: list[str]) -> str:
    """The ``target`` column: the request path, then the notes in brackets."""
    return path if not notes else f"{path} [{'; '.join(notes)}]"


_HASHED_FIELDS = (
    "seq",
    "occurred_at",
    "actor",
    "action",
    "target",
    "outcome",
    "status_code",
    "error_code",
    "request_id",
    "prev_hash",
)


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 (hex) over the canonical JSON of the entry's fields, ``prev_hash`` included."""
    document = {name: getattr(entry, name) for name in _HASHED_FIELDS}
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def append_audit_entry(
    *,
    session: Session,
    actor: str,
    action: str,
    target: str,
    outcome: str,
    status_code: int,
    error_code: str | None,
    request_id: str,
    now: datetime,
) -> AuditEntry:
    """Append one entry and commit. Concurrent appends are serialised by the head row."""
    session.exec(update(AuditHead).where(col(AuditHead.id) == 1).values(seq=col(AuditHead.seq) + 1))
    head = session.exec(select(AuditHead).where(AuditHead.id == 1)).one()
    session.refresh(head)
    entry = AuditEntry(
        seq=head.seq,
        occurred_at=now.isoformat(timespec="microseconds"),
        actor=actor[:64],
        action=action[:16],
        target=target[:512],
        outcome=outcome,
        status_code=status_code,
        error_code=error_code,
        request_id=request_id,
        prev_hash=head.hash,
        hash="",
    )
    entry.hash = entry_hash(entry)
    head.hash = entry.hash
    session.add(entry)
    session.add(head)
    session.commit()
    return entry


@dataclass(frozen=True)
class AuditVerification:
    entries: int
    head_hash: str


def verify_audit_chain(*, session: Session) -> AuditVerification:
    """Check every row's hash, the links between rows, and that the head names the last row.

    Raises ``AuditChainBroken`` naming the first broken row (``detail["seq"]``).
    """
    previous_hash, expected_seq, count = GENESIS_HASH, 1, 0
    rows = session.exec(
        select(AuditEntry).order_by(col(AuditEntry.seq)).execution_options(yield_per=500)
    )
    for entry in rows:
        # 1. no row missing or inserted
        if entry.seq != expected_seq:
            raise _broken(expected_seq, f"expected row {expected_seq}, found row {entry.seq}")
        # 2. linked to the row before
        if entry.prev_hash != previous_hash:
            raise _broken(entry.seq, "prev_hash does not match the previous row's hash")
        # 3. content unchanged
        if entry_hash(entry) != entry.hash:
            raise _broken(entry.seq, "the row's content does not match its hash")
        previous_hash, expected_seq, count = entry.hash, expected_seq + 1, count + 1
    # 4. nothing cut off the end
    head = session.get(AuditHead, 1)
    if head is None or head.seq != count or head.hash != previous_hash:
        raise _broken(count + 1, "the head does not point at the last row (rows removed?)")
    return AuditVerification(entries=count, head_hash=previous_hash)


def _broken(seq: int, reason: str) -> AuditChainBroken:
    return AuditChainBroken(
        f"audit chain broken at row {seq}: {reason}",
        code=ErrorCode.AUDIT_CHAIN_BROKEN,
        detail={"seq": seq, "reason": reason},
    )
