"""The running service of ``tests/integration/credential_service`` (one per database backend),
with a credential runtime that reads new blocks only when a test asks (`Service.fresh`)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from credential_service.anchoring.batcher import Batcher, BatchPolicy
from credential_service.anchoring.chain import NodeAnchorLedger
from credential_service.anchoring.worker import _ensure_anchoring_account
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.models import OrganisationKind
from node_adapter import Signer
from tests.integration.credential_service.conftest import (  # noqa: F401  (fixtures)
    Service,
    service,
    service_backend,
    service_chain,
)


@pytest.fixture(scope="session")
def runtime(service: Service) -> Iterator[CredentialRuntime]:  # noqa: F811
    built = CredentialRuntime.from_service(service.context, follow_interval=None)
    service.client.app.state.credential_runtime = built  # type: ignore[attr-defined]
    yield built
    built.close()


@pytest.fixture(scope="session")
def batcher(service: Service) -> Batcher:  # noqa: F811
    """The anchoring pipeline's batcher on the service's chain and database, anchoring as the
    Ministry (as `tests/integration/credential_service/anchoring` sets it up)."""
    context = service.context
    chain, deployment = context.ledger.chain, context.ledger.deployment  # type: ignore[attr-defined]
    signer = Signer.generate()
    _ensure_anchoring_account(
        chain=chain,
        deployment=deployment,
        keystore=context.keystore,
        signer=signer,
        credit_code=context.settings.ministry_credit_code,
    )
    return Batcher(
        engine=context.engine,
        ledger=NodeAnchorLedger(
            chain=chain, registry_address=deployment.anchor_registry, signer=signer
        ),
        owner=f"credentials-test-{service.backend}",
        policy=BatchPolicy(max_age=timedelta(0)),
    )


def client_of(service: Service, role: OrganisationKind) -> str:  # noqa: F811
    return service.credential(role).client_id


def post(service: Service, client_id: str, path: str, body: Any) -> Any:  # noqa: F811
    return service.client.post(path, json=body, headers=service.headers(client_id))


@pytest.fixture(scope="module")
def accredited(service: Service, runtime: CredentialRuntime) -> dict[str, str]:  # noqa: F811
    """The demo school accredited (by Guangdong) for diplomas and training records."""
    province = client_of(service, OrganisationKind.PROVINCE)
    school = client_of(service, OrganisationKind.ISSUER)
    for term in ("TechnicalSchoolDiploma", "TrainingRecord"):
        allow_type(service, province, term, school)
    return {"province": province, "school": school}


def allow_type(service: Service, accreditor: str, term: str, issuer: str) -> None:  # noqa: F811
    """`accreditor` accredits `issuer` for the credential type `term` through the API."""
    response = service.client.put(
        f"/v1/credential-types/{term}/issuers/{issuer}",
        json={"allowed": True},
        headers=service.headers(accreditor),
    )
    assert response.status_code == 200, response.text
