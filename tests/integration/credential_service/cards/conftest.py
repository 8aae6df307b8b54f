"""The service of ``tests/integration/credential_service`` with its credential runtime."""

from tests.integration.credential_service.credentials.conftest import (  # noqa: F401  (fixtures)
    Service,
    runtime,
    service,
    service_backend,
    service_chain,
)
