"""The nesting limit of JSON request bodies, checked on the raw bytes before anything parses
them.

A body of 100,000 ``[`` then as many ``]`` (200 KB) crashed the process in the C JSON decoder
(`wallet_sdk.nesting` says why), and FastAPI decodes a JSON body before it authenticates the
caller. So a request whose body FastAPI would decode as JSON (no ``Content-Type``, or
``application/json`` or ``application/*+json``) is read whole here, inside the body size
limit, and answered 400 ``too_deep`` when it nests arrays and objects deeper than
`wallet_sdk.nesting.MAX_JSON_DEPTH`; otherwise the route gets the same bytes. Other bodies
(forms, file uploads) pass untouched: what they carry as JSON is checked where it is parsed.
"""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from credential_service.api.body_limit import RequestBodyTooLarge
from credential_service.errors import ErrorCode
from wallet_sdk.errors import JsonTooDeep
from wallet_sdk.nesting import check_json_depth

__all__ = ["JsonNestingLimitMiddleware", "is_json_media_type"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def is_json_media_type(content_type: str | None) -> bool:
    """Whether FastAPI decodes a body of this ``Content-Type`` as JSON (it does without one)."""
    if not content_type:
        return True
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


class JsonNestingLimitMiddleware:
    """Answers 400 ``too_deep`` to a JSON body nested deeper than the SDK's limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] not in _BODY_METHODS
            or not is_json_media_type(Headers(scope=scope).get("content-type"))
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            try:
                message = await receive()
            except RequestBodyTooLarge as too_large:  # a streamed body passing the size limit
                await too_large.response(scope)(scope, receive, send)
                return
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay([message], receive), send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            check_json_depth(body, what="the request body")
        except JsonTooDeep as err:
            scope.setdefault("state", {})["error_code"] = ErrorCode.TOO_DEEP
            response = JSONResponse(
                {"code": ErrorCode.TOO_DEEP, "message": str(err), "detail": {"limit": err.limit}},
                status_code=400,
            )
            await response(scope, receive, send)
            return
        whole: Message = {"type": "http.request", "body": body, "more_body": False}
        await self.app(scope, _replay([whole], receive), send)


def _replay(pending: list[Message], receive: Receive) -> Receive:
    """``receive`` that first gives what was read already, then asks the client again."""

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed
