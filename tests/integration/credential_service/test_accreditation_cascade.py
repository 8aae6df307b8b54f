"""An organisation is active only while its whole accreditation path is (#11.4).

The Ministry suspends Guangdong: Guangdong's employer, school and court, and (by Zhejiang's
suspension) Zhejiang's data user, are refused every action, with tokens they held before and
with new token requests; reinstating the provinces restores them. A service of its own, since
it suspends the demo provinces.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from credential_service.bootstrap import GUANGDONG, ZHEJIANG
from credential_service.models import OrganisationKind
from credential_service.services.tokens import OrganisationStandingCache
from tests.fixtures.organisations import sign_assertion
from tests.integration.credential_service.labour.harness import (
    DOCUMENT,
    KEY_TERMS,
    LabourService,
    open_labour_service,
)
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT
from wallet_sdk.jose import Curve, Jwk

UNAUTHENTICATED = {"code": "unauthenticated", "message": "authentication required", "detail": None}


@pytest.fixture(scope="module")
def cascade_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabourService]:
    yield from open_labour_service(tmp_path_factory.mktemp("cascade"))


class Parties:
    """The demo organisations' client ids and private JWKs, by role."""

    def __init__(self, service: LabourService) -> None:
        self.service = service
        self.jwks: dict[str, dict[str, str]] = {}
        self.ids: dict[OrganisationKind, str] = {}
        for kind in OrganisationKind:
            code, jwk = service.organisation(kind)
            self.ids[kind], self.jwks[code] = code, jwk

    def token_request(self, client_id: str) -> Any:
        return self.service.client.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": sign_assertion(self.jwks[client_id], client_id=client_id),
            },
        )

    def headers(self, role: OrganisationKind) -> dict[str, str]:
        response = self.token_request(self.ids[role])
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    def set_status(self, province: str, status: str) -> None:
        response = self.service.client.post(
            f"/v1/organisations/{province}/status",
            json={"status": status, "reason": 3},
            headers=self.headers(OrganisationKind.MINISTRY),
        )
        assert response.status_code == 200, response.text


