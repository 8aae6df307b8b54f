"""Request ids, latency metrics, security headers, CORS and rate limits on a small app built
with the service's own middleware (the full service is exercised in tests/integration)."""

from __future__ import annotations

import io
import json
import time
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.testclient import TestClient

from credential_service.api.hardening import (
    RateLimitPolicy,
    TokenBuckets,
    install_hardening,
    rate_limit_policy,
)
from credential_service.api.observability import install_observability
from credential_service.core.config import Settings
from credential_service.errors import ConfigurationError
from credential_service.services.tokens import ServiceTokenKey
from wallet_sdk.jose import Curve, Jwk

_OFF = RateLimitPolicy(client_rate=0, client_burst=1, anonymous_rate=0, anonymous_burst=1)


def _app(
    policy: RateLimitPolicy = _OFF, origins: tuple[str, ...] = ()
) -> tuple[FastAPI, ed25519.Ed25519PrivateKey]:
    app = FastAPI()
    key = ed25519.Ed25519PrivateKey.generate()
    app.state.context = SimpleNamespace(
        token_key=ServiceTokenKey(Jwk.from_private_bytes(Curve.ED25519, _seed(key)))
    )

    @app.get("/v1/things/{thing_id}")
    def thing(thing_id: str) -> dict[str, str]:
        return {"id": thing_id}

    @app.get("/verify", response_class=HTMLResponse)
    def page() -> str:
        return "<html></html>"

    install_hardening(app, policy=policy, cors_allow_origins=origins)
    install_observability(app, metrics_enabled=True, access_log=True)
    return app, key


def _seed(key: ed25519.Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )


def _token(key: ed25519.Ed25519PrivateKey, subject: str) -> str:
    now = int(time.time())
    return jwt.encode({"sub": subject, "exp": now + 300}, key, algorithm="EdDSA")


def test_request_id_is_echoed_or_made() -> None:
    app, _ = _app()
    with TestClient(app) as client:
        given = client.get("/v1/things/1", headers={"X-Request-ID": "abc-123"})
        made = client.get("/v1/things/1")
        refused = client.get("/v1/things/1", headers={"X-Request-ID": "bad id\x7f" * 30})
    assert given.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32
    assert refused.headers["x-request-id"] != "bad id"
    assert len(refused.headers.get_list("x-request-id")) == 1


def test_latency_is_recorded_by_route_template_not_path() -> None:
    app, _ = _app()
    with TestClient(app) as client:
        client.get("/v1/things/secret-id-13812345678")
        client.get("/nowhere")
        metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain; version=0.0.4")
    text = metrics.text
    assert (
        'hrss_http_request_duration_seconds_count{method="GET",route="/v1/things/{thing_id}",'
        'status="200"}' in text
    )
    assert 'route="<unmatched>",status="404"' in text
    assert "secret-id" not in text


def test_security_headers_on_api_and_page() -> None:
    app, _ = _app()
    with TestClient(app) as client:
        api = client.get("/v1/things/1")
        page = client.get("/verify")
    for response in (api, page):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert api.headers["content-security-policy"].startswith("default-src 'none'")
    assert "script-src 'self'" in page.headers["content-security-policy"]


def test_cors_is_off_by_default_and_allow_listed_otherwise() -> None:
    preflight = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    app, _ = _app()
    with TestClient(app) as client:
        response = client.get("/v1/things/1", headers={"Origin": "https://evil.example"})
        options = client.options("/v1/things/1", headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in options.headers

    app, _ = _app(origins=("https://hrss.example",))
    with TestClient(app) as client:
        allowed = client.get("/v1/things/1", headers={"Origin": "https://hrss.example"})
        other = client.get("/v1/things/1", headers={"Origin": "https://evil.example"})
    assert allowed.headers["access-control-allow-origin"] == "https://hrss.example"
    assert "access-control-allow-origin" not in other.headers


def test_cors_wildcard_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="not '\\*'"):
        _app(origins=("*",))


def test_rate_limit_per_client_answers_429_with_retry_after() -> None:
    policy = RateLimitPolicy(client_rate=1, client_burst=3, anonymous_rate=1, anonymous_burst=2)
    app, key = _app(policy)
    alice = {"Authorization": f"Bearer {_token(key, 'alice')}"}
    bob = {"Authorization": f"Bearer {_token(key, 'bob')}"}
    forged = {"Authorization": f"Bearer {_token(ed25519.Ed25519PrivateKey.generate(), 'bob')}"}
    with TestClient(app) as client:
        alice_codes = [client.get("/v1/things/1", headers=alice).status_code for _ in range(4)]
        # a token for "bob" signed by another key is anonymous: it cannot spend bob's bucket
        forged_codes = [client.get("/v1/things/1", headers=forged).status_code for _ in range(3)]
        bob_codes = [client.get("/v1/things/1", headers=bob).status_code for _ in range(3)]
        refused = client.get("/v1/things/1", headers=alice)
        health = [client.get("/metrics").status_code for _ in range(5)]
    assert alice_codes == [200, 200, 200, 429]
    assert forged_codes == [200, 200, 429]
    assert bob_codes == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "1"
    body: dict[str, Any] = refused.json()
    assert body["code"] == "rate_limited"
    assert body["detail"] == {"retry_after": 1, "limited_by": "client"}
    assert set(body) == {"code", "message", "detail"}
    assert refused.headers["x-request-id"]
    assert health == [200] * 5


