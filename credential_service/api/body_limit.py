"""Request body size limit, enforced while the body streams in.

A declared ``Content-Length`` over the limit is refused before anything is read; otherwise the
bytes are counted as they arrive and reading stops with 413 the moment the limit is passed, so
a chunked body without ``Content-Length`` is held to the same limit. Both answers carry the
common error body (``request_body_too_large``)."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credential_service.errors import ErrorCode


class RequestBodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body exceeds {limit} bytes")


class BodySizeLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = max_body_bytes
        # Paths with their own limit (file uploads), which then enforce the usual one for
        # other bodies themselves.
        self.path_limits = dict(path_limits or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.path_limits.get(scope["path"], self.limit)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            error = RequestBodyTooLarge(limit)
            scope.setdefault("state", {})["error_code"] = ErrorCode.REQUEST_BODY_TOO_LARGE
            response = JSONResponse(
                {
                    "code": ErrorCode.REQUEST_BODY_TOO_LARGE,
                    "message": error.detail,
                    "detail": {"limit": limit},
                },
                status_code=413,
                headers={"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise RequestBodyTooLarge(limit)
            return message

        await self.app(scope, limited_receive, send)
