"""The error model: one body shape everywhere, 413 while streaming, no 500 for bad input."""

from __future__ import annotations

import pytest

from credential_service.models import OrganisationKind

from .conftest import MAX_BODY, Service

SHAPE = {"code", "message", "detail"}


def test_validation_errors_use_the_common_shape(service: Service) -> None:
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    response = service.client.post(
        "/v1/organisations", json={"name": ""}, headers=service.headers(province)
    )
    assert response.status_code == 422
    body = response.json()
    assert set(body) == SHAPE and body["code"] == "validation_failed"
    assert all(set(item) == {"loc", "msg", "type"} for item in body["detail"])


def test_invalid_json_is_a_validation_error(service: Service) -> None:
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    response = service.client.post(
        "/v1/organisations",
        content=b"{not json",
        headers={**service.headers(province), "Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["code"] == "validation_failed"


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("GET", "/v1/nowhere", 404, "not_found"),
        ("DELETE", "/v1/organisations", 405, "method_not_allowed"),
        ("GET", "/v1/organisations/not-a-code", 401, "unauthenticated"),
    ],
)
def test_routing_errors_use_the_common_shape(
    service: Service, method: str, path: str, status: int, code: str
) -> None:
    response = service.client.request(method, path)
    assert response.status_code == status
    assert set(response.json()) == SHAPE and response.json()["code"] == code


def test_body_over_the_limit_by_content_length(service: Service) -> None:
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    response = service.client.post(
        "/v1/organisations",
        content=b"x" * (MAX_BODY + 1),
        headers={**service.headers(province), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_body_too_large"


def test_body_over_the_limit_while_streaming(service: Service) -> None:
    """No Content-Length (chunked): the limit holds while the body is read."""
    province = service.credentials[OrganisationKind.PROVINCE].client_id

    def chunks():  # type: ignore[no-untyped-def]
        for _ in range(MAX_BODY // 1024 + 4):
            yield b" " * 1024

    response = service.client.post(
        "/v1/organisations",
        content=chunks(),
        headers={**service.headers(province), "Content-Type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_body_too_large"


def test_token_endpoint_body_limit(service: Service) -> None:
    response = service.client.post(
        "/v1/auth/token",
        content=b"grant_type=" + b"a" * (MAX_BODY + 10),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert response.json()["code"] == "request_body_too_large"
