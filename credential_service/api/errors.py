"""The one place that maps errors to HTTP: status by error family, body ``{code, message,
detail}``; token endpoint errors also carry the RFC 6749 section 5.2 ``error``; on the W3C VC
API paths every error is RFC 9457 problem details (``application/problem+json``: ``type``,
``title``, ``status``, ``detail`` the message, with ``code`` and ``message`` as extension
members and a structured detail as ``errors``)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from credential_service.errors import (
    ClientAuthenticationFailed,
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    LedgerRejected,
    LedgerUnavailable,
    NotAuthenticated,
    NotFound,
    ServiceError,
    TokenRequestError,
    Unprocessable,
)

log = logging.getLogger(__name__)

TOKEN_PATH = "/v1/auth/token"
# The W3C VC API paths (`credential_service.api.routes.vc_api`): their errors are problem details.
VC_API_PATHS = frozenset({"/credentials/issue", "/credentials/verify", "/presentations/verify"})
PROBLEM_JSON = "application/problem+json"

_STATUS: tuple[tuple[type[ServiceError], int], ...] = (
    (ClientAuthenticationFailed, 401),
    (TokenRequestError, 400),
    (NotAuthenticated, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    (Unprocessable, 422),
    (InvalidInput, 400),
    (LedgerRejected, 409),
    (LedgerUnavailable, 503),
)

_HTTP_CODES = {
    400: ErrorCode.BAD_REQUEST,
    404: ErrorCode.NOT_FOUND,
    405: ErrorCode.METHOD_NOT_ALLOWED,
    413: ErrorCode.REQUEST_BODY_TOO_LARGE,
}


# pydantic's error types, in our words; an unknown type gets the last line.
_PROBLEMS: tuple[tuple[str, str], ...] = (
    ("missing", "missing"),
    ("extra_forbidden", "not allowed here"),
    ("string_pattern_mismatch", "not in the expected form"),
    ("too_short", "too short"),
    ("too_long", "too long"),
    ("int_", "not a whole number"),
    ("_type", "of the wrong type"),
    ("", "not an accepted value"),
)


def invalid_field(field: str, err: Exception) -> InvalidInput:
    """``InvalidInput`` (``validation_failed``) for a JSON form field that did not parse into
    its model: ``detail`` lists each problem as ``{loc, problem}`` in our words. Never the
    value sent (it may carry personal data), pydantic's text, or a link to its documentation.
    """
    if isinstance(err, ValidationError):
        detail = [
            {
                "loc": [field, *(str(part) for part in error["loc"])],
                "problem": next(words for key, words in _PROBLEMS if key in error["type"]),
            }
            for error in err.errors(include_url=False, include_input=False)
        ]
    else:
        detail = [{"loc": [field], "problem": "not a JSON object"}]
    return InvalidInput(
        f"the contract {field} are not valid", code=ErrorCode.VALIDATION_FAILED, detail=detail
    )


def _body(request: Request, code: str, message: str, detail: Any = None) -> dict[str, Any]:
    request.state.error_code = code
    return {"code": code, "message": message, "detail": detail}


def problem_response(
    request: Request,
    status: int,
    *,
    code: str,
    message: str,
    detail: Any = None,
    problem_type: str = "about:blank",
    title: str | None = None,
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An RFC 9457 problem details answer that still carries the stable ``code`` and
    ``message``. With the default ``about:blank`` type the title is the HTTP status phrase
    (RFC 9457 §4.2.1); `detail`, when given, goes into the ``errors`` extension member."""
    request.state.error_code = code
    body: dict[str, Any] = {
        "type": problem_type,
        "title": title if title is not None else HTTPStatus(status).phrase,
        "status": status,
        "detail": message,
        "code": code,
        "message": message,
    }
    if detail is not None:
        body["errors"] = detail
    body.update(extensions or {})
    return JSONResponse(body, status_code=status, headers=headers, media_type=PROBLEM_JSON)


def _answer(
    request: Request,
    status: int,
    body: dict[str, Any],
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """`body` as it is, or as problem details on the W3C VC API paths."""
    if request.url.path in VC_API_PATHS:
        return problem_response(
            request,
            status,
            code=body["code"],
            message=body["message"],
            detail=body["detail"],
            headers=headers,
        )
    return JSONResponse(body, status_code=status, headers=headers)


def status_of(error: ServiceError) -> int:
    for family, status in _STATUS:
        if isinstance(error, family):
            return status
    return 500


async def handle_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    status = status_of(exc)
    body = _body(request, exc.code, exc.message, exc.detail)
    headers: dict[str, str] = {}
    if isinstance(exc, TokenRequestError):
        body = {"error": exc.oauth_error, "error_description": exc.message, **body}
        headers["Cache-Control"] = "no-store"
    elif isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = "Bearer"
    if status >= 500:
        log.warning("service error %s: %s", exc.code, exc.message)
    return _answer(request, status, body, headers)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    detail = [
        {
            "loc": [str(part) for part in error.get("loc", ())],
            "msg": str(error.get("msg", "")),
            "type": str(error.get("type", "")),
        }
        for error in exc.errors()
    ]
    if request.url.path == TOKEN_PATH:
        # OAuth clients expect RFC 6749 section 5.2 errors from the token endpoint
        message = "the token request is not valid"
        body = _body(request, ErrorCode.INVALID_TOKEN_REQUEST, message, detail)
        body = {"error": "invalid_request", "error_description": message, **body}
        return JSONResponse(body, status_code=400, headers={"Cache-Control": "no-store"})
    body = _body(request, ErrorCode.VALIDATION_FAILED, "the request is not valid", detail)
    return _answer(request, 422, body)


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, ErrorCode.BAD_REQUEST)
    body = _body(request, code, str(exc.detail), None)
    return _answer(request, exc.status_code, body, exc.headers)


async def handle_database_error(request: Request, exc: Exception) -> JSONResponse:
    """The database went away (a restarted server, a terminated connection) or its disk is
    full: the request was not carried out, and a retry later may succeed. Never a 500."""
    assert isinstance(exc, OperationalError)
    if "full" in str(exc.orig).lower():
        code, message = ErrorCode.STORAGE_FULL, "the service's storage is full; try again later"
    else:
        code, message = ErrorCode.DATABASE_UNAVAILABLE, "the database is unavailable; try again"
    log.warning("database error on %s %s: %s", request.method, request.url.path, exc.orig)
    body = _body(request, code, message, None)
    return _answer(request, 503, body, {"Retry-After": "1"})


async def handle_unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    body = _body(request, ErrorCode.INTERNAL_ERROR, "internal error", None)
    return _answer(request, 500, body)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, handle_service_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(OperationalError, handle_database_error)
    app.add_exception_handler(Exception, handle_unexpected_error)
