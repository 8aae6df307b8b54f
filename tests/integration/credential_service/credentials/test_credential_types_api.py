"""Credential types as data at run time (issue #14, item 6): the Ministry publishes a type
through the API, its schema digest is committed on chain, a province accredits an issuer for
it with the existing call, the issuer issues it and a verifier verifies it; the schema is
served at its ``$id`` and checks against the committed digest; a second worker (a fresh
runtime on the same database) knows the type without being told."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

import pytest

from credential_service.credentials.runtime import CredentialRuntime
from credential_service.models import OrganisationKind
from tests.integration.credential_service.conftest import ISSUER_URL, Service
from tests.integration.credential_service.credentials.conftest import client_of, post
from tests.unit.wallet_sdk.credentials import forge
from wallet_sdk.credentials import default_registry, fetch_type_schema, schema_url
from wallet_sdk.errors import VerificationError
from wallet_sdk.jcs import canonicalize
from wallet_sdk.jose import Curve, Jwk

WELDER_URL = f"{ISSUER_URL}/schemas/welder-certificate.json"
WELDER_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": WELDER_URL,
    "title": "焊工作业证 (welder certificate)",
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "name": {"type": "string", "minLength": 1, "maxLength": 64},
        "idNumber": {"type": "string", "pattern": "^[0-9]{17}[0-9X]$"},
        "grade": {"enum": ["junior", "senior"]},
        "processes": {"type": "array", "items": {"$ref": "#/$defs/process"}},
    },
    "$defs": {"process": {"enum": ["SMAW", "GTAW", "GMAW"]}},
    "required": ["name", "idNumber", "grade"],
    "additionalProperties": False,
}
WELDER_SUBJECT = {
    "name": "王五",
    "idNumber": "44010619900307121X",
    "grade": "senior",
    "processes": ["SMAW", "GTAW"],
}


def publication(schema: dict[str, Any] | None = None, **fields: Any) -> dict[str, Any]:
    body = {
        "schema": schema or WELDER_SCHEMA,
        "term": "WelderCertificate",
        "personal_identifiers": ["name", "idNumber"],
        "disclosable": ["/grade", "/processes/*"],
        "formats": ["vc+jwt", "vc+sd-jwt"],
    }
    body.update(fields)
    return body


def ministry(service: Service) -> str:
    return client_of(service, OrganisationKind.MINISTRY)


@pytest.fixture(scope="module")
def published(service: Service, runtime: CredentialRuntime) -> dict[str, Any]:
    response = post(service, ministry(service), "/v1/credential-types", publication())
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture(scope="module")
def welder_school(
    service: Service, runtime: CredentialRuntime, published: dict[str, Any]
) -> dict[str, str]:
    """The demo school accredited by its province for the new type, with the existing call."""
    province = client_of(service, OrganisationKind.PROVINCE)
    school = client_of(service, OrganisationKind.ISSUER)
    response = service.client.put(
        f"/v1/credential-types/WelderCertificate/issuers/{school}",
        json={"allowed": True},
        headers=service.headers(province),
    )
    assert response.status_code == 200, response.text
    assert response.json()["type_id"] == published["type_id"]
    return {"province": province, "school": school}


def test_the_ministry_publishes_a_type_and_its_digest_is_on_chain(
    published: dict[str, Any], runtime: CredentialRuntime
) -> None:
    schema = published["schema"]
    assert schema["x-hrss-type"] == "WelderCertificate"
    assert schema["x-hrss-disclosable"] == ["/grade", "/processes/*"]
    digest = hashlib.sha256(canonicalize(schema)).hexdigest()
    assert published["schema_digest"] == "0x" + digest
    assert published["schema_url"] == WELDER_URL and published["vct"] == WELDER_URL
    assert published["formats"] == ["vc+jwt", "vc+sd-jwt"] and published["tx_hash"]
    on_chain = runtime.clients.trust_registry.credential_type_schema(
        bytes.fromhex(published["type_id"][2:])
    )
    assert on_chain is not None and on_chain.schema_digest.hex() == digest
    assert on_chain.published_at == published["published_at"]


def test_the_builtin_types_are_published_the_same_way(
    service: Service, runtime: CredentialRuntime
) -> None:
    trust = runtime.clients.trust_registry
    for credential_type in default_registry():
        record = trust.credential_type_schema(credential_type.type_id)
        assert record is not None and record.schema_digest == credential_type.schema_digest
    listed = post(service, ministry(service), "/v1/credential-types", {}).status_code
    assert listed == 422  # a body without a schema
    response = service.client.get(
        "/v1/credential-types", headers=service.headers(client_of(service, OrganisationKind.COURT))
    )
    assert response.status_code == 200
    by_term = {t["term"]: t for t in response.json()}
    skill = by_term["VocationalSkillCertificate"]
    assert skill["schema_url"] == f"{ISSUER_URL}/schemas/vocational-skill-certificate-1.json"


def test_a_verifier_fetches_the_schema_at_its_id_and_checks_it(
    service: Service, published: dict[str, Any]
) -> None:
    def get(url: str) -> bytes:
        response = service.client.get(url)
        response.raise_for_status()
        return response.content

    committed = bytes.fromhex(published["schema_digest"][2:])
    fetched = fetch_type_schema(WELDER_URL, committed, get=get)
    assert fetched.term == "WelderCertificate"
    response = service.client.get(WELDER_URL)
    assert response.headers["content-type"] == "application/schema+json"
    assert response.headers["etag"] == f'"{published["schema_digest"]}"'
    assert "immutable" in response.headers["cache-control"]
    assert hashlib.sha256(response.content).hexdigest() == published["schema_digest"][2:]
    again = service.client.get(WELDER_URL, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and again.content == b""
    with pytest.raises(VerificationError, match="not the committed"):
        fetch_type_schema(WELDER_URL, hashlib.sha256(b"other").digest(), get=get)
    skill = default_registry().get("VocationalSkillCertificate")
    fetch_type_schema(schema_url(skill.vct, ISSUER_URL), skill.schema_digest, get=get)
    missing = service.client.get("/schemas/nothing-here.json")
    assert missing.status_code == 404 and missing.json()["code"] == "schema_not_found"


def test_an_accredited_issuer_issues_it_and_a_verifier_verifies_it(
    service: Service, runtime: CredentialRuntime, welder_school: dict[str, str]
) -> None:
    school, court = welder_school["school"], client_of(service, OrganisationKind.COURT)
    holder = Jwk.generate(Curve.ED25519)
    request = {
        "type": "WelderCertificate",
        "format": "vc+sd-jwt",
        "subject": WELDER_SUBJECT,
        "holder_jwk": holder.public_jwk(),
        "disclosable": ["/processes/*"],
    }
    response = post(service, school, "/v1/credentials", {"credentials": [request]})
    assert response.status_code == 201, response.text
    token = response.json()["credentials"][0]["credential"]
    runtime.trust_state.refresh()
    report = post(service, court, "/v1/credentials/verify", {"credential": token}).json()
    assert report["verified"] is True, report
    # The schema applies when issuing: a grade the schema does not allow is refused.
    bad = dict(request, subject={**WELDER_SUBJECT, "grade": "master"})
    response = post(service, school, "/v1/credentials", {"credentials": [bad]})
    assert response.status_code == 400 and response.json()["code"] == "credential_subject_invalid"


def test_the_verifier_checks_the_published_schema(
    service: Service, runtime: CredentialRuntime, welder_school: dict[str, str]
) -> None:
    """A token of the run-time type whose subject the schema does not allow fails `format`
    (checked first, before any chain lookup), naming the claim."""
    request = {"type": "WelderCertificate", "subject": WELDER_SUBJECT}
    response = post(service, welder_school["school"], "/v1/credentials", {"credentials": [request]})
    assert response.status_code == 201, response.text
    header, payload, _ = forge.split(response.json()["credentials"][0]["credential"])
    payload["credentialSubject"]["grade"] = "master"
    forged = forge.sign(header, payload, Jwk.generate(Curve.ED25519))
    court = client_of(service, OrganisationKind.COURT)
    report = post(service, court, "/v1/credentials/verify", {"credential": forged}).json()
    failed = [c for c in report["checks"] if c["status"] == "failed"]
    assert report["verified"] is False and failed[0]["check"] == "format", report
    assert "grade" in failed[0]["detail"], failed


@pytest.mark.parametrize(
    "body",
    [
        {"schema": {}},
        {"schema": {"type": "object", "properties": {}}, "term": "lower"},
        {"schema": WELDER_SCHEMA, "term": "WelderX", "personal_identifiers": ["nobody"]},
        {"schema": WELDER_SCHEMA, "term": "WelderX", "disclosable": ["not-a-pointer"]},
        {"schema": dict(WELDER_SCHEMA, properties={"a": {"pattern": "("}}), "term": "WelderX"},
        {"schema": dict(WELDER_SCHEMA, properties={"a": {"maximum": 2**60}}), "term": "WelderX"},
    ],
)
def test_odd_publications_are_400_never_500(service: Service, body: dict[str, Any]) -> None:
    response = post(service, ministry(service), "/v1/credential-types", body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "credential_type_invalid"


def test_a_type_is_issued_only_in_its_allowed_formats(
    service: Service, runtime: CredentialRuntime, welder_school: dict[str, str]
) -> None:
    schema = dict(WELDER_SCHEMA, **{"$id": f"{ISSUER_URL}/schemas/welder-sd-only.json"})
    body = publication(schema, term="WelderSdOnly", formats=["vc+sd-jwt"])
    assert post(service, ministry(service), "/v1/credential-types", body).status_code == 201
    province, school = welder_school["province"], welder_school["school"]
    accredit = service.client.put(
        f"/v1/credential-types/WelderSdOnly/issuers/{school}",
        json={"allowed": True},
        headers=service.headers(province),
    )
    assert accredit.status_code == 200, accredit.text
    request = {"type": "WelderSdOnly", "format": "vc+jwt", "subject": WELDER_SUBJECT}
    response = post(service, school, "/v1/credentials", {"credentials": [request]})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "credential_format_not_allowed"


def test_another_worker_knows_a_newly_published_type(
    service: Service, runtime: CredentialRuntime, published: dict[str, Any]
) -> None:
    """A fresh runtime on the same database (another worker, or this one after a restart)
    starts from the built-in types and reads the published one through on first use."""
    other = CredentialRuntime.from_service(service.context, follow_interval=None)
    try:
        assert "WelderCertificate" not in {t.term for t in other.types}  # not loaded eagerly
        known = other.types.get("WelderCertificate")
        assert known.schema_digest.hex() == published["schema_digest"][2:]
        assert "WelderCertificate" in {t.term for t in other.types}
    finally:
        other.close()


def test_the_registry_view_names_a_type_another_worker_published(
    service: Service, runtime: CredentialRuntime, welder_school: dict[str, str]
) -> None:
    """The profile of the accredited school names the new type, even from a worker whose
    registry has not loaded it."""
    other = CredentialRuntime.from_service(service.context, follow_interval=None)
    previous = service.client.app.state.credential_runtime  # type: ignore[attr-defined]
    service.client.app.state.credential_runtime = other  # type: ignore[attr-defined]
    try:
        court = client_of(service, OrganisationKind.COURT)
        response = service.client.get(
            f"/v1/registry/organisations/{welder_school['school']}",
            headers=service.headers(court),
        )
        assert response.status_code == 200, response.text
        assert "WelderCertificate" in {t["type"] for t in response.json()["credential_types"]}
        assert "WelderCertificate" not in {t.term for t in other.types}  # named from the table
    finally:
        service.client.app.state.credential_runtime = previous  # type: ignore[attr-defined]
        other.close()


def test_only_the_ministry_publishes(service: Service) -> None:
    province = client_of(service, OrganisationKind.PROVINCE)
    response = post(service, province, "/v1/credential-types", publication())
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {"type": "string"}
    for _ in range(levels):
        node = {"type": "object", "properties": {"x": node}}
    return node


def _with(*, extra: dict[str, Any] | None = None, **change: Any) -> dict[str, Any]:
    """The welder schema at another $id, with `change` and an `extra` property."""
    schema = copy.deepcopy(WELDER_SCHEMA)
    schema["$id"] = f"{ISSUER_URL}/schemas/broken.json"
    schema.update(change)
    schema["properties"].update(extra or {})
    return schema


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        (_with(extra={"a": {"$ref": "https://evil.example/x.json"}}), "refers outside"),
        (_with(extra={"a": {"type": "nonsense"}}), "is invalid"),
        (_with(extra={"a": _deep(8)}), "deeper than 16"),
        (_with(**{"$id": "https://elsewhere.example/schemas/broken.json"}), "$id must be"),
        (_with(**{"$id": "urn:x:1"}), "$id must be"),
        (_with(**{"$schema": "http://json-schema.org/draft-07/schema#"}), "draft 2020-12"),
        (_with(**{"x-hrss-type": "SomethingElse"}), "term contradicts"),
    ],
)
def test_an_invalid_schema_is_refused_with_400(
    service: Service, schema: dict[str, Any], words: str
) -> None:
    response = post(service, ministry(service), "/v1/credential-types", publication(schema))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "credential_type_invalid" and words in body["message"], body


def test_a_taken_term_or_id_is_a_conflict(service: Service, published: dict[str, Any]) -> None:
    again = post(service, ministry(service), "/v1/credential-types", publication())
    assert again.status_code == 409 and again.json()["code"] == "credential_type_exists"
    builtin = _with(**{"$id": f"{ISSUER_URL}/schemas/skill2.json"})
    response = post(
        service,
        ministry(service),
        "/v1/credential-types",
        publication(builtin, term="VocationalSkillCertificate"),
    )
    assert response.status_code == 409 and response.json()["code"] == "credential_type_exists"


def test_an_oversized_schema_is_refused(service: Service) -> None:
    schema = _with(extra={"a": {"enum": ["x" * 1000] * 70}})
    response = service.client.post(
        "/v1/credential-types",
        content=json.dumps(publication(schema)),
        headers={**service.headers(ministry(service)), "Content-Type": "application/json"},
    )
    # Refused before parsing by the body limit, or by the schema bound: never accepted.
    assert response.status_code in (400, 413), response.text
