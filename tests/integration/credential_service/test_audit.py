"""The audit trail: every state-changing request recorded, hash-chained, verifiable."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import text, update
from sqlmodel import Session, col, select

from credential_service.cli import main
from credential_service.models import AuditEntry, OrganisationKind
from credential_service.persistence import create_database_engine, migrate
from credential_service.services.audit import append_audit_entry, verify_audit_chain

from .conftest import Service


def last_entries(service: Service, count: int) -> list[AuditEntry]:
    with Session(service.context.engine) as session:
        rows = session.exec(select(AuditEntry).order_by(col(AuditEntry.seq).desc()).limit(count))
        return list(reversed(rows.all()))


def test_state_changes_are_recorded_with_who_what_outcome(service: Service) -> None:
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    headers = service.headers(employer)  # one audited token request
    token_entry = last_entries(service, 1)[0]
    assert (token_entry.actor, token_entry.action, token_entry.target) == (
        employer,
        "POST",
        "/v1/auth/token",
    )
    assert token_entry.outcome == "success" and token_entry.status_code == 200
    refused = service.client.post("/v1/organisations", json={}, headers=headers)
    assert refused.status_code in (403, 422)
    entry = last_entries(service, 1)[0]
    assert entry.actor == employer and entry.outcome == "failure"
    assert entry.status_code == refused.status_code and entry.error_code == refused.json()["code"]
    assert refused.headers["x-request-id"] == entry.request_id
    anonymous = service.client.post("/v1/organisations/11440000MB0000001F/status", json={})
    assert anonymous.status_code == 401
    entry = last_entries(service, 1)[0]
    assert entry.actor == "anonymous" and entry.error_code == "unauthenticated"


def test_reads_are_not_recorded(service: Service) -> None:
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    headers = service.headers(employer)
    before = last_entries(service, 1)[0].seq
    assert service.client.get("/v1/organisations/me", headers=headers).status_code == 200
    assert last_entries(service, 1)[0].seq == before


def test_the_chain_verifies(service: Service) -> None:
    with Session(service.context.engine) as session:
        result = verify_audit_chain(session=session)
    assert result.entries >= 1 and len(result.head_hash) == 64


def _append(url: str, actor: str) -> None:
    engine = create_database_engine(url)
    try:
        with Session(engine) as session:
            append_audit_entry(
                session=session,
                actor=actor,
                action="POST",
                target="/t",
                outcome="success",
                status_code=200,
                error_code=None,
                request_id=actor,
                now=datetime.now(UTC),
            )
    finally:
        engine.dispose()


def test_concurrent_writers_keep_one_chain(database_url: str) -> None:
    migrate(create_database_engine(database_url))
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(5):
                _append(database_url, f"w{n}-{i}")
        except BaseException as err:  # surfaced below
            errors.append(err)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    engine = create_database_engine(database_url)
    with Session(engine) as session:
        assert verify_audit_chain(session=session).entries == 30
    engine.dispose()


def _tamper(database_url: str, change: Callable[[Session], None]) -> None:
    engine = create_database_engine(database_url)
    with Session(engine) as session:
        change(session)
        session.commit()
    engine.dispose()


def test_cli_reports_the_first_broken_row(database_url: str) -> None:
    migrate(create_database_engine(database_url))
    for n in range(4):
        _append(database_url, f"actor-{n}")
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify", "--database-url", database_url])
    assert ok.exit_code == 0 and "OK: 4 entries" in ok.output
    _tamper(
        database_url,
        lambda s: s.exec(
            update(AuditEntry).where(col(AuditEntry.seq) == 2).values(actor="mallory")
        ),  # type: ignore[call-overload]
    )
    broken = runner.invoke(main, ["audit", "verify", "--database-url", database_url])
    assert broken.exit_code == 1
    assert "first broken row: 2" in broken.output


def test_removing_the_last_row_is_detected(database_url: str) -> None:
    migrate(create_database_engine(database_url))
    for n in range(3):
        _append(database_url, f"actor-{n}")
    _tamper(database_url, lambda s: s.exec(text("DELETE FROM audit_entry WHERE seq = 3")))  # type: ignore[call-overload]
    result = CliRunner().invoke(main, ["audit", "verify", "--database-url", database_url])
    assert result.exit_code == 1 and "first broken row: 3" in result.output


def test_unreadable_database_is_an_error_not_a_crash(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, ["audit", "verify", "--database-url", f"sqlite:///{tmp_path}/missing/none.db"]
    )
    assert result.exit_code == 2
