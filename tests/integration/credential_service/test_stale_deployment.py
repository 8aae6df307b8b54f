"""A saved deployment on a chain that no longer holds it (the node was reset, its state lost):
`/readyz` of a running service says ``deployment_missing`` instead of ready, and neither the
service nor the anchoring worker starts on it; they stop with a configuration error that says
how to start afresh, instead of retrying forever."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from credential_service import Settings, create_app
from credential_service.anchoring.worker import AnchoringWorker
from credential_service.context import ServiceContext
from credential_service.core.config import AnchoringSettings
from credential_service.errors import ConfigurationError, ErrorCode
from node_adapter import AnvilProcess
from node_adapter.anvil import _free_port

pytestmark = pytest.mark.anvil


def _settings(tmp_path: Path, port: int) -> Settings:
    return Settings(
        dev_mode=True,
        database_url=f"sqlite:///{tmp_path / 'hrss.db'}",
        keystore_path=tmp_path / "service.keystore",
        keystore_passphrase=SecretStr("stale-passphrase"),
        deployment_path=tmp_path / "deployment.json",
        chain_rpc_urls=(f"http://127.0.0.1:{port}",),
        chain_startup_wait_seconds=5.0,
    )


def test_a_chain_reset_under_a_saved_deployment_is_not_ready_and_not_started(
    tmp_path: Path, anvil_process_factory: Callable[..., AnvilProcess]
) -> None:
    port = _free_port()
    node = anvil_process_factory(port=port)
    settings = _settings(tmp_path, port)
    context = ServiceContext.open(settings)  # deploys, saves the deployment
    try:
        with TestClient(create_app(settings, context=context)) as client:
            assert client.get("/readyz").status_code == 200
            node.kill()
            anvil_process_factory(port=port)  # the same port, a fresh chain
            answer = client.get("/readyz")
    finally:
        context.close()
    assert answer.status_code == 503
    assert answer.json() == {
        "code": "not_ready",
        "message": "not ready",
        "detail": {"database": "ok", "chain": "deployment_missing"},
    }

    with pytest.raises(ConfigurationError) as refused:
        ServiceContext.open_waiting_for_chain(settings)
    assert refused.value.code is ErrorCode.CONFIGURATION_INVALID
    assert refused.value.message.startswith(
        "chain 31337 does not hold this deployment: no TrustRegistry, AnchorRegistry, "
        "StatusRegistry, ConsentRegistry code at its address"
    )
    assert "rm -rf var" in refused.value.message
    assert refused.value.detail == {"deployment_path": str(settings.deployment_path)}

    with pytest.raises(ConfigurationError, match="does not hold this deployment") as worker:
        AnchoringWorker.open(settings, AnchoringSettings())
    assert "rm -rf var" in worker.value.message
