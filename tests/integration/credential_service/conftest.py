"""A running service per database backend for the session: fresh database, fresh keystore,
registries freshly deployed on an in-process chain, demo organisations bootstrapped."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr

from credential_service import Settings, create_app
from credential_service.bootstrap import DemoCredential, bootstrap_demo, load_client_key
from credential_service.context import ServiceContext
from credential_service.keystore import FileKeystore
from credential_service.models import OrganisationKind
from node_adapter import Chain
from tests.fixtures.database import BACKENDS
from tests.fixtures.organisations import (  # noqa: F401  (re-exported for the tests here)
    ASSERTION_TYPE,
    ISSUER_URL,
    TOKEN_URL,
    fresh_credit_code,
    sign_assertion,
)

MAX_BODY = 64 * 1024


@pytest.fixture(scope="session")
def service_chain() -> Chain:
    """One in-process EVM for the session; every service deploys its own registries on it."""
    return Chain.embedded()


@dataclass
class Service:
    backend: str
    context: ServiceContext
    client: TestClient
    credentials: dict[OrganisationKind, DemoCredential]
    clients_keystore: FileKeystore
    by_id: dict[str, DemoCredential]

    def credential(self, role: OrganisationKind, index: int = 0) -> DemoCredential:
        return [c for c in self.by_id.values() if c.role == role][index]

    def private_jwk(self, client_id: str) -> dict[str, str]:
        return load_client_key(self.clients_keystore, client_id)

    def assertion(self, client_id: str, **kwargs: Any) -> str:
        return sign_assertion(self.private_jwk(client_id), client_id=client_id, **kwargs)

    def token_request(self, client_id: str, *, assertion: str | None = None, **form: str) -> Any:
        data = {
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion or self.assertion(client_id),
            **form,
        }
        return self.client.post("/v1/auth/token", data=data)

    def token(self, client_id: str, **form: str) -> str:
        response = self.token_request(client_id, **form)
        assert response.status_code == 200, response.text
        token: str = response.json()["access_token"]
        return token

    def headers(self, client_id: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(client_id)}"}


def open_service(
    *, backend: str, database_url: str, directory: Path, chain: Chain
) -> tuple[ServiceContext, Settings]:
    settings = Settings(
        dev_mode=True,
        database_url=database_url,
        keystore_path=directory / "service.keystore",
        keystore_passphrase=SecretStr("integration-test-passphrase"),
        issuer_url=ISSUER_URL,
        max_body_bytes=MAX_BODY,
    )
    return ServiceContext.open(settings, chain=chain), settings


@pytest.fixture(scope="session", params=BACKENDS)
def service_backend(request: pytest.FixtureRequest) -> str:
    backend: str = request.param
    return backend


@pytest.fixture(scope="session")
def service(
    service_backend: str,
    database_url_factory: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    service_chain: Chain,
) -> Iterator[Service]:
    directory = tmp_path_factory.mktemp("service")
    context, settings = open_service(
        backend=service_backend,
        database_url=database_url_factory(service_backend),
        directory=directory,
        chain=service_chain,
    )
    credentials = bootstrap_demo(
        context, client_keystore_path=directory / "clients.keystore", client_passphrase="demo"
    )
    clients_keystore = FileKeystore.open(directory / "clients.keystore", "demo")
    app = create_app(settings, context=context)
    with TestClient(app, base_url=ISSUER_URL) as client:
        yield Service(
            backend=service_backend,
            context=context,
            client=client,
            credentials={c.role: c for c in reversed(credentials)},  # first of each role
            clients_keystore=clients_keystore,
            by_id={c.client_id: c for c in credentials},
        )
    context.close()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under ``--dist loadgroup`` keep the tests of this directory (not of the subpackages
    below it, which group their own) on one worker, so the session-scoped services (one
    bootstrap per backend) are built once, not once per worker."""
    here = Path(__file__).parent
    for item in items:
        if item.path.parent == here:
            item.add_marker(pytest.mark.xdist_group("credential_service"))
