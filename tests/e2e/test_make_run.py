"""`make run` as a user meets it: the real script, a real anvil, the printed token command.

Starts `python -m scripts.run` (what `make run` runs) on free loopback ports with its own state
directory, waits for the banner, fetches `/docs`, runs the exact token command the banner
prints and calls the API with the token. Then it stops the service (SIGINT, like Ctrl-C),
starts it again and checks that the same chain state, registries and organisations are back.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.fixtures.running_service import (
    REPO,
    RunningService,
    environment_without_hrss,
    free_port,
)
from wallet_sdk.jose import read_unverified_header

pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.xdist_group("make-run")]


def _token_command(service: RunningService) -> list[str]:
    lines = service.banner.splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("get an access token"))
    return shlex.split(lines[index + 1])


def _run_printed_command(argv: list[str]) -> subprocess.CompletedProcess[str]:
    env_assignments = [a for a in argv if re.match(r"^[A-Z_]+=", a)]
    command = argv[len(env_assignments) :]
    env = environment_without_hrss()
    env.update(dict(a.split("=", 1) for a in env_assignments))
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def test_make_run_serves_docs_and_the_printed_credentials_obtain_a_token(tmp_path: Path) -> None:
    port, chain_port = free_port(), free_port()
    service = RunningService(tmp_path, port, chain_port)
    try:
        base = f"http://127.0.0.1:{port}"
        assert service.field("API") == base
        docs = httpx.get(f"{base}/docs", timeout=10)
        assert docs.status_code == 200
        assert "swagger" in docs.text.lower()
        assert httpx.get(f"{base}/openapi.json", timeout=10).json()["paths"]

        result = _run_printed_command(_token_command(service))
        assert result.returncode == 0, result.stderr
        token = result.stdout.strip()
        assert token.count(".") == 2

        me = httpx.get(
            f"{base}/v1/organisations/me", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )
        assert me.status_code == 200, me.text
        assert me.json()["kind"] == "court"
        assert httpx.get(f"{base}/v1/organisations/me", timeout=10).status_code == 401
        first_registry = service.field("TrustRegistry")
    finally:
        service.stop()

    again = RunningService(tmp_path, port, chain_port)
    try:
        assert again.field("TrustRegistry") == first_registry
        result = _run_printed_command(_token_command(again))
        assert result.returncode == 0, result.stderr
    finally:
        again.stop()


def _rpc(url: str, method: str, params: list[object]) -> object:
    answer = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": params}, timeout=10
    )
    return answer.json()["result"]


def test_make_run_on_a_zero_gas_chain_without_funded_accounts(tmp_path: Path) -> None:
    """`make run RUN_ARGS=--zero-gas`: gas price and base fee 0 and no development account, as
    the Besu genesis configures the production chain; the service deploys and accredits the
    demo organisations from accounts that never had a balance, and serves."""
    port, chain_port = free_port(), free_port()
    service = RunningService(tmp_path, port, chain_port, ("--zero-gas",))
    try:
        assert "zero gas" in service.banner
        node = f"http://127.0.0.1:{chain_port}"
        assert _rpc(node, "eth_accounts", []) == []
        assert int(str(_rpc(node, "eth_gasPrice", [])), 16) == 0
        latest = _rpc(node, "eth_getBlockByNumber", ["latest", False])
        assert isinstance(latest, dict) and int(latest["baseFeePerGas"], 16) == 0
        assert _rpc(node, "eth_getCode", [service.field("TrustRegistry"), "latest"]) != "0x"
        result = _run_printed_command(_token_command(service))
        assert result.returncode == 0, result.stderr
        me = httpx.get(
            f"http://127.0.0.1:{port}/v1/organisations/me",
            headers={"Authorization": f"Bearer {result.stdout.strip()}"},
            timeout=10,
        )
        assert me.status_code == 200, me.text
        assert me.json()["status"] == "active"
    finally:
        service.stop()


def test_make_run_in_the_national_profile(tmp_path: Path) -> None:
    """`make run RUN_ARGS="--profile national"`: the service signs its access tokens SM2SM3
    and seals the keys it makes with SM4-GCM; the state directory keeps its profile, and
    starting it under the other one is refused before anything starts."""
    service = RunningService(tmp_path, extra_args=("--profile", "national"))
    try:
        assert service.field("crypto profile") == "national"
        result = _run_printed_command(_token_command(service))
        assert result.returncode == 0, result.stderr
        token = result.stdout.strip()
        assert read_unverified_header(token)["alg"] == "SM2SM3"
        me = httpx.get(
            f"{service.base}/v1/organisations/me",
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert me.status_code == 200, me.text
        entries = json.loads((tmp_path / "service.keystore").read_text())["keys"]
        token_entry = next(e for e in entries if e["kid"] == "service/token-signing")
        assert token_entry["cipher"] == "SM4-GCM" and token_entry["alg"] == "SM2SM3"
    finally:
        service.stop()
    refused = subprocess.run(
        [sys.executable, "-m", "scripts.run", "--var", str(tmp_path), "--profile",
         "international", "--port", str(free_port()), "--chain-port", str(free_port())],
        cwd=REPO, env=environment_without_hrss(), capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert refused.returncode == 2
    assert "holds a deployment of the national profile" in refused.stderr
