"""`JsonNestingLimitMiddleware`: JSON bodies nested too deep are answered 400 ``too_deep``
before FastAPI decodes them; others reach the route unchanged."""

from __future__ import annotations

from typing import Annotated, Any

import pytest
from fastapi import Body, FastAPI, Form
from fastapi.testclient import TestClient

from credential_service.api.body_limit import BodySizeLimitMiddleware
from credential_service.api.errors import install_error_handlers
from credential_service.api.json_nesting import JsonNestingLimitMiddleware, is_json_media_type
from wallet_sdk.nesting import MAX_JSON_DEPTH

DEEP = b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1)
AT_LIMIT = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH


def _client(max_body_bytes: int = 1 << 20) -> TestClient:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(JsonNestingLimitMiddleware)  # inside the size limit, as in create_app
    app.add_middleware(BodySizeLimitMiddleware, max_body_bytes=max_body_bytes)

    @app.post("/echo")
    def echo(body: Annotated[Any, Body()]) -> Any:
        return {"echo": body}

    @app.post("/form")
    def form(value: str = Form()) -> dict[str, str]:
        return {"value": value}

    return TestClient(app)


@pytest.mark.parametrize(
    "content_type",
    [None, "application/json", "application/json; charset=utf-8", "application/ld+json"],
)
def test_a_deep_json_body_is_refused_with_too_deep(content_type: str | None) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    response = _client().post("/echo", content=DEEP, headers=headers)
    assert response.status_code == 400
    assert response.json() == {
        "code": "too_deep",
        "message": f"the request body nests arrays and objects deeper than {MAX_JSON_DEPTH} levels",
        "detail": {"limit": MAX_JSON_DEPTH},
    }


def test_a_body_at_the_limit_reaches_the_route_unchanged() -> None:
    response = _client().post(
        "/echo", content=AT_LIMIT, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200
    body = response.json()["echo"]
    for _ in range(MAX_JSON_DEPTH - 1):
        (body,) = body
    assert body == []


def test_a_body_sent_in_chunks_is_measured_whole() -> None:
    chunks = [DEEP[:10], DEEP[10:40], DEEP[40:]]
    response = _client().post(
        "/echo", content=iter(chunks), headers={"Content-Type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "too_deep")


def test_a_streamed_body_over_the_size_limit_is_413_not_an_error() -> None:
    chunks = [b"[" * 1024] * 3  # no Content-Length: the limit is passed while reading
    response = _client(max_body_bytes=2048).post(
        "/echo", content=iter(chunks), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "request_body_too_large",
        "message": "the request body exceeds 2048 bytes",
        "detail": {"limit": 2048},
    }


def test_a_form_body_is_not_measured_as_json() -> None:
    response = _client().post("/form", data={"value": DEEP.decode()})
    assert response.json() == {"value": DEEP.decode()}


def test_json_media_types() -> None:
    assert is_json_media_type(None) and is_json_media_type("")
    assert is_json_media_type("Application/JSON ; charset=utf-8")
    assert is_json_media_type("application/problem+json")
    assert not is_json_media_type("multipart/form-data; boundary=x")
    assert not is_json_media_type("application/x-www-form-urlencoded")
    assert not is_json_media_type("text/json")
