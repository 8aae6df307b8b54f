"""Liveness and readiness."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text

from credential_service.api.deps import ContextDep
from credential_service.errors import ErrorCode

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={
        503: {"description": "database or chain unreachable, or the registries not on chain"}
    },
)
def readyz(context: ContextDep) -> Any:
    """Ready when the database and the chain both answer and the chain holds the registries
    of the service's deployment (``chain``: ``deployment_missing`` after a chain reset)."""
    checks = {"database": "ok", "chain": "ok"}
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:  # any failure of the database means "not ready", nothing more
        checks["database"] = "unreachable"
    if not context.ledger.is_reachable():
        checks["chain"] = "unreachable"
    elif not context.ledger.holds_deployment():
        checks["chain"] = "deployment_missing"
    if all(v == "ok" for v in checks.values()):
        return {"status": "ready", "checks": checks}
    return JSONResponse(
        {"code": ErrorCode.NOT_READY, "message": "not ready", "detail": checks}, status_code=503
    )