def test_token_bucket_refills_at_its_rate() -> None:
    buckets = TokenBuckets(rate=10, burst=2, max_keys=2)
    assert buckets.take("a", now=0.0) == 0.0
    assert buckets.take("a", now=0.0) == 0.0
    assert buckets.take("a", now=0.0) == pytest.approx(0.1)
    assert buckets.take("a", now=0.1) == 0.0
    buckets.take("b", now=0.1)
    buckets.take("c", now=0.1)
    assert len(buckets._buckets) == 2


def test_rate_limits_default_on_outside_dev_mode_and_off_in_it() -> None:
    production = Settings(
        dev_mode=False, keystore_passphrase="x" * 12, chain_rpc_urls="http://127.0.0.1:8545"
    )
    dev = Settings(dev_mode=True)
    assert rate_limit_policy(production).client_rate == 100
    assert rate_limit_policy(production).anonymous_rate == 20
    assert rate_limit_policy(dev).client_rate == 0
    assert Settings(
        dev_mode=True, cors_allow_origins="https://a, https://b"
    ).cors_allow_origins == (
        "https://a",
        "https://b",
    )


def test_metrics_report_the_anchoring_outbox(tmp_path: Any) -> None:
    from credential_service.anchoring.outbox import NewItem, insert_items
    from credential_service.persistence import create_database_engine, migrate

    engine = create_database_engine(f"sqlite:///{tmp_path / 'o.db'}")
    migrate(engine)
    with engine.begin() as connection:
        insert_items(
            connection,
            organisation_id=1,
            algorithm="sha256",
            items=[NewItem(digest=bytes([i]) * 32, document_type="doc") for i in range(5)],
        )
    app, _ = _app()
    app.state.context.engine = engine
    with TestClient(app) as client:
        text = client.get("/metrics").text
    assert 'hrss_anchoring_items{state="submitted"} 5' in text
    assert "# TYPE hrss_anchoring_batch_size_leaves histogram" in text
    engine.dispose()


def _access_entries(stream: io.StringIO) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in stream.getvalue().splitlines()]
    return [e for e in entries if e["logger"] == "credential_service.access"]


def test_a_request_id_carrying_personal_data_is_replaced_and_never_logged(
    captured: io.StringIO,
) -> None:
    app, _ = _app()
    with TestClient(app) as client:
        for given in ("11010519491231002X", "13812345678", "call-13812345678"):
            response = client.get("/v1/things/1", headers={"X-Request-ID": given})
            assert response.headers["x-request-id"] != given
            assert len(response.headers["x-request-id"]) == 32
    text = captured.getvalue()
    assert "11010519491231002X" not in text and "13812345678" not in text
    assert len(_access_entries(captured)) == 3


def test_access_lines_carry_only_closed_set_fields(captured: io.StringIO) -> None:
    app, _ = _app()
    with TestClient(app) as client:
        client.get("/v1/things/11010519491231002X", headers={"X-Request-ID": "trace-7"})
        client.request("PROPFIND", "/v1/things/13812345678")
        client.get("/nowhere/13812345678")
    first, odd, unmatched = _access_entries(captured)
    assert first["message"] == "GET /v1/things/{thing_id} 200"
    assert first["route"] == "/v1/things/{thing_id}" and first["http_method"] == "GET"
    assert first["status"] == 200 and first["request_id"] == "trace-7"
    assert isinstance(first["duration_ms"], float) and first["error_code"] is None
    # the time field keeps the shape datetime.isoformat gives (milliseconds, UTC offset)
    assert datetime.fromisoformat(first["time"]).utcoffset() == timedelta(0)
    assert len(first["time"]) == len("2026-11-28T20:24:45.517+00:00")
    assert odd["http_method"] == "OTHER" and odd["message"].startswith("OTHER ")
    assert unmatched["route"] == "<unmatched>" and unmatched["status"] == 404
    text = captured.getvalue()
    assert "11010519491231002X" not in text and "13812345678" not in text
