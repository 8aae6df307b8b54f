"""Generated requests to ``/v1/anchors`` (valid and invalid, with and without a token) never
produce a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from credential_service.models import OrganisationKind
from tests.integration.credential_service.anchoring.conftest import Service

# With the service tests on one xdist worker, so the session's services are built once.
pytestmark = pytest.mark.xdist_group("credential_service")


def test_no_generated_anchoring_request_produces_a_server_error(service: Service) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", service.client.app).include(
        path_regex="^/v1/anchors"
    )
    cases = st.one_of(
        schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
        schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    employer = service.credentials[OrganisationKind.EMPLOYER].client_id
    bearer = {"Authorization": f"Bearer {service.token(employer)}"}
    seen: set[int] = set()

    @given(case=cases, authenticated=st.booleans())
    @settings(
        max_examples=80, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case, authenticated: bool) -> None:  # type: ignore[no-untyped-def]
        response = case.call(headers=bearer if authenticated else None)
        seen.add(response.status_code)
        assert response.status_code < 500, (case.as_curl_command(), response.text)

    run()
    assert len(seen) > 2, seen
