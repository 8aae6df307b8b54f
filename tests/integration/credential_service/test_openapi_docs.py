"""What the OpenAPI document tells a client matches what the service does (#13.1, #13.5): the
labour-contract ``terms`` form fields are described with a valid example, ``document_type`` of
``POST /v1/anchors`` is explained, and ``GET /v1/consents/trust`` is shown keyed as it answers."""

from __future__ import annotations

import json
from typing import Any

from credential_service.labour.models import ContractTerms, NewVersionTerms
from tests.fixtures.organisations import ISSUER_URL
from tests.integration.credential_service.conftest import Service


def _form_field(spec: dict[str, Any], path: str, name: str) -> dict[str, Any]:
    body = spec["paths"][path]["post"]["requestBody"]["content"]["multipart/form-data"]
    schema = spec["components"]["schemas"][body["schema"]["$ref"].rsplit("/", 1)[1]]
    assert name in schema["required"]
    field: dict[str, Any] = schema["properties"][name]
    return field


def test_the_terms_form_fields_are_documented_with_examples_that_validate(
    service: Service,
) -> None:
    spec = service.client.get("/openapi.json").json()
    terms = _form_field(spec, "/v1/labour-contracts", "terms")
    members = ("employee_holder", "employee_did", "employee_name", "employee_id_number")
    for member in (*members, "hr_operator", "key_terms"):
        assert f"`{member}`" in terms["description"]
    [example] = terms["examples"]
    assert set(ContractTerms.model_validate(json.loads(example)).key_terms) == {
        "position", "term", "monthly_wage_fen",
    }  # fmt: skip
    version = _form_field(spec, "/v1/labour-contracts/{contract_id}/versions", "terms")
    for member in ("relation", "hr_operator", "key_terms"):
        assert f"`{member}`" in version["description"]
    NewVersionTerms.model_validate(json.loads(version["examples"][0]))


def test_document_type_of_anchors_is_explained(service: Service) -> None:
    spec = service.client.get("/openapi.json").json()
    content = spec["paths"]["/v1/anchors"]["post"]["requestBody"]["content"]
    json_schema = content["application/json"]["schema"]
    assert "document_type" in json_schema["required"]
    described = json_schema["properties"]["document_type"]
    assert "labour-contract" in described["description"]
    assert described["examples"]
    multipart = content["multipart/form-data"]["schema"]["properties"]["document_type"]
    assert multipart["description"] == described["description"]


def test_the_trust_document_is_shown_keyed_as_the_service_answers(service: Service) -> None:
    spec = service.client.get("/openapi.json").json()
    example = spec["paths"]["/v1/consents/trust"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["example"]
    answer = service.client.get("/v1/consents/trust").json()
    assert list(answer) == [ISSUER_URL]  # keyed by the issuer URL, not by a member "issuer"
    [documented_issuer] = example
    assert documented_issuer.startswith("http")
    assert [set(k) for k in example[documented_issuer]] == [set(k) for k in answer[ISSUER_URL]]
