from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import Session

from credential_service.errors import AuditChainBroken
from credential_service.models import AuditEntry
from credential_service.persistence import create_database_engine, migrate
from credential_service.services.audit import (
    GENESIS_HASH,
    append_audit_entry,
    entry_hash,
    verify_audit_chain,
)


@pytest.fixture
def session(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = create_database_engine(f"sqlite:///{tmp_path}/audit.db")
    migrate(engine)
    with Session(engine) as session:
        yield session
    engine.dispose()


def append(session: Session, actor: str) -> AuditEntry:
    return append_audit_entry(
        session=session,
        actor=actor,
        action="POST",
        target="/x",
        outcome="success",
        status_code=201,
        error_code=None,
        request_id="r",
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_hash_is_sha256_over_canonical_json_including_prev_hash(session: Session) -> None:
    first = append(session, "a")
    second = append(session, "b")
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
    assert second.prev_hash == first.hash
    document = {
        "seq": 2,
        "occurred_at": "2026-01-01T00:00:00.000000+00:00",
        "actor": "b",
        "action": "POST",
        "target": "/x",
        "outcome": "success",
        "status_code": 201,
        "error_code": None,
        "request_id": "r",
        "prev_hash": first.hash,
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":")).encode()
    assert second.hash == hashlib.sha256(canonical).hexdigest() == entry_hash(second)
    assert verify_audit_chain(session=session).entries == 2


def test_empty_chain_verifies(session: Session) -> None:
    result = verify_audit_chain(session=session)
    assert (result.entries, result.head_hash) == (0, GENESIS_HASH)


def test_edited_row_is_reported(session: Session) -> None:
    for actor in "abc":
        append(session, actor)
    row = session.get(AuditEntry, 2)
    assert row is not None
    row.outcome = "failure"
    session.add(row)
    session.commit()
    with pytest.raises(AuditChainBroken) as caught:
        verify_audit_chain(session=session)
    assert caught.value.detail["seq"] == 2
    assert "does not match its hash" in caught.value.message


def test_rehashed_edit_breaks_the_next_link(session: Session) -> None:
    for actor in "abc":
        append(session, actor)
    row = session.get(AuditEntry, 2)
    assert row is not None
    row.actor = "mallory"
    row.hash = entry_hash(row)
    session.add(row)
    session.commit()
    with pytest.raises(AuditChainBroken) as caught:
        verify_audit_chain(session=session)
    assert caught.value.detail["seq"] == 3
