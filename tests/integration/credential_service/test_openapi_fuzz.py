"""Property-based run over the OpenAPI spec: generated requests, valid and invalid, with and
without a real access token, never produce a 5xx."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from credential_service.models import OrganisationKind

from .conftest import Service


def test_no_generated_request_produces_a_server_error(service: Service) -> None:
    app = service.client.app
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    cases = st.one_of(
        schema.as_strategy(generation_mode=GenerationMode.POSITIVE),
        schema.as_strategy(generation_mode=GenerationMode.NEGATIVE),
    )
    province = service.credentials[OrganisationKind.PROVINCE].client_id
    bearer = {"Authorization": f"Bearer {service.token(province)}"}

    @given(case=cases, authenticated=st.booleans())
    @settings(
        max_examples=100,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def run(case, authenticated: bool) -> None:  # type: ignore[no-untyped-def]
        response = case.call(headers=bearer if authenticated else None)
        seen.add(response.status_code)
        assert response.status_code < 500, (case.as_curl_command(), response.text)

    seen: set[int] = set()
    run()
    assert len(seen) > 3, seen  # the run reached the app with varied requests
