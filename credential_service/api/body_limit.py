"""Request body size limit, enforced while the body streams in.

A declared ``Content-Length`` over the limit is refused before anything is read; otherwise the
bytes are counted as they arrive and reading stops with 413 the moment the limit is passed, so
a chunked body without ``Content-Length`` is held to the same limit. Both answers carry the
common error body (``request_body_too_large``)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credential_service.errors import ErrorCode


class RequestBodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(status_code=413, detail=f"the request body exceeds {limit} bytes")
        self.limit = limit

    def response(self, scope: Scope) -> JSONResponse:
        """The 413 answer, common error body, the connection closed."""
        scope.setdefault("state", {})["error_code"] = ErrorCode.REQUEST_BODY_TOO_LARGE
        return JSONResponse(
            {
                "code": ErrorCode.REQUEST_BODY_TOO_LARGE,
                "message": self.detail,
                "detail": {"limit": self.limit},
            },
            status_code=413,
            headers={"Connection": "close"},
        )


class BodySizeLimitMiddleware:
    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, path_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.limit = max_body_bytes
        # Paths with their own limit (file uploads), which then enforce the usual one for
        # other bodies themselves. A path is exact or a route template whose ``{name}``
        # segments match one path segment each.
        self.path_limits = {p: n for p, n in (path_limits or {}).items() if "{" not in p}
        self.template_limits = [
            (re.compile("^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p)) + "$"), n)
            for p, n in (path_limits or {}).items()
            if "{" in p
        ]

    def limit_for(self, path: str) -> int:
        """The body limit of a request path."""
        exact = self.path_limits.get(path)
        if exact is not None:
            return exact
        for pattern, limit in self.template_limits:
            if pattern.match(path):
                return limit
        return self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await RequestBodyTooLarge(limit).response(scope)(scope, receive, send)
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
