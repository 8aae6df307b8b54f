"""The W3C VC API paths against the VC API conventions, VC Data Model 2.0 and VC-JOSE-COSE
(issue #14, items 1 to 3): issuance answers 201; a credential or presentation that fails
verification answers 400 with RFC 9457 problem details (``application/problem+json``), as do
bad requests on these paths; the ``/v1`` report routes keep their 200 report."""

from __future__ import annotations

import copy
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from credential_service.credentials.runtime import CredentialRuntime
from credential_service.models import OrganisationKind
from tests.integration.credential_service.conftest import Service
from tests.integration.credential_service.credentials.conftest import client_of, post
from tests.unit.wallet_sdk.credentials import forge
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT
from tests.unit.wallet_sdk.credentials.world import W3C_EXAMPLES as EXAMPLES
from wallet_sdk.credentials import present_vc_jwt
from wallet_sdk.jose import Curve, Jwk

V2 = "https://www.w3.org/ns/credentials/v2"
AUDIENCE = "https://rsj.zj.example/verify"
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def holder() -> Jwk:
    return Jwk.generate(Curve.ED25519)


@pytest.fixture(scope="module")
def issued(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str], holder: Jwk
) -> dict[str, Any]:
    """A diploma issued through ``POST /credentials/issue``: the response body."""
    unsecured = {
        "@context": [V2],
        "type": ["VerifiableCredential", "TechnicalSchoolDiploma"],
        "credentialSubject": DIPLOMA_SUBJECT,
        "validUntil": (datetime.now(UTC) + timedelta(days=3650)).isoformat(),
    }
    body = {"credential": unsecured, "options": {"holderJwk": holder.public_jwk()}}
    response = post(service, accredited["school"], "/credentials/issue", body)
    assert response.status_code == 201, response.text
    runtime.trust_state.refresh()
    result: dict[str, Any] = response.json()
    return result


def court(service: Service) -> str:
    return client_of(service, OrganisationKind.COURT)


def verify(service: Service, enveloped: dict[str, Any]) -> Any:
    return post(service, court(service), "/credentials/verify", {"verifiableCredential": enveloped})


def token_of(issued: dict[str, Any]) -> str:
    token: str = issued["verifiableCredential"]["id"].split(",", 1)[1]
    return token


def assert_problem(response: Any, title: str, words: str, type_suffix: str) -> dict[str, Any]:
    """A 400 problem details answer (RFC 9457) whose first problem is `title`."""
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == 400 and body["title"] == title, body
    assert body["type"].endswith(type_suffix), body
    assert words in body["detail"], body
    assert body["code"] and body["message"]
    return body


def test_issue_answers_201_with_an_enveloped_credential_whose_context_is_an_array(
    issued: dict[str, Any],
) -> None:
    enveloped = issued["verifiableCredential"]
    assert enveloped["@context"] == [V2]
    assert enveloped["type"] == "EnvelopedVerifiableCredential"
    assert enveloped["id"].startswith("data:application/vc+jwt,ey")


def test_a_valid_credential_verifies_with_200(service: Service, issued: dict[str, Any]) -> None:
    response = verify(service, issued["verifiableCredential"])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["verified"] is True and body["problemDetails"] == []
    # Passed, and says what it passed without: no anchor receipt, no presentation.
    assert body["results"]["verdict"] == "verified; skipped: anchoring, holder_binding"


def test_a_tampered_signature_answers_400_problem_details(
    service: Service, issued: dict[str, Any]
) -> None:
    enveloped = issued["verifiableCredential"]
    tampered = dict(enveloped, id=enveloped["id"][:-4] + "AAAA")
    # The chain binds the credential id to the token the issuer signed (its digest), so a
    # tampered signature is first caught as content other than the registered one.
    body = assert_problem(
        verify(service, tampered),
        "registration",
        "registered with other content",
        "#CRYPTOGRAPHIC_SECURITY_ERROR",
    )
    assert body["code"] == "credential_not_verified" and body["verified"] is False
    assert body["problemDetails"][0]["title"] == "registration"
    assert {c["check"] for c in body["results"]["checks"]} >= {"signature", "status"}


def test_a_vc_claim_answers_400(service: Service, issued: dict[str, Any]) -> None:
    header, payload, _ = forge.split(token_of(issued))
    payload["vc"] = EXAMPLES["vcdm2_example_2_credential"]
    forged = forge.sign(header, payload, Jwk.generate(Curve.ED25519))
    enveloped = dict(issued["verifiableCredential"], id="data:application/vc+jwt," + forged)
    assert_problem(
        verify(service, enveloped), "format", "claim 'vc' is not allowed", "#PARSING_ERROR"
    )


@pytest.mark.parametrize(
    "context", [[], ["https://www.w3.org/2018/credentials/v1"], None, "https://example.org"]
)
def test_an_envelope_with_an_empty_or_wrong_context_answers_400(
    service: Service, issued: dict[str, Any], context: Any
) -> None:
    enveloped = dict(issued["verifiableCredential"], **{"@context": context})
    body = assert_problem(
        verify(service, enveloped), "Bad Request", "@context must be an array", "about:blank"
    )
    assert body["code"] == "validation_failed"


