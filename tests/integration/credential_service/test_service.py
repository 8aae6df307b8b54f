"""App factory, health, docs, the demo bootstrap, and startup from settings alone."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from credential_service import Settings, create_app
from credential_service.bootstrap import bootstrap_demo
from credential_service.context import ServiceContext
from credential_service.errors import ConfigurationError, LedgerUnavailable
from credential_service.keystore import FileKeystore
from credential_service.models import OrganisationKind
from credential_service.services.chain import NodeTrustLedger
from node_adapter import Chain, Signer

from .conftest import ASSERTION_TYPE, ISSUER_URL, Service, open_service, sign_assertion


def test_health_and_readiness(service: Service) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": "ok", "chain": "ok"}


def test_openapi_and_docs(service: Service) -> None:
    assert service.client.get("/docs").status_code == 200
    spec = service.client.get("/openapi.json").json()
    assert (
        "/v1/auth/token" in spec["paths"]
        and "/v1/organisations/{credit_code}/keys" in spec["paths"]
    )


def test_demo_bootstrap_is_idempotent_and_its_credentials_work(
    tmp_path: Path, database_url: str, service_chain: Chain
) -> None:
    context, settings = open_service(
        backend="", database_url=database_url, directory=tmp_path, chain=service_chain
    )
    try:
        first = bootstrap_demo(
            context, client_keystore_path=tmp_path / "c.ks", client_passphrase="pw"
        )
        again = bootstrap_demo(
            context, client_keystore_path=tmp_path / "c.ks", client_passphrase="pw"
        )
        assert first == again
        roles = [c.role for c in first]
        assert roles[0] == OrganisationKind.MINISTRY and set(roles) == set(OrganisationKind)
        assert roles.count(OrganisationKind.PROVINCE) == 2
        employer = next(c for c in first if c.role == OrganisationKind.EMPLOYER)
        keystore = FileKeystore.open(employer.keystore_path, "pw")
        key = keystore.get(employer.keystore_entry)
        private = key.private_jwk() | {"kid": employer.key_id}
        with TestClient(create_app(settings, context=context), base_url=ISSUER_URL) as client:
            response = client.post(
                "/v1/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_assertion_type": ASSERTION_TYPE,
                    "client_assertion": sign_assertion(private, client_id=employer.client_id),
                },
            )
        assert response.status_code == 200, response.text
        claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
        assert claims["role"] == "employer"
    finally:
        context.close()


def test_app_opens_its_own_context_from_settings(tmp_path: Path, database_url: str) -> None:
    """No context given: the lifespan migrates, unlocks, starts the in-process chain (dev
    mode), deploys the registries and writes the deployment file."""
    settings = Settings(
        dev_mode=True,
        database_url=database_url,
        keystore_path=tmp_path / "ks",
        keystore_passphrase=SecretStr("pw"),
        deployment_path=tmp_path / "deployment.json",
    )
    with TestClient(create_app(settings)) as client:
        assert client.get("/readyz").status_code == 200
    assert (tmp_path / "deployment.json").exists()


def test_readiness_fails_when_the_chain_is_unreachable(tmp_path: Path, database_url: str) -> None:
    """A real JSON-RPC chain on a port nobody listens on: /readyz answers 503, not 500."""
    settings = Settings(
        dev_mode=True,
        database_url=database_url,
        keystore_path=tmp_path / "ks",
        keystore_passphrase=SecretStr("pw"),
    )
    context = ServiceContext.open(settings, chain=Chain.embedded())
    try:
        dead = NodeTrustLedger(
            chain=Chain.from_urls(["http://127.0.0.1:9"], timeout=1.0),
            keystore=context.keystore,
            deployer=Signer.generate(),
        )
        context.ledger = dead
        with TestClient(create_app(settings, context=context)) as client:
            response = client.get("/readyz")
        assert response.status_code == 503
        assert response.json()["code"] == "not_ready"
        assert response.json()["detail"] == {"database": "ok", "chain": "unreachable"}
    finally:
        context.close()


def test_startup_without_a_chain_outside_dev_mode_is_a_configuration_error(
    tmp_path: Path, database_url: str
) -> None:
    settings = Settings(
        dev_mode=False,
        database_url=database_url,
        keystore_path=tmp_path / "ks",
        keystore_passphrase=SecretStr("pw"),
        chain_rpc_urls=("http://127.0.0.1:9",),
    )
    with pytest.raises(LedgerUnavailable):
        ServiceContext.open(settings)


def test_a_fresh_deployment_under_an_old_database_is_refused(
    tmp_path: Path, database_url: str
) -> None:
    """Restarting on a new in-process chain with a database of the old one would leave every
    organisation missing on chain: startup refuses instead."""
    settings = Settings(
        dev_mode=True,
        database_url=database_url,
        keystore_path=tmp_path / "ks",
        keystore_passphrase=SecretStr("pw"),
    )
    ServiceContext.open(settings, chain=Chain.embedded()).close()
    with pytest.raises(ConfigurationError, match="another registry deployment"):
        ServiceContext.open(settings, chain=Chain.embedded())
