"""Deeply nested JSON against the real service (`credential_service.api.serve`, 2 workers, a
real anvil): every route that takes a JSON body, and the evidence upload, refuse 1 MiB of
nesting with 400 ``too_deep``, and the same worker processes still serve afterwards.

Before the nesting limit, 200 KB of ``[`` killed a worker with SIGSEGV in the C JSON decoder
(the chain libraries had raised the recursion limit to 100,000): the supervisor replaced it,
so only the worker pids show the crash.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from node_adapter import AnvilProcess
from node_adapter.anvil import _free_port as free_port
from scripts.bench_http import Service, prepare, service_environment, start_service
from scripts.faults import api_workers
from wallet_sdk.nesting import MAX_JSON_DEPTH

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

MIB = 1024 * 1024
NESTED = b"[" * (MIB // 2) + b"]" * (MIB // 2)  # 1 MiB, the default body limit
_BODY_METHODS = ("post", "put", "patch", "delete")


@pytest.fixture
def service(anvil: AnvilProcess, tmp_path: Path) -> Iterator[Service]:
    port = free_port()
    environment = service_environment(
        database_url=f"sqlite:///{tmp_path / 'hrss.db'}",
        chain_url=anvil.url,
        directory=tmp_path,
        port=port,
    )
    prepare(environment, tmp_path)
    started = start_service(environment, port=port, directory=tmp_path)
    try:
        yield started
    finally:
        started.stop()


def _json_operations(openapi: dict[str, object]) -> list[tuple[str, str]]:
    """(method, path) of every operation with a JSON request body, path parameters filled."""
    operations = []
    paths = openapi["paths"]
    assert isinstance(paths, dict)
    for path, item in paths.items():
        for method in _BODY_METHODS:
            content = item.get(method, {}).get("requestBody", {}).get("content", {})
            if "application/json" in content:
                operations.append((method.upper(), re.sub(r"\{[^}]+\}", "x", path)))
    return operations


def test_every_json_route_refuses_a_mebibyte_of_nesting_and_keeps_serving(
    service: Service,
) -> None:
    workers = set(api_workers(service.process.pid))
    assert len(workers) == 2
    with httpx.Client(base_url=service.base, timeout=30) as client:
        operations = _json_operations(client.get("/openapi.json").json())
        assert ("POST", "/v1/credentials/verify") in operations
        assert len(operations) >= 10
        for method, path in operations:
            answer = client.request(
                method, path, content=NESTED, headers={"Content-Type": "application/json"}
            )
            assert answer.status_code == 400, (method, path, answer.text[:200])
            assert answer.json() == {
                "code": "too_deep",
                "message": "the request body nests arrays and objects deeper than "
                f"{MAX_JSON_DEPTH} levels",
                "detail": {"limit": MAX_JSON_DEPTH},
            }
        # without a Content-Type FastAPI decodes the body as JSON too
        bare = client.post("/v1/credentials/verify", content=NESTED)
        assert (bare.status_code, bare.json()["code"]) == (400, "too_deep")
        # an evidence package is a file upload, parsed by the SDK
        package = b'{"format": "hrss-evidence/1", "events": ' + NESTED[: 800 * 1024] + b"}"
        evidence = client.post("/v1/evidence/verify", files={"package": ("package.json", package)})
        assert evidence.status_code == 400, evidence.text[:200]
        assert evidence.json()["code"] == "too_deep"
        assert "the evidence package nests" in evidence.json()["message"]

        assert client.get("/healthz").status_code == 200
    assert service.process.poll() is None
    assert set(api_workers(service.process.pid)) == workers, "a worker died and was replaced"