def test_the_envelope_context_as_the_specification_example_writes_it_verifies(
    service: Service, issued: dict[str, Any]
) -> None:
    entry = EXAMPLES["vc_jose_cose_presentation"]["verifiableCredential"][0]
    enveloped = dict(issued["verifiableCredential"], **{"@context": entry["@context"]})
    response = verify(service, enveloped)
    assert response.status_code == 200 and response.json()["verified"], response.text


@pytest.mark.parametrize("context", [[], ["https://www.w3.org/2018/credentials/v1"]])
def test_issuing_with_an_empty_or_wrong_context_answers_400(
    service: Service, accredited: dict[str, str], context: list[str]
) -> None:
    unsecured = {
        "@context": context,
        "type": ["VerifiableCredential", "TechnicalSchoolDiploma"],
        "credentialSubject": DIPLOMA_SUBJECT,
    }
    response = post(service, accredited["school"], "/credentials/issue", {"credential": unsecured})
    assert_problem(response, "Bad Request", "@context must be an array", "about:blank")


def test_issuing_with_a_string_type_is_read_as_one_type(
    service: Service, accredited: dict[str, str]
) -> None:
    unsecured = {"@context": [V2], "type": "VerifiableCredential", "credentialSubject": {}}
    response = post(service, accredited["school"], "/credentials/issue", {"credential": unsecured})
    # Parsed, not refused for its shape: it names no credential type to issue.
    assert_problem(response, "Bad Request", "exactly one credential type", "about:blank")


def presentation_body(vp: str, typ: str = "vp+jwt", challenge: str = "c-1") -> dict[str, Any]:
    return {
        "verifiablePresentation": {
            "@context": [V2],
            "id": f"data:application/{typ},{vp}",
            "type": "EnvelopedVerifiablePresentation",
        },
        "options": {"challenge": challenge, "domain": AUDIENCE},
    }


def test_the_specification_presentation_with_a_string_type_is_accepted(
    service: Service, issued: dict[str, Any], holder: Jwk
) -> None:
    payload = copy.deepcopy(EXAMPLES["vc_jose_cose_presentation"])
    payload["verifiableCredential"][0]["id"] = issued["verifiableCredential"]["id"]
    now = int(time.time())
    payload.update(nonce="c-1", aud=AUDIENCE, iat=now, exp=now + 300)
    vp = forge.sign({"alg": "EdDSA", "typ": "vp+jwt"}, payload, holder)
    response = post(service, court(service), "/presentations/verify", presentation_body(vp))
    assert response.status_code == 200, response.text
    assert response.json()["verified"] is True


@pytest.mark.parametrize("typ", ["vp+jwt", "vp+sd-jwt"])
def test_presentations_verify_and_a_wrong_challenge_answers_400(
    service: Service, issued: dict[str, Any], holder: Jwk, typ: str
) -> None:
    vp = present_vc_jwt(
        [token_of(issued)],
        holder_key=holder,
        nonce="c-1",
        audience=AUDIENCE,
        issued_at=int(time.time()),
        typ=typ,
    )
    response = post(service, court(service), "/presentations/verify", presentation_body(vp, typ))
    assert response.status_code == 200, response.text
    assert response.json()["results"]["holder"]["valid"] is True
    wrong = presentation_body(vp, typ, challenge="c-2")
    response = post(service, court(service), "/presentations/verify", wrong)
    body = assert_problem(response, "holder_binding", "nonce", "#CRYPTOGRAPHIC_SECURITY_ERROR")
    assert body["code"] == "presentation_not_verified"
    assert body["results"]["challenge"]["valid"] is False


def test_the_v1_report_route_keeps_its_200_report(service: Service, issued: dict[str, Any]) -> None:
    tampered = token_of(issued)[:-4] + "AAAA"
    response = post(service, court(service), "/v1/credentials/verify", {"credential": tampered})
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    assert response.json()["verified"] is False


@pytest.mark.parametrize(
    "path", ["/credentials/issue", "/credentials/verify", "/presentations/verify"]
)
def test_every_error_on_the_w3c_paths_is_problem_details(service: Service, path: str) -> None:
    response = service.client.post(path, json={})
    assert response.status_code == 401 and response.headers["content-type"] == PROBLEM
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {
        "type": "about:blank",
        "title": "Unauthorized",
        "status": 401,
        "detail": "authentication required",
        "code": "unauthenticated",
        "message": "authentication required",
    }
    response = post(service, court(service), path, {"unexpected": 1})
    body = response.json()
    assert response.headers["content-type"] == PROBLEM
    if path == "/credentials/issue":  # a court may not issue: refused before the body is read
        assert response.status_code == 403 and body["code"] == "scope_missing", body
    else:
        assert response.status_code == 422 and body["code"] == "validation_failed", body
        assert ["body", "unexpected"] in [error["loc"] for error in body["errors"]], body
