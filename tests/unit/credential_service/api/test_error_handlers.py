"""Database failures are answered 503 with a stable code, never 500."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import OperationalError

from credential_service.api.errors import install_error_handlers


def _app(cause: Exception) -> FastAPI:
    app = FastAPI()
    install_error_handlers(app)

    @app.post("/write")
    def write() -> None:
        raise OperationalError("INSERT INTO anchor_item ...", {}, cause)

    return app


@pytest.mark.parametrize(
    ("cause", "code"),
    [
        (sqlite3.OperationalError("database or disk is full"), "storage_full"),
        (Exception("terminating connection due to administrator command"), "database_unavailable"),
    ],
)
def test_a_database_failure_is_a_503_with_its_code(cause: Exception, code: str) -> None:
    response = TestClient(_app(cause), raise_server_exceptions=False).post("/write")
    assert response.status_code == 503
    assert response.json()["code"] == code
    assert response.json()["message"]
    assert response.headers["retry-after"] == "1"


def test_a_change_whose_audit_row_cannot_be_written_is_not_acknowledged(tmp_path) -> None:
    from types import SimpleNamespace

    from sqlalchemy import create_engine

    from credential_service.api.audit import AuditTrailMiddleware

    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(AuditTrailMiddleware)
    # a database file in a directory that does not exist: every write is an OperationalError
    app.state.context = SimpleNamespace(
        engine=create_engine(f"sqlite:///{tmp_path / 'missing' / 'audit.db'}")
    )

    @app.post("/things", status_code=201)
    def create() -> dict[str, str]:
        return {"created": "yes"}

    response = TestClient(app, raise_server_exceptions=False).post("/things")
    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
    assert "created" not in response.text
