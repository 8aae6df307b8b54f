"""P-384 (ES384), P-521 (ES512) and SM2 (SM2SM3) keys end to end through the HTTP API on an
in-process chain: an organisation accredited with a client key on the curve signs in with it,
registers a document-signing key on it, rotates its credential-signing key to it, issues; the
credential verifies through the whole pipeline against the chain (registration, issuer
accredited and key valid as of issue, status), a holder key on the curve binds a presentation,
and the registry view names the algorithm."""

from __future__ import annotations

import pytest

from credential_service.credentials.runtime import CredentialRuntime
from credential_service.models import OrganisationKind
from node_adapter import KeyAlgorithm as ChainKeyAlgorithm
from node_adapter import KeyPurpose as ChainKeyPurpose
from tests.fixtures.organisations import accredit_through_api, bearer_headers
from tests.integration.credential_service.conftest import Service
from tests.integration.credential_service.credentials.conftest import allow_type, client_of, post
from tests.integration.credential_service.credentials.test_credentials_api import (
    failed_check,
    present_programme,
    verify,
)
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT
from wallet_sdk import b64url_decode, read_unverified_header
from wallet_sdk.jose import Curve, Jwk

CURVES = [
    pytest.param(Curve.P384, id="P-384"),
    pytest.param(Curve.P521, id="P-521"),
    pytest.param(Curve.SM2, id="SM2"),
]


def _public(key: Jwk) -> dict[str, str]:
    return {k: v for k, v in key.public_jwk().items() if k in ("kty", "crv", "x", "y")}


@pytest.mark.parametrize("curve", CURVES)
def test_an_issuer_on_the_curve_end_to_end(
    service: Service, runtime: CredentialRuntime, curve: Curve
) -> None:
    province = client_of(service, OrganisationKind.PROVINCE)
    court = client_of(service, OrganisationKind.COURT)
    registry = runtime.clients.trust_registry
    # 1. accredited with a client key on the curve, which signs its client assertions
    school, client_key = accredit_through_api(
        service.client,
        service.headers(province),
        name=f"{curve} 技工学校",
        kind="issuer",
        region=440100,
        curve=curve,
        prefix="12",
    )
    on_chain = registry.get_key(b64url_decode(client_key["kid"]))
    assert on_chain is not None
    assert on_chain.alg is ChainKeyAlgorithm(curve.registry_code)
    assert on_chain.purpose is ChainKeyPurpose.CLIENT_AUTHENTICATION
    headers = bearer_headers(service.client, school, client_key)

    # 2. a document-signing key on the curve, registered through the API
    document_key = Jwk.generate(curve)
    response = service.client.post(
        f"/v1/organisations/{school}/keys",
        json={"jwk": _public(document_key), "purpose": "document_signing"},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    registered = response.json()
    assert registered["alg"] == curve.algorithm.value
    assert registered["key_id"] == document_key.thumbprint_b64()
    on_chain = registry.get_key(document_key.thumbprint())
    assert on_chain is not None and on_chain.public_key == document_key.raw_public_key()
    assert on_chain.alg is ChainKeyAlgorithm(curve.registry_code)

    # 3. accredited for diplomas; the credential-signing key rotated onto the curve
    allow_type(service, province, "TechnicalSchoolDiploma", school)
    response = service.client.post(
        "/v1/credentials/keys/rotate", json={"alg": curve.algorithm.value}, headers=headers
    )
    assert response.status_code == 200, response.text
    signing_key = response.json()
    assert signing_key["alg"] == curve.algorithm.value
    assert signing_key["jwk"]["crv"] == curve.value
    service.context.ledger.chain.mine(2)  # type: ignore[attr-defined]

    # 4. issued under it, as vc+jwt and as an SD-JWT bound to a holder key on the curve
    holder = Jwk.generate(curve)
    response = service.client.post(
        "/v1/credentials",
        json={
            "credentials": [
                {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT},
                {
                    "type": "TechnicalSchoolDiploma",
                    "subject": {**DIPLOMA_SUBJECT, "diplomaNumber": f"D-{curve}"},
                    "format": "vc+sd-jwt",
                    "holder_jwk": holder.public_jwk(),
                    "disclosable": ["programme"],
                },
            ]
        },
        headers=headers,
    )
    assert response.status_code == 201, response.text
    jwt_vc, sd_jwt = response.json()["credentials"]
    for issued in (jwt_vc, sd_jwt):
        assert issued["key_id"] == signing_key["key_id"]
        header = read_unverified_header(issued["credential"].split("~")[0])
        assert header["alg"] == curve.algorithm.value

    # 5. the whole pipeline against the chain
    report = verify(service, runtime, court, jwt_vc["credential"])
    assert report["verified"], report
    checks = {c["check"]: c["status"] for c in report["checks"]}
    for check in ("algorithm_allowlist", "registration", "issuer_accredited", "key_valid"):
        assert checks[check] == "passed", report
    assert checks["signature"] == "passed" and checks["status"] == "passed", report

    _, response = present_programme(service, court, sd_jwt["credential"], holder)
    assert response.status_code == 200 and response.json()["verified"], response.text

    # 6. a rotation without "alg" stays on the curve; a later one to Ed25519 leaves the
    # credential verifying as of its issue; status still counts
    response = service.client.post("/v1/credentials/keys/rotate", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["alg"] == curve.algorithm.value
    assert response.json()["key_id"] != signing_key["key_id"]
    response = service.client.post(
        "/v1/credentials/keys/rotate", json={"alg": "EdDSA"}, headers=headers
    )
    assert response.status_code == 200 and response.json()["alg"] == "EdDSA", response.text
    service.context.ledger.chain.mine(2)  # type: ignore[attr-defined]
    assert verify(service, runtime, court, jwt_vc["credential"])["verified"]
    path = f"/v1/credentials/{jwt_vc['id']}/status"
    response = post(service, province, path, {"status": "revoked", "reason": 99})
    assert response.status_code == 200, response.text
    report = verify(service, runtime, court, jwt_vc["credential"])
    assert not report["verified"] and failed_check(report) == "status", report

    # 7. the registry view names each key's algorithm
    runtime.trust_state.refresh()
    profile = service.client.get(
        f"/v1/registry/organisations/{school}", headers=service.headers(court)
    ).json()
    algorithms = {key["key_id"]: key["algorithm"] for key in profile["keys"]}
    assert algorithms[client_key["kid"]] == curve.algorithm.value
    assert algorithms[document_key.thumbprint_b64()] == curve.algorithm.value
    assert algorithms[signing_key["key_id"]] == curve.algorithm.value


def test_a_rotation_to_an_algorithm_no_organisation_key_has_is_refused(
    service: Service, accredited: dict[str, str]
) -> None:
    for alg in ("ES256K", "RS256", "none", ""):
        response = post(service, accredited["school"], "/v1/credentials/keys/rotate", {"alg": alg})
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "validation_failed", response.text


def test_organisation_keys_on_secp256k1_are_refused(
    service: Service, accredited: dict[str, str]
) -> None:
    school = accredited["school"]
    members = _public(Jwk.generate(Curve.SECP256K1))
    response = post(service, school, f"/v1/organisations/{school}/keys", {"jwk": members})
    assert response.status_code == 422, response.text
