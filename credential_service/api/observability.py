"""HTTP side of observability: request ids, the latency histogram, access log lines, and the
``/metrics`` endpoint (Prometheus text format).

`RequestObservabilityMiddleware` is the outermost middleware: it takes the caller's
``X-Request-ID`` when it is a plain token (1-128 of ``A-Za-z0-9._:-``) or makes one, binds it
to the logging context (`credential_service.observability.request_id_var`) and to
``request.state.request_id`` (the audit trail records it), echoes it as the only
``X-Request-ID`` of the response, times the request, and counts chain failures the error
handler reported.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credential_service.errors import ErrorCode
from credential_service.observability import (
    REGISTRY,
    record_chain_error,
    request_id_var,
    watch_anchoring_outbox,
)
from credential_service.observability.logs import redact
from credential_service.observability.metrics import CONTENT_TYPE
from credential_service.observability.service_metrics import HTTP_REQUEST_SECONDS

__all__ = ["RequestObservabilityMiddleware", "install_observability", "metrics_router"]

access_log = logging.getLogger("credential_service.access")

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_HEADER = b"x-request-id"
_CHAIN_ERRORS = {
    ErrorCode.CHAIN_UNAVAILABLE.value: "unavailable",
    ErrorCode.CHAIN_REJECTED.value: "rejected",
}


def _incoming_request_id(scope: Scope) -> str:
    for name, value in scope.get("headers", ()):
        if name == _HEADER:
            try:
                text = bytes(value).decode("ascii")
            except UnicodeDecodeError:
                break
            # kept only when it is plainly an id: one carrying an ID or phone number would
            # put personal data in every log line of the request
            if _REQUEST_ID.match(text) and redact(text) == text:
                return text
            break
    return uuid.uuid4().hex


_KNOWN_METHODS = frozenset(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"))


def _write_access_line(
    method: str, route: str, status: int, elapsed: float, error_code: object
) -> None:
    """One access line. Every field comes from a closed set (a known method, a route template
    of this app, a status, an error code of ours), never from the request's own text, so the
    record is marked clean and the redaction filter lets it by: running the patterns over it
    cost more than the rest of the line. It is made directly, not by ``info()``, which walks
    the stack for a caller file and line that no access line shows."""
    method = method if method in _KNOWN_METHODS else "OTHER"
    code = error_code if isinstance(error_code, str) and error_code.isidentifier() else None
    record = access_log.makeRecord(
        access_log.name,
        logging.INFO,
        __file__,
        0,
        "%s %s %d",
        (method, route, status),
        None,
        extra={
            "http_method": method,
            "route": route,
            "status": status,
            "duration_ms": round(elapsed * 1000, 3),
            "error_code": code,
            "request_id": request_id_var.get(),
            "_hrss_redacted": True,
        },
    )
    access_log.handle(record)


def _route_template(scope: Scope) -> str:
    route: Any = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    return str(path) if path else "<unmatched>"


class RequestObservabilityMiddleware:
    def __init__(self, app: ASGIApp, *, access_log_enabled: bool = True) -> None:
        self.app = app
        self.access_log_enabled = access_log_enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = _incoming_request_id(scope)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["request_id"] = request_id
        token = request_id_var.set(request_id)
        status = 500
        encoded = request_id.encode("ascii")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != _HEADER]
                headers.append((_HEADER, encoded))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = _route_template(scope)
            method = str(scope.get("method", ""))
            HTTP_REQUEST_SECONDS.observe(elapsed, method=method, route=route, status=str(status))
            chain_error = _CHAIN_ERRORS.get(str(state.get("error_code")))
            if chain_error is not None:
                record_chain_error(chain_error, source="api")
            if self.access_log_enabled and access_log.isEnabledFor(logging.INFO):
                _write_access_line(method, route, status, elapsed, state.get("error_code"))
            request_id_var.reset(token)


metrics_router = APIRouter(tags=["observability"])


@metrics_router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}},
)
def metrics(request: Request) -> PlainTextResponse:
    """Every metric in the Prometheus text exposition format 0.0.4: of all the workers under
    ``api.serve`` (multiprocess mode), of this process otherwise."""
    engine = getattr(getattr(request.app.state, "context", None), "engine", None)
    if engine is not None and getattr(request.app.state, "outbox_watched", None) is not engine:
        watch_anchoring_outbox(engine)
        request.app.state.outbox_watched = engine
    return PlainTextResponse(REGISTRY.exposition(), media_type=CONTENT_TYPE)


def install_observability(app: FastAPI, *, metrics_enabled: bool, access_log: bool) -> None:
    """Add the request middleware (call last, so it is outermost) and ``/metrics``."""
    if metrics_enabled:
        app.include_router(metrics_router)
    app.add_middleware(RequestObservabilityMiddleware, access_log_enabled=access_log)