def _actions(
    service: LabourService, held: dict[OrganisationKind, dict[str, str]], contract: dict[str, Any]
) -> dict[str, Callable[[], Any]]:
    """Every action of the provinces' children, each with the token its party held, to run."""
    employer, school = held[OrganisationKind.EMPLOYER], held[OrganisationKind.ISSUER]
    client = service.client
    wallet = service.wallet(card=False)  # no e-card: its issuer may be suspended by now
    named = service.people[wallet.did]
    record = service.pending_record(contract)
    from wallet_sdk.evidence import sign_as_employer

    signature = sign_as_employer(
        record, key=service.employer_key, entity_id=service.employer_entity
    )
    new_key = Jwk.generate(Curve.ED25519).public_jwk()
    return {
        "anchor": lambda: client.post(
            "/v1/anchors",
            json={"document_type": "labour_contract", "digests": ["0x" + os.urandom(32).hex()]},
            headers=employer,
        ),
        "consent_request": lambda: client.post(
            "/v1/consent-requests",
            json={
                "purposes": ["recruitment"],
                "data_categories": ["identity"],
                "duration_seconds": 3600,
                "contact": "privacy@data-user.example.cn",
                "subject_id_number": "110101199003071233",
                "notice": "Checking the applicant.",
                "subject_reference": "applicant 42",
            },
            headers=held[OrganisationKind.DATA_USER],
        ),
        "credential_issue": lambda: client.post(
            "/v1/credentials",
            json={"credentials": [{"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}]},
            headers=school,
        ),
        "contract_create": lambda: client.post(
            "/v1/labour-contracts",
            files={"document": ("contract.pdf", DOCUMENT, "application/pdf")},
            data={
                "terms": json.dumps(
                    {
                        "employee_holder": wallet.address,
                        "employee_did": wallet.did,
                        "employee_name": named["name"],
                        "employee_id_number": named["idNumber"],
                        "hr_operator": "HR-007",
                        "key_terms": KEY_TERMS,
                    }
                )
            },
            headers=employer,
        ),
        "contract_sign": lambda: client.post(
            f"/v1/labour-contracts/{contract['contract_id']}/signature",
            json={"jws": signature.jws},
            headers=employer,
        ),
        "key_registration": lambda: client.post(
            f"/v1/organisations/{service.employer}/keys",
            json={"jwk": {k: v for k, v in new_key.items() if k in ("kty", "crv", "x")}},
            headers=employer,
        ),
        "verify_from_cache": lambda: client.post(
            "/v1/credentials/verify",
            json={"credential": "not.a.credential"},
            headers=held[OrganisationKind.COURT],
        ),
    }


CHILDREN = (
    OrganisationKind.EMPLOYER,
    OrganisationKind.ISSUER,
    OrganisationKind.DATA_USER,
    OrganisationKind.COURT,
)


def test_a_suspended_province_suspends_its_children_for_every_action(
    cascade_service: LabourService,
) -> None:
    service = cascade_service
    parties = Parties(service)
    province_headers = parties.headers(OrganisationKind.PROVINCE)
    school = parties.ids[OrganisationKind.ISSUER]
    allowed = service.client.put(
        f"/v1/credential-types/TechnicalSchoolDiploma/issuers/{school}",
        json={"allowed": True},
        headers=province_headers,
    )
    assert allowed.status_code == 200, allowed.text
    held = {role: parties.headers(role) for role in CHILDREN}
    contract = service.upload(service.wallet())
    # the court's standing is in the cache before the suspension, and its entry would not
    # expire by itself (a stopped clock): only forgetting the province can drop it
    app = service.client.app
    app.state.standing_cache = OrganisationStandingCache(clock=lambda: 0.0)  # type: ignore[attr-defined]
    warm = _actions(service, held, contract)["verify_from_cache"]()
    assert warm.status_code == 200, warm.text

    parties.set_status(GUANGDONG, "suspended")
    parties.set_status(ZHEJIANG, "suspended")
    try:
        for role in CHILDREN:
            refused = parties.token_request(parties.ids[role])
            assert refused.status_code == 401, (role, refused.text)
            assert refused.json()["code"] == "client_suspended", (role, refused.text)
            assert "accreditor" in refused.json()["message"]
        for name, action in _actions(service, held, contract).items():
            answer = action()
            assert (answer.status_code, answer.json()) == (401, UNAUTHENTICATED), name
    finally:
        parties.set_status(GUANGDONG, "active")
        parties.set_status(ZHEJIANG, "active")
        del app.state.standing_cache  # type: ignore[attr-defined]

    restored = {role: parties.headers(role) for role in CHILDREN}
    answers = {name: action() for name, action in _actions(service, restored, contract).items()}
    assert {name: answer.status_code for name, answer in answers.items()} == {
        "anchor": 202,
        "consent_request": 201,
        "credential_issue": 201,
        "contract_create": 201,
        "contract_sign": 200,
        "key_registration": 201,
        "verify_from_cache": 200,
    }, {name: answer.text for name, answer in answers.items()}


def test_a_revoked_accreditor_is_named_at_the_token_endpoint(
    cascade_service: LabourService,
) -> None:
    """A new province with an employer under it; the Ministry revokes the province."""
    from tests.fixtures.organisations import accredit_through_api

    service = cascade_service
    parties = Parties(service)
    ministry = parties.headers(OrganisationKind.MINISTRY)
    province, province_jwk = accredit_through_api(
        service.client, ministry, name="测试省厅", kind="province", region=510000, prefix="11"
    )
    employer, employer_jwk = accredit_through_api(
        service.client,
        service.organisation_headers(province, province_jwk),
        name="测试用人单位",
        kind="employer",
        region=510100,
    )
    parties.jwks[employer] = employer_jwk
    assert parties.token_request(employer).status_code == 200
    revoked = service.client.post(
        f"/v1/organisations/{province}/status",
        json={"status": "revoked", "reason": 1},
        headers=ministry,
    )
    assert revoked.status_code == 200, revoked.text
    refused = parties.token_request(employer)
    assert refused.status_code == 401
    assert refused.json()["code"] == "client_revoked"
    assert province in refused.json()["message"]
