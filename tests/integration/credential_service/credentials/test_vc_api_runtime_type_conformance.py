"""Conformance of the W3C VC API paths with a credential type registered at run time (issue
#14, acceptance), against a real server: `make run` (uvicorn on loopback, a real anvil, the
anchoring worker), over real HTTP.

The Ministry publishes a generic type through ``POST /v1/credential-types`` (its schema digest
committed on chain), the province accredits the demo school for it with the existing call, and
then: issue (201), verify (200), a tampered signature (400 problem details), a ``vc`` claim
(400), a string ``type`` (accepted), an empty or wrong ``@context`` (400). A verifier fetches
the schema at its ``$id`` from the server and checks it against the digest it reads from the
chain itself; after a restart the server still knows the type."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from node_adapter import Chain, Deployment
from tests.fixtures.running_service import RunningService
from tests.integration.credential_service.credentials.test_vc_api_conformance import (
    V2,
    assert_problem,
)
from tests.unit.wallet_sdk.credentials import forge
from wallet_sdk.credentials import credential_type_id, fetch_type_schema, present_vc_jwt
from wallet_sdk.jose import Curve, Jwk

pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.xdist_group("vc-api-runtime")]

AUDIENCE = "https://rsj.example/verify"
TERM = "GenericCompetenceCertificate"
SUBJECT = {"name": "赵六", "competence": "电工作业", "score": 87}


def schema_for(base: str) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"{base}/schemas/generic-competence-certificate.json",
        "title": "generic competence certificate (published at run time)",
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "name": {"type": "string", "minLength": 1, "maxLength": 64},
            "competence": {"type": "string", "minLength": 1, "maxLength": 128},
            "score": {"type": "integer", "minimum": 0, "maximum": 100},
        },
        "required": ["name", "competence"],
        "additionalProperties": False,
    }


class Server:
    """`make run` and what the tests need of it; `restart` keeps its state directory."""

    def __init__(self, service: RunningService) -> None:
        self.service = service

    def post(self, role: str, path: str, body: Any) -> httpx.Response:
        client_id = self.service.client_id(role)
        return httpx.post(
            f"{self.service.base}{path}",
            json=body,
            headers=self.service.headers(client_id),
            timeout=60,
        )

    def restart(self) -> None:
        old = self.service
        old.stop()
        self.service = RunningService(old.var, port=old.port, chain_port=old.chain_port)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(RunningService(tmp_path_factory.mktemp("vc-api-runtime")))
    try:
        yield running
    finally:
        running.service.stop()


@pytest.fixture(scope="module")
def published(server: Server) -> dict[str, Any]:
    """The generic type published by the Ministry; the demo school accredited for it."""
    body = {
        "schema": schema_for(server.service.base),
        "term": TERM,
        "personal_identifiers": ["name"],
        "formats": ["vc+jwt", "vc+sd-jwt"],
    }
    response = server.post("ministry", "/v1/credential-types", body)
    assert response.status_code == 201, response.text
    school = server.service.client_id("issuer")
    accredit = httpx.put(
        f"{server.service.base}/v1/credential-types/{TERM}/issuers/{school}",
        json={"allowed": True},
        headers=server.service.headers(server.service.client_id("province")),
        timeout=60,
    )
    assert accredit.status_code == 200, accredit.text
    result: dict[str, Any] = response.json()
    return result


@pytest.fixture(scope="module")
def holder() -> Jwk:
    return Jwk.generate(Curve.ED25519)


def unsecured(**change: Any) -> dict[str, Any]:
    credential = {
        "@context": [V2],
        "type": ["VerifiableCredential", TERM],
        "credentialSubject": SUBJECT,
        "validUntil": (datetime.now(UTC) + timedelta(days=365)).isoformat(),
    }
    credential.update(change)
    return credential


@pytest.fixture(scope="module")
def issued(server: Server, published: dict[str, Any], holder: Jwk) -> dict[str, Any]:
    body = {"credential": unsecured(), "options": {"holderJwk": holder.public_jwk()}}
    response = server.post("issuer", "/credentials/issue", body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()["verifiableCredential"]
    return result


def verify(server: Server, enveloped: dict[str, Any]) -> httpx.Response:
    return server.post("court", "/credentials/verify", {"verifiableCredential": enveloped})


def verified(server: Server, enveloped: dict[str, Any]) -> dict[str, Any]:
    """The 200 answer, once the server's chain-state follower has seen the registration."""
    deadline = time.monotonic() + 30
    while True:
        response = verify(server, enveloped)
        if response.status_code == 200 or time.monotonic() > deadline:
            assert response.status_code == 200, response.text
            body: dict[str, Any] = response.json()
            return body
        time.sleep(0.5)


