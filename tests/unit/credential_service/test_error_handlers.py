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
