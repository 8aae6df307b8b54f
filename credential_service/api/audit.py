"""ASGI middleware that records every state-changing request in the audit trail: who (the
authenticated organisation, or ``anonymous``), what (method and path), when, and the outcome
(status and error code). The entry is written before the response leaves, so no change is
acknowledged unrecorded."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credential_service.errors import ErrorCode
from credential_service.services.audit import (
    append_audit_entry,
    audit_target,
    collect_audit_notes,
)

_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# POSTs that change nothing (they carry a body, so they cannot be GETs). Auditing them made
# every verification a write on the one audit head row, and a second pooled connection per
# request: under load (scripts/bench_http.py) the pool ran dry and requests failed after 30 s.
_READ_ONLY_POSTS = frozenset(
    {
        "/v1/credentials/verify",
        "/v1/presentations/verify",
        "/credentials/verify",
        "/presentations/verify",
        "/v1/anchors/verify",
        "/v1/evidence/verify",
    }
)


class AuditTrailMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] in _SAFE_METHODS
            or scope.get("path") in _READ_ONLY_POSTS
        ):
            await self.app(scope, receive, send)
            return
        state: dict[str, Any] = scope.setdefault("state", {})
        request_id = str(state.get("request_id") or uuid.uuid4())  # set by api.observability
        recorded = False
        notes: list[str] = []

        async def record(status: int) -> None:
            nonlocal recorded
            recorded = True
            context = scope["app"].state.context
            await run_in_threadpool(
                _append,
                context.engine,
                actor=str(state.get("actor") or "anonymous"),
                action=str(scope["method"]),
                target=audit_target(str(scope.get("path", "")), notes),
                outcome="success" if status < 400 else "failure",
                status_code=status,
                error_code=state.get("error_code"),
                request_id=request_id,
            )

        replaced = False

        async def send_recorded(message: Message) -> None:
            nonlocal replaced
            if message["type"] == "http.response.start" and not recorded:
                try:
                    await record(int(message["status"]))
                except OperationalError:
                    # The audit row could not be written (database restarting, disk full): the
                    # answer must not acknowledge an unrecorded change, so it becomes a 503.
                    replaced = True
                    await send(_unavailable_start(request_id))
                    return
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode("ascii")),
                ]
            if replaced:
                if message["type"] == "http.response.body" and not message.get("more_body"):
                    await send({"type": "http.response.body", "body": _UNAVAILABLE_BODY})
                return
            await send(message)

        try:
            with collect_audit_notes() as notes:
                await self.app(scope, receive, send_recorded)
        except Exception:
            if not recorded:
                state.setdefault("error_code", "internal_error")
                await record(500)
            raise


_UNAVAILABLE_BODY = json.dumps(
    {
        "code": ErrorCode.DATABASE_UNAVAILABLE.value,
        "message": "the request could not be recorded in the audit trail; try again",
        "detail": None,
    }
).encode()


def _unavailable_start(request_id: str) -> Message:
    return {
        "type": "http.response.start",
        "status": 503,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_UNAVAILABLE_BODY)).encode()),
            (b"retry-after", b"1"),
            (b"x-request-id", request_id.encode("ascii")),
        ],
    }


def _append(engine: Any, **fields: Any) -> None:
    with Session(engine) as session:
        append_audit_entry(session=session, now=datetime.now(UTC), **fields)
