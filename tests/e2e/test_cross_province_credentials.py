"""End to end, over a real JSON-RPC node (anvil): a Beijing technical school and a Guangdong
skill assessment body issue credentials; a bureau in Shanghai, holding nothing but the chain's
URL and the public deployment file, verifies the diploma and the skill certificate. The
cardholder proves the skill level without handing over the ID number."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from node_adapter import AnvilProcess, Chain, CredentialStatus, Deployment
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, SKILL_SUBJECT, TrustWorld
from wallet_sdk.credentials import (
    DIGEST_ALG_HEADER,
    CachedTrustState,
    CredentialVerificationError,
    CredentialVerifier,
    VerificationPolicy,
    present_sd_jwt,
    present_vc_jwt,
)
from wallet_sdk.jose import Curve, Jwk, read_unverified_header

pytestmark = pytest.mark.anvil

SHANGHAI_BUREAU = "https://rsj.sh.example/qualification-check"


def test_cross_province_verification_from_the_chain_alone(
    anvil_process_factory: Callable[..., AnvilProcess], tmp_path: Path
) -> None:
    node = anvil_process_factory()
    issuing_side = TrustWorld.build(Chain.from_urls([node.url]))
    school = issuing_side.add_issuer(
        "beijing-technician-college",
        province="beijing",
        region=110105,
        types=["TechnicalSchoolDiploma"],
    )
    assessor = issuing_side.add_issuer(
        "shenzhen-skill-assessment",
        province="guangdong",
        region=440300,
        types=["VocationalSkillCertificate"],
        curve=Curve.P256,
    )
    cardholder = Jwk.generate(Curve.ED25519)
    diploma = issuing_side.issue(
        school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, holder_key=cardholder
    )
    certificate = issuing_side.issue(
        assessor,
        "VocationalSkillCertificate",
        SKILL_SUBJECT,
        sd=True,
        holder_key=cardholder,
        disclosable=["level", "occupationCode", "occupationName", "certificateNumber"],
    )
    receipts = issuing_side.anchor(school, [diploma]) | issuing_side.anchor(assessor, [certificate])
    deployment_file = tmp_path / "deployment.json"
    issuing_side.deployment.save(deployment_file)

    # --- Shanghai: a separate connection, the public deployment, nothing from the issuers ---
    shanghai_chain = Chain.from_urls([node.url])
    state = CachedTrustState.from_chain(shanghai_chain, Deployment.load(deployment_file))
    verifier = CredentialVerifier(state, policy=VerificationPolicy(require_anchoring=True))
    as_of = shanghai_chain.block().timestamp

    report = verifier.verify_credential(
        diploma.token, as_of=as_of, anchor_receipt=receipts[diploma.credential_id]
    )
    assert report.passed and report.check("anchoring").passed
    assert (
        report.credential is not None
        and report.credential.credential_type == "TechnicalSchoolDiploma"
    )

    nonce = "sh-7c1e9a"
    presentation = present_sd_jwt(
        certificate.token,
        disclose=["level", "occupationCode"],
        holder_key=cardholder,
        nonce=nonce,
        audience=SHANGHAI_BUREAU,
        issued_at=int(time.time()),
    )
    assert SKILL_SUBJECT["idNumber"] not in presentation
    result = verifier.verify_presentation(
        presentation, nonce=nonce, audience=SHANGHAI_BUREAU, as_of=as_of, anchor_receipts=receipts
    )
    assert result.passed
    (skill,) = result.credentials
    assert skill.check("holder_binding").passed and skill.check("anchoring").passed
    assert skill.credential is not None
    assert skill.credential.issuer_id == assessor.entity_id
    # Disclosed: level and occupation; always visible: the assessment date; withheld: the rest.
    assert skill.credential.subject == {
        "level": 3,
        "occupationCode": "4-01-02-01",
        "assessedOn": "2026-06-01",
    }

    # The diploma, presented by its holder as a vp+jwt.
    vp = present_vc_jwt(
        [diploma.token],
        holder_key=cardholder,
        nonce=nonce,
        audience=SHANGHAI_BUREAU,
        issued_at=int(time.time()),
    )
    assert verifier.verify_presentation(
        vp, nonce=nonce, audience=SHANGHAI_BUREAU, as_of=as_of, anchor_receipts=receipts
    ).passed

    # Guangdong revokes the certificate; Shanghai, following new blocks, sees it in the next one.
    state.follow(interval=0.1)
    try:
        issuing_side.set_status(assessor, certificate, CredentialStatus.REVOKED, reason=3)
        revoked_in = shanghai_chain.block_number()
        deadline = time.monotonic() + 10
        while state.block_number < revoked_in:
            assert time.monotonic() < deadline, "the revocation block was not read in time"
            time.sleep(0.05)
        with pytest.raises(CredentialVerificationError) as err:
            verifier.verify_presentation(
                presentation,
                nonce=nonce,
                audience=SHANGHAI_BUREAU,
                as_of=shanghai_chain.block().timestamp,
                anchor_receipts=receipts,
            )
        assert err.value.check == "status" and "revoked" in err.value.message
    finally:
        state.stop()


def test_service_issuers_in_two_provinces_verified_in_a_third(
    anvil_process_factory: Callable[..., AnvilProcess], tmp_path: Path
) -> None:
    """The same scenario through the credential service's HTTP API on anvil: a Guangdong school
    and a Zhejiang assessment body issue; Shanghai verifies with the chain and the public
    deployment file only."""
    from fastapi.testclient import TestClient
    from pydantic import SecretStr

    from credential_service import Settings, create_app
    from credential_service.bootstrap import ZHEJIANG, bootstrap_demo, load_client_key
    from credential_service.context import ServiceContext
    from credential_service.credentials.runtime import CredentialRuntime
    from credential_service.keystore import FileKeystore
    from credential_service.models import OrganisationKind
    from tests.integration.credential_service.conftest import fresh_credit_code, sign_assertion

    node = anvil_process_factory()
    settings = Settings(
        dev_mode=True,
        chain_rpc_urls=(node.url,),
        database_url=f"sqlite:///{tmp_path / 'hrss.db'}",
        keystore_path=tmp_path / "service.keystore",
        keystore_passphrase=SecretStr("e2e-passphrase"),
        deployment_path=tmp_path / "deployment.json",
        issuer_url="http://testserver",
    )
    context = ServiceContext.open(settings)
    demo = bootstrap_demo(
        context, client_keystore_path=tmp_path / "clients.ks", client_passphrase="d"
    )
    clients = FileKeystore.open(tmp_path / "clients.ks", "d")
    app = create_app(settings, context=context)
    runtime = CredentialRuntime.from_service(context, follow_interval=None)
    app.state.credential_runtime = runtime

    def token(client_id: str, jwk: dict[str, str] | None = None) -> dict[str, str]:
        assertion = sign_assertion(jwk or load_client_key(clients, client_id), client_id=client_id)
        response = client.post(
            "/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                "client_assertion": assertion,
            },
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['access_token']}"}

    try:
        with TestClient(app, base_url="http://testserver") as client:
            by_role = {c.role: c.client_id for c in reversed(demo)}
            guangdong, school = by_role[OrganisationKind.PROVINCE], by_role[OrganisationKind.ISSUER]
            # Zhejiang accredits a skill assessment body (its own client key) ...
            body_key = Jwk.generate(Curve.ED25519)
            assessor = fresh_credit_code(330100, "12")
            public = {k: v for k, v in body_key.public_jwk().items() if k in ("kty", "crv", "x")}
            response = client.post(
                "/v1/organisations",
                json={
                    "name": "杭州市职业技能鉴定中心",
                    "kind": "issuer",
                    "region": 330100,
                    "credit_code": assessor,
                    "keys": [public],
                },
                headers=token(ZHEJIANG),
            )
            assert response.status_code == 201, response.text
            assessor_jwk = {**body_key.private_jwk(), "kid": body_key.thumbprint_b64()}
            # ... and each province accredits its issuer for a credential type, on chain.
            for province, issuer, term in (
                (guangdong, school, "TechnicalSchoolDiploma"),
                (ZHEJIANG, assessor, "VocationalSkillCertificate"),
            ):
                response = client.put(
                    f"/v1/credential-types/{term}/issuers/{issuer}",
                    json={"allowed": True},
                    headers=token(province),
                )
                assert response.status_code == 200, response.text
            # the cardholder's key is a wallet's of the deployment's profile (SM2 if national)
            cardholder = Jwk.generate(settings.crypto_profile.algorithms.signing_curve)
            response = client.post(
                "/v1/credentials",
                json={
                    "credentials": [
                        {
                            "type": "TechnicalSchoolDiploma",
                            "subject": DIPLOMA_SUBJECT,
                            "holder_jwk": cardholder.public_jwk(),
                        }
                    ]
                },
                headers=token(school),
            )
            assert response.status_code == 201, response.text
            diploma = response.json()["credentials"][0]["credential"]
            response = client.post(
                "/v1/credentials",
                json={
                    "credentials": [
                        {
                            "type": "VocationalSkillCertificate",
                            "format": "vc+sd-jwt",
                            "subject": SKILL_SUBJECT,
                            "holder_jwk": cardholder.public_jwk(),
                            "disclosable": ["level", "occupationCode"],
                        }
                    ]
                },
                headers=token(assessor, assessor_jwk),
            )
            assert response.status_code == 201, response.text
            skill = response.json()["credentials"][0]["credential"]
    finally:
        runtime.close()
        context.close()

    # Shanghai: a fresh connection and the public deployment file; no service, no database.
    shanghai_chain = Chain.from_urls([node.url])
    state = CachedTrustState.from_chain(shanghai_chain, Deployment.load(settings.deployment_path))
    verifier = CredentialVerifier(state)
    # Signed with the issuing service's profile (SM2SM3 under --crypto-profile national);
    # Shanghai's verifier, on the default policy, takes either profile's credentials.
    signing = settings.crypto_profile.algorithms.signing_curve.algorithm.value
    assert {read_unverified_header(t.split("~")[0])["alg"] for t in (diploma, skill)} == {signing}
    # ...and registered and anchored by the profile's digest (SM3 named in the header).
    named = settings.crypto_profile.algorithms.hash_algorithm.value
    headers = [read_unverified_header(t.split("~")[0]) for t in (diploma, skill)]
    assert {h.get(DIGEST_ALG_HEADER, "sha-256") for h in headers} == {named}
    assert verifier.verify_credential(diploma).passed
    presentation = present_sd_jwt(
        skill, disclose=["level"], holder_key=cardholder, nonce="sh-1",
        audience=SHANGHAI_BUREAU, issued_at=int(time.time()),
    )  # fmt: skip
    assert SKILL_SUBJECT["idNumber"] not in presentation
    report = verifier.verify_presentation(presentation, nonce="sh-1", audience=SHANGHAI_BUREAU)
    (result,) = report.credentials
    assert result.credential is not None and result.credential.subject["level"] == 3
    assert "idNumber" not in result.credential.subject
