"""The running service of ``tests/integration/credential_service`` (one per database backend),
with an in-process anchoring batcher on the service's own chain and database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from credential_service.anchoring.batcher import Batcher, BatchPolicy
from credential_service.anchoring.chain import NodeAnchorLedger
from credential_service.anchoring.worker import _ensure_anchoring_account
from node_adapter import Signer
from tests.integration.credential_service.conftest import (  # noqa: F401  (fixtures)
    Service,
    service,
    service_backend,
    service_chain,
)


@pytest.fixture(scope="session")
def service_batcher(service: Service) -> Batcher:  # noqa: F811
    """A batcher for the service, its account made an anchoring account of the Ministry."""
    context = service.context
    ledger = context.ledger
    chain, deployment = ledger.chain, ledger.deployment  # type: ignore[attr-defined]
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
        owner=f"api-test-{service.backend}",
        policy=BatchPolicy(max_age=timedelta(0)),
    )
