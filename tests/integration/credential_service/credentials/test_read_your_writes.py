"""What the service wrote to the chain and saw confirmed, its own verifier knows at once (#13.6):
a credential issued over HTTP verifies in the very next request, and so does one signed with a
key the service has just rotated to. Against `make run` (real anvil, real HTTP, the chain-state
follower polling every second as in production)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fixtures.running_service import RunningService, make_run_in_a_checkout
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT

pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.xdist_group("read-your-writes")]


@pytest.fixture(scope="module")
def running_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningService]:
    """A `make run` of this module's own, not the session's shared one: the test rotates the
    demo school's signing key, which the modules sharing that one rely on."""
    yield from make_run_in_a_checkout(tmp_path_factory)


def _post(service: RunningService, client_id: str, path: str, body: Any) -> httpx.Response:
    return httpx.post(
        f"{service.base}{path}", json=body, headers=service.headers(client_id), timeout=60
    )


def _issue(service: RunningService, school: str) -> dict[str, Any]:
    response = _post(
        service,
        school,
        "/v1/credentials",
        {"credentials": [{"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}]},
    )
    assert response.status_code == 201, response.text
    credential: dict[str, Any] = response.json()["credentials"][0]
    return credential


def _verify_at_once(service: RunningService, court: str, token: str) -> None:
    response = _post(service, court, "/v1/credentials/verify", {"credential": token})
    assert response.status_code == 200, response.text
    report = response.json()
    failed = [c for c in report["checks"] if c["status"] == "failed"]
    assert report["verified"], failed


def test_a_credential_the_service_issued_verifies_in_the_next_request(
    running_service: RunningService,
) -> None:
    school, court = running_service.client_id("issuer"), running_service.client_id("court")
    province = running_service.client_id("province")
    accredited = httpx.put(
        f"{running_service.base}/v1/credential-types/TechnicalSchoolDiploma/issuers/{school}",
        json={"allowed": True},
        headers=running_service.headers(province),
        timeout=60,
    )
    assert accredited.status_code == 200, accredited.text
    for _ in range(3):
        credential = _issue(running_service, school)
        _verify_at_once(running_service, court, credential["credential"])

    rotated = _post(running_service, school, "/v1/credentials/keys/rotate", {})
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()
    # The new key is valid from the second after the rotation; issue as soon as it is.
    while time.time() < new_key["valid_from"]:
        time.sleep(0.05)
    credential = _issue(running_service, school)
    assert credential["key_id"] == new_key["key_id"]
    _verify_at_once(running_service, court, credential["credential"])