def test_issue_answers_201_with_the_run_time_type(
    issued: dict[str, Any], published: dict[str, Any]
) -> None:
    assert issued["@context"] == [V2] and issued["type"] == "EnvelopedVerifiableCredential"
    _, payload, _ = forge.split(issued["id"].split(",", 1)[1])
    assert payload["type"] == ["VerifiableCredential", TERM]
    assert payload["credentialSubject"]["competence"] == SUBJECT["competence"]
    assert payload["credentialSchema"]["id"] == published["vct"]


def test_a_credential_of_the_run_time_type_verifies(server: Server, issued: dict[str, Any]) -> None:
    body = verified(server, issued)
    assert body["verified"] is True and body["problemDetails"] == []
    assert body["credential"]["type"] == TERM


def test_a_subject_outside_the_published_schema_is_not_issued(
    server: Server,
    published: dict[str, Any],  # the type is published (else: credential_type_unknown)
) -> None:
    body = {"credential": unsecured(credentialSubject={**SUBJECT, "score": 101})}
    response = server.post("issuer", "/credentials/issue", body)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "credential_subject_invalid"


def test_a_tampered_signature_answers_400(server: Server, issued: dict[str, Any]) -> None:
    verified(server, issued)
    tampered = dict(issued, id=issued["id"][:-4] + "AAAA")
    # The chain binds the credential id to the signed token's digest, so the tampered
    # signature is caught first as content other than the registered one.
    body = assert_problem(
        verify(server, tampered),
        "registration",
        "registered with other content",
        "#CRYPTOGRAPHIC_SECURITY_ERROR",
    )
    assert body["code"] == "credential_not_verified" and body["verified"] is False


def test_a_vc_claim_answers_400(server: Server, issued: dict[str, Any]) -> None:
    header, payload, _ = forge.split(issued["id"].split(",", 1)[1])
    payload["vc"] = {"@context": [V2], "type": ["VerifiableCredential", TERM]}
    forged = forge.sign(header, payload, Jwk.generate(Curve.ED25519))
    enveloped = dict(issued, id="data:application/vc+jwt," + forged)
    assert_problem(
        verify(server, enveloped), "format", "claim 'vc' is not allowed", "PARSING_ERROR"
    )


def test_a_string_type_is_accepted(server: Server, issued: dict[str, Any], holder: Jwk) -> None:
    verified(server, issued)
    vp = present_vc_jwt(
        [issued["id"].split(",", 1)[1]],
        holder_key=holder,
        nonce="c-1",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    _, payload, _ = forge.split(vp)
    payload["type"] = "VerifiablePresentation"  # VC Data Model 2.0 §4.5: one string
    resigned = forge.sign({"alg": "EdDSA", "typ": "vp+jwt"}, payload, holder)
    body = {
        "verifiablePresentation": {
            "@context": [V2],
            "id": f"data:application/vp+jwt,{resigned}",
            "type": "EnvelopedVerifiablePresentation",
        },
        "options": {"challenge": "c-1", "domain": AUDIENCE},
    }
    response = server.post("court", "/presentations/verify", body)
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True
    # Issuing: a string type is read as one type (then it names no type to issue).
    issue = server.post("issuer", "/credentials/issue", {"credential": unsecured(type=TERM)})
    assert_problem(issue, "Bad Request", "type must include VerifiableCredential", "about:blank")


@pytest.mark.parametrize("context", [[], ["https://www.w3.org/2018/credentials/v1"]])
def test_an_empty_or_wrong_context_answers_400(
    server: Server, issued: dict[str, Any], context: list[str]
) -> None:
    enveloped = dict(issued, **{"@context": context})
    assert_problem(verify(server, enveloped), "Bad Request", "@context must be", "about:blank")
    response = server.post(
        "issuer", "/credentials/issue", {"credential": unsecured(**{"@context": context})}
    )
    assert_problem(response, "Bad Request", "@context must be", "about:blank")


def test_the_schema_is_served_at_its_id_and_matches_the_chain(
    server: Server, published: dict[str, Any]
) -> None:
    """A verifier's own path: the digest from the chain (not from the service), the schema
    from its $id over HTTP, checked by `fetch_type_schema`."""
    chain = Chain.from_urls([server.service.chain_url])
    deployment = Deployment.load(server.service.var / "deployment.json")
    record = deployment.clients(chain).trust_registry.credential_type_schema(
        credential_type_id(published["vct"])
    )
    assert record is not None
    fetched = fetch_type_schema(published["vct"], record.schema_digest)
    assert fetched.term == TERM and "0x" + fetched.schema_digest.hex() == published["schema_digest"]


def test_the_type_survives_a_restart(server: Server, published: dict[str, Any]) -> None:
    server.restart()
    response = server.post("issuer", "/credentials/issue", {"credential": unsecured()})
    assert response.status_code == 201, response.text
    listed = httpx.get(
        f"{server.service.base}/v1/credential-types",
        headers=server.service.headers(server.service.client_id("court")),
        timeout=60,
    )
    assert TERM in {t["term"] for t in listed.json()}
    verified(server, response.json()["verifiableCredential"])
