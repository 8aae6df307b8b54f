"""Credential issuance, status, keys and verification through the HTTP API (FastAPI + SQLModel
service on an in-process chain), and the W3C VC API paths."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import Session, select

from credential_service.credentials.runtime import CredentialRuntime
from credential_service.models import Organisation, OrganisationKind, OrganisationStatus
from credential_service.services.tokens import OrganisationStandingCache
from tests.integration.credential_service.conftest import Service, fresh_credit_code, sign_assertion
from tests.integration.credential_service.credentials.conftest import client_of, post
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, SKILL_SUBJECT
from wallet_sdk.credentials import (
    disclosable_paths,
    disclosed_claim_names,
    issue_vc_jwt,
    present_sd_jwt,
    present_vc_jwt,
)
from wallet_sdk.jose import Curve, Jwk

AUDIENCE = "https://rsj.zj.example/verify"


def issue(service: Service, client_id: str, *requests: dict[str, Any]) -> Any:
    return post(service, client_id, "/v1/credentials", {"credentials": list(requests)})


def verify(
    service: Service, runtime: CredentialRuntime, client_id: str, token: str, **extra: Any
) -> dict[str, Any]:
    runtime.trust_state.refresh()
    response = post(service, client_id, "/v1/credentials/verify", {"credential": token, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sd_jwt_diploma(holder: Jwk, number: str) -> dict[str, Any]:
    """An issuance request of an SD-JWT diploma bound to `holder`, ``programme`` disclosable."""
    return {
        "type": "TechnicalSchoolDiploma",
        "subject": {**DIPLOMA_SUBJECT, "diplomaNumber": number},
        "format": "vc+sd-jwt",
        "holder_jwk": holder.public_jwk(),
        "disclosable": ["programme"],
    }


def present_programme(service: Service, client_id: str, token: str, holder: Jwk) -> tuple[str, Any]:
    """`token` presented by `holder` with ``programme`` disclosed over nonce ``n-1``, and the
    answer of ``POST /v1/presentations/verify`` to it."""
    presentation = present_sd_jwt(
        token,
        disclose=["programme"],
        holder_key=holder,
        nonce="n-1",
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )
    response = post(
        service,
        client_id,
        "/v1/presentations/verify",
        {"presentation": presentation, "nonce": "n-1", "audience": AUDIENCE},
    )
    return presentation, response


def failed_check(report: dict[str, Any]) -> str | None:
    return next((c["check"] for c in report["checks"] if c["status"] == "failed"), None)


def test_issue_in_bulk_and_verify(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    school, court = accredited["school"], client_of(service, OrganisationKind.COURT)
    holder = Jwk.generate(Curve.ED25519)
    response = issue(
        service,
        school,
        {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT},
        sd_jwt_diploma(holder, "D2"),
    )
    assert response.status_code == 201, response.text
    issued = response.json()["credentials"]
    assert [c["format"] for c in issued] == ["vc+jwt", "vc+sd-jwt"]
    assert all(c["anchor_item_id"] for c in issued)
    report = verify(service, runtime, court, issued[0]["credential"])
    assert report["verified"], report
    assert [c["check"] for c in report["checks"]][:6] == [
        "format",
        "algorithm_allowlist",
        "registration",
        "issuer_accredited",
        "key_valid",
        "signature",
    ]
    # The service keeps no subject data.
    from sqlmodel import Session

    from credential_service.credentials.models import CredentialRecord

    with Session(service.context.engine) as session:
        row = session.get(CredentialRecord, issued[0]["id"])
        assert row is not None and "王" not in repr(row.model_dump())

    presentation, response = present_programme(service, court, issued[1]["credential"], holder)
    assert response.status_code == 200 and response.json()["verified"], response.text
    subject = response.json()["credentials"][0]["credential"]["subject"]
    assert subject["programme"] == "高级工班" and "idNumber" not in subject
    wrong = post(
        service,
        court,
        "/v1/presentations/verify",
        {"presentation": presentation, "nonce": "n-2", "audience": AUDIENCE},
    ).json()
    assert not wrong["verified"] and failed_check(wrong["credentials"][0]) == "holder_binding"


def test_only_accredited_types_and_valid_subjects(
    service: Service, accredited: dict[str, str]
) -> None:
    school = accredited["school"]
    response = issue(
        service, school, {"type": "VocationalSkillCertificate", "subject": SKILL_SUBJECT}
    )
    assert response.status_code == 403 and response.json()["code"] == "issuer_not_accredited"
    response = issue(service, school, {"type": "NoSuchType", "subject": {}})
    assert response.status_code == 400 and response.json()["code"] == "credential_type_unknown"
    response = issue(
        service,
        school,
        {"type": "TechnicalSchoolDiploma", "subject": {**DIPLOMA_SUBJECT, "programme": "x"}},
    )
    assert response.status_code == 400 and response.json()["code"] == "credential_subject_invalid"
    employer = client_of(service, OrganisationKind.EMPLOYER)
    response = issue(
        service, employer, {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}
    )
    assert response.status_code == 403 and response.json()["code"] == "scope_missing"


def test_suspend_reinstate_revoke_by_issuer_and_accreditor(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    school, province = accredited["school"], accredited["province"]
    court = client_of(service, OrganisationKind.COURT)
    credential = issue(
        service, school, {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}
    ).json()["credentials"][0]
    path = f"/v1/credentials/{credential['id']}/status"
    response = post(service, school, path, {"status": "suspended", "reason": 12})
    assert response.status_code == 200 and response.json()["status"] == "suspended", response.text
    report = verify(service, runtime, court, credential["credential"])
    assert not report["verified"] and failed_check(report) == "status"
    assert post(service, province, path, {"status": "active", "reason": 13}).status_code == 200
    assert verify(service, runtime, court, credential["credential"])["verified"]
    assert post(service, province, path, {"status": "revoked", "reason": 99}).status_code == 200
    runtime.trust_state.refresh()
    status = service.client.get(path, headers=service.headers(school)).json()
    assert status["status"] == "revoked" and status["reason"] == 99
    report = verify(service, runtime, court, credential["credential"])
    assert failed_check(report) == "status" and "revoked" in str(report["checks"])
    # Revocation is final; other tenants see nothing.
    response = post(service, school, path, {"status": "active", "reason": 1})
    assert response.status_code == 409 and response.json()["code"] == "chain_rejected"
    other_province = service.credential(OrganisationKind.PROVINCE, 1).client_id
    response = post(service, other_province, path, {"status": "suspended", "reason": 1})
    assert response.status_code == 404 and response.json()["code"] == "credential_not_found"


def test_rotation_and_compromise(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    school, court = accredited["school"], client_of(service, OrganisationKind.COURT)
    before = issue(
        service, school, {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}
    ).json()["credentials"][0]
    response = post(service, school, "/v1/credentials/keys/rotate", {})
    assert response.status_code == 200, response.text
    new_key = response.json()
    assert new_key["key_id"] != before["key_id"]
    keys = service.client.get("/v1/credentials/keys", headers=service.headers(school)).json()
    old = next(k for k in keys if k["key_id"] == before["key_id"])
    assert old["valid_until"] is not None
    service.context.ledger.chain.mine(2)  # type: ignore[attr-defined]
    after = issue(
        service, school, {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}
    ).json()["credentials"][0]
    assert after["key_id"] == new_key["key_id"]
    assert verify(service, runtime, court, before["credential"])["verified"]
    assert verify(service, runtime, court, after["credential"])["verified"]
    # The new key is compromised from just after the chain registered `after`.
    registered = runtime.trust_state.credential_registration(bytes.fromhex(after["id"][2:]))
    assert registered is not None and registered.registered_at >= after["issued_at"]
    revoked_at = datetime.fromtimestamp(registered.registered_at + 1, UTC)
    service.context.ledger.chain.mine(2)  # type: ignore[attr-defined]  # the compromise is past
    response = post(
        service,
        school,
        f"/v1/credentials/keys/{new_key['key_id']}/revoke",
        {"revoked_at": revoked_at.isoformat()},
    )
    assert response.status_code == 200, response.text
    forged = issue(service, school, {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT})
    assert forged.status_code == 201, forged.text  # a fresh key is made for the next issuance
    assert forged.json()["credentials"][0]["key_id"] not in (new_key["key_id"], before["key_id"])
    assert verify(service, runtime, court, after["credential"])["verified"]


def test_vc_api_issue_and_verify(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    school, court = accredited["school"], client_of(service, OrganisationKind.COURT)
    holder = Jwk.generate(Curve.ED25519)
    unsecured = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential", "TechnicalSchoolDiploma"],
        "credentialSubject": DIPLOMA_SUBJECT,
        "validUntil": (datetime.now(UTC) + timedelta(days=3650)).isoformat(),
    }
    response = post(
        service,
        school,
        "/credentials/issue",
        {"credential": unsecured, "options": {"holderJwk": holder.public_jwk()}},
    )
    assert response.status_code == 201, response.text
    enveloped = response.json()["verifiableCredential"]
    assert enveloped["type"] == "EnvelopedVerifiableCredential"
    assert enveloped["id"].startswith("data:application/vc+jwt,ey")
    runtime.trust_state.refresh()
    result = post(service, court, "/credentials/verify", {"verifiableCredential": enveloped}).json()
    assert result["verified"] and result["problemDetails"] == [], result
    tampered = dict(enveloped, id=enveloped["id"][:-4] + "AAAA")
    result = post(service, court, "/credentials/verify", {"verifiableCredential": tampered}).json()
    # Another token than the one registered under its id: refused before its signature.
    assert not result["verified"] and result["problemDetails"][0]["title"] == "registration"
    assert result["problemDetails"][0]["type"].endswith("#CRYPTOGRAPHIC_SECURITY_ERROR")
    # Presentations: vp+jwt enveloped, challenge = nonce, domain = audience.
    token = enveloped["id"].split(",", 1)[1]
    vp = present_vc_jwt(
        [token], holder_key=holder, nonce="c-1", audience=AUDIENCE, issued_at=int(time.time())
    )
    body = {
        "verifiablePresentation": {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": "data:application/vp+jwt," + vp,
            "type": "EnvelopedVerifiablePresentation",
        },
        "options": {"challenge": "c-1", "domain": AUDIENCE},
    }
    result = post(service, court, "/presentations/verify", body).json()
    assert result["verified"] and result["results"]["holder"]["valid"], result
    body["options"]["challenge"] = "c-2"
    result = post(service, court, "/presentations/verify", body).json()
    assert not result["verified"] and result["results"]["challenge"]["valid"] is False
    # Embedded-proof credentials are not accepted.
    response = post(service, court, "/credentials/verify", {"verifiableCredential": unsecured})
    assert response.status_code == 400 and response.json()["code"] == "validation_failed"


def test_disclosable_paths_are_chosen_per_request_within_the_type(
    service: Service, accredited: dict[str, str]
) -> None:
    school = accredited["school"]
    holder = Jwk.generate(Curve.ED25519)
    request = {
        "type": "TechnicalSchoolDiploma",
        "subject": DIPLOMA_SUBJECT,
        "format": "vc+sd-jwt",
        "holder_jwk": holder.public_jwk(),
    }
    response = issue(service, school, {**request, "disclosable": ["/programme"]})
    assert response.status_code == 201, response.text
    token = response.json()["credentials"][0]["credential"]
    assert "programme" in disclosed_claim_names(token)
    assert "/programme" in disclosable_paths(token)
    response = issue(service, school, {**request, "disclosable": ["/programme/level"]})
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "credential_subject_invalid"
    assert body["message"] == (
        "not disclosable claims of TechnicalSchoolDiploma: ['/programme/level']"
    )
    assert body["detail"] == {"index": 0}
    response = issue(service, school, {**request, "disclosable": ["/a/~2"]})
    assert response.status_code == 400 and "is not a JSON Pointer" in response.json()["message"]
    for bad in ([""], ["/" + "x" * 300], [7]):
        response = issue(service, school, {**request, "disclosable": bad})
        assert response.status_code == 422, response.text
        assert "disclosable" in response.text


def test_commitments_anchored_through_the_pipeline(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str], batcher: Any
) -> None:
    school, court = accredited["school"], client_of(service, OrganisationKind.COURT)
    holder = Jwk.generate(Curve.ED25519)
    issued = issue(
        service, school,
        {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT},
        {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT, "format": "vc+sd-jwt",
         "holder_jwk": holder.public_jwk()},
    ).json()["credentials"]  # fmt: skip
    path = f"/v1/credentials/{issued[0]['id']}/receipt"
    pending = service.client.get(path, headers=service.headers(school)).json()
    assert pending["receipt"] is None
    batcher.drain()
    receipts = []
    for credential in issued:
        body = service.client.get(
            f"/v1/credentials/{credential['id']}/receipt", headers=service.headers(school)
        ).json()
        assert body["state"].endswith("confirmed") and body["receipt"] is not None, body
        assert body["receipt"]["document_digest"] == credential["digest"]
        receipts.append(body["receipt"])
    report = verify(service, runtime, court, issued[0]["credential"], anchor_receipt=receipts[0])
    assert report["verified"], report
    anchoring = next(c for c in report["checks"] if c["check"] == "anchoring")
    assert anchoring["status"] == "passed", anchoring
    # A receipt for another credential proves nothing about this one.
    report = verify(service, runtime, court, issued[0]["credential"], anchor_receipt=receipts[1])
    assert failed_check(report) == "anchoring"
    presentation = present_sd_jwt(
        issued[1]["credential"], disclose=[], holder_key=holder, nonce="n-a",
        audience=AUDIENCE, issued_at=int(time.time()),
    )  # fmt: skip
    response = post(service, court, "/v1/presentations/verify", {
        "presentation": presentation, "nonce": "n-a", "audience": AUDIENCE,
        "anchor_receipts": receipts,
    }).json()  # fmt: skip
    assert response["verified"], response
    checks = {c["check"]: c["status"] for c in response["credentials"][0]["checks"]}
    assert checks["anchoring"] == "passed" and checks["holder_binding"] == "passed"
    # Another organisation cannot read the issuer's receipts.
    other = client_of(service, OrganisationKind.EMPLOYER)
    response = service.client.get(path, headers=service.headers(other))
    assert response.status_code in (403, 404)


def _new_verifier(service: Service) -> tuple[str, dict[str, str]]:
    """A fresh employer under Guangdong (any organisation may verify), with a held token."""
    province = client_of(service, OrganisationKind.PROVINCE)
    key = Jwk.generate(Curve.ED25519)
    code = fresh_credit_code(440100)
    public = {k: v for k, v in key.public_jwk().items() if k in ("kty", "crv", "x")}
    created = service.client.post(
        "/v1/organisations",
        json={
            "name": "临时核验单位",
            "credit_code": code,
            "kind": "employer",
            "region": 440100,
            "keys": [public],
        },
        headers=service.headers(province),
    )
    assert created.status_code == 201, created.text
    jwk = key.private_jwk() | {"kid": key.thumbprint_b64()}
    token = service.token_request(code, assertion=sign_assertion(jwk, client_id=code))
    assert token.status_code == 200, token.text
    return code, {"Authorization": f"Bearer {token.json()['access_token']}"}


def _verify_as(service: Service, headers: dict[str, str]) -> int:
    response = service.client.post(
        "/v1/credentials/verify", json={"credential": "not.a.credential"}, headers=headers
    )
    status: int = response.status_code
    if status == 401:
        assert response.json()["code"] == "unauthenticated"
    return status


def _set_status_in_database(service: Service, code: str, status: OrganisationStatus) -> None:
    """As another worker process would: behind this process's back."""
    with Session(service.context.engine) as session:
        organisation = session.exec(
            select(Organisation).where(Organisation.credit_code == code)
        ).one()
        organisation.status = status
        session.add(organisation)
        session.commit()


@pytest.mark.parametrize("status", ["suspended", "revoked"])
def test_verification_refuses_a_token_once_its_organisation_is_not_active(
    service: Service, runtime: CredentialRuntime, status: str
) -> None:
    province = client_of(service, OrganisationKind.PROVINCE)
    code, held = _new_verifier(service)
    assert _verify_as(service, held) == 200  # the standing is cached now
    changed = service.client.post(
        f"/v1/organisations/{code}/status",
        json={"status": status, "reason": 7},
        headers=service.headers(province),
    )
    assert changed.status_code == 200, changed.text
    # changed in this process: the cache entry is dropped, the token is refused at once
    assert _verify_as(service, held) == 401
    presentation = service.client.post(
        "/v1/presentations/verify",
        json={"presentation": "x.y.z", "nonce": "n", "audience": AUDIENCE},
        headers=held,
    )
    assert presentation.status_code == 401


def test_verification_sees_another_workers_suspension_within_the_cache_ttl(
    service: Service, runtime: CredentialRuntime
) -> None:
    app_state = service.client.app.state  # type: ignore[attr-defined]
    previous = getattr(app_state, "standing_cache", None)
    clock = [0.0]  # the cache's clock, moved by hand: a slow machine cannot outrun the TTL
    app_state.standing_cache = OrganisationStandingCache(ttl=2.0, clock=lambda: clock[0])
    try:
        code, held = _new_verifier(service)
        assert _verify_as(service, held) == 200
        _set_status_in_database(service, code, OrganisationStatus.SUSPENDED)
        clock[0] += 1.9
        assert _verify_as(service, held) == 200  # within the TTL, as documented
        clock[0] += 0.1
        assert _verify_as(service, held) == 401
        _set_status_in_database(service, code, OrganisationStatus.ACTIVE)
        clock[0] += 2.0  # a reinstatement is seen after the TTL likewise
        assert _verify_as(service, held) == 200
    finally:
        app_state.standing_cache = previous


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer   ", "Basic dXNlcjpwYXNz", "bearer not-a-token", "Token x"],
)
@pytest.mark.parametrize("path", ["/v1/credentials/verify", "/v1/presentations/verify"])
def test_verification_authenticates_before_it_reads_the_body(
    service: Service, path: str, authorization: str | None
) -> None:
    # an anonymous caller learns nothing about the body's shape: 401 comes before any 422
    headers = {} if authorization is None else {"Authorization": authorization}
    response = service.client.post(path, json={"unexpected": [1, 2]}, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json()["code"] == "unauthenticated"
    assert response.headers["www-authenticate"].lower().startswith("bearer")


def test_issuing_within_the_second_of_a_rotation_signs_with_the_key_still_valid(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    """The rotated-out key stays valid to the end of the rotation's second (the new one starts
    the next second); issuing in that second signs with it instead of minting a third key."""
    from credential_service.credentials.service import current_signing_key

    school = accredited["school"]
    response = post(service, school, "/v1/credentials/keys/rotate", {})
    assert response.status_code == 200, response.text
    new_key = response.json()
    keys_before = service.client.get("/v1/credentials/keys", headers=service.headers(school))
    with Session(service.context.engine) as session:
        issuer = session.exec(select(Organisation).where(Organisation.credit_code == school)).one()
        row, _ = current_signing_key(
            session=session, runtime=runtime, issuer=issuer, at=new_key["valid_from"] - 1
        )
        assert row.valid_until == new_key["valid_from"]  # the key being rotated out
        row, _ = current_signing_key(
            session=session, runtime=runtime, issuer=issuer, at=new_key["valid_from"]
        )
        assert row.key_id == new_key["key_id"]
    keys_after = service.client.get("/v1/credentials/keys", headers=service.headers(school))
    assert len(keys_after.json()) == len(keys_before.json())  # no key minted


# -- security: key purposes and revocation edges (#11.2, #18.10) --------------------------------


def test_a_credential_forged_with_the_issuers_client_key_is_refused(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    # The school's OAuth client key (registered through /v1/organisations/{code}/keys and
    # held by the school itself) signs another subject under the id of a credential the
    # service issued: the verifier must not answer verified.
    school, court = accredited["school"], client_of(service, OrganisationKind.COURT)
    genuine = issue(
        service, school, {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}
    ).json()["credentials"][0]
    client_key = Jwk.from_jwk(service.private_jwk(school))
    forged = issue_vc_jwt(
        credential_type=runtime.types.get("TechnicalSchoolDiploma"),
        subject={**DIPLOMA_SUBJECT, "name": "李四"},
        issuer_id=bytes.fromhex(
            service.client.get(
                f"/v1/organisations/{school}", headers=service.headers(school)
            ).json()["ledger_id"][2:]
        ),
        key=client_key,
        status_registry=runtime.status_registry,
        issued_at=genuine["issued_at"],
        credential_id=bytes.fromhex(genuine["id"][2:]),
    )
    report = verify(service, runtime, court, forged.token)
    assert report["verified"] is False
    assert failed_check(report) == "registration"
    assert verify(service, runtime, court, genuine["credential"])["verified"]


def test_a_signing_key_compromise_in_the_future_is_refused(
    service: Service, accredited: dict[str, str]
) -> None:
    school = accredited["school"]
    issued = issue(service, school, {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT})
    key_id = issued.json()["credentials"][0]["key_id"]
    a_year_ahead = datetime.now(UTC) + timedelta(days=365)
    response = post(
        service,
        school,
        f"/v1/credentials/keys/{key_id}/revoke",
        {"revoked_at": a_year_ahead.isoformat()},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "key_validity_invalid"
    assert body["message"].startswith("revoked_at lies in the future")


def test_a_repeated_signing_key_revocation_is_done_not_a_conflict(
    service: Service, accredited: dict[str, str]
) -> None:
    school = accredited["school"]
    issued = issue(service, school, {"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT})
    key_id = issued.json()["credentials"][0]["key_id"]
    service.context.ledger.chain.mine(2)  # type: ignore[attr-defined]
    compromised = datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=1)
    path = f"/v1/credentials/keys/{key_id}/revoke"
    first = post(service, school, path, {"revoked_at": compromised.isoformat()})
    assert first.status_code == 200, first.text
    # The answer was lost; the client retries the same request.
    again = post(service, school, path, {"revoked_at": compromised.isoformat()})
    assert again.status_code == 200, again.text
    assert again.json() == first.json()


def test_reports_name_the_issuer_across_provinces(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    """A Zhejiang verifier checks a credential and a presentation of the Guangdong school: both
    reports name the school, its province and its accreditation path in words; an issuer this
    registry does not know is named unknown, not guessed."""
    school = accredited["school"]
    verifier = client_of(service, OrganisationKind.DATA_USER)  # Hangzhou, Zhejiang
    holder = Jwk.generate(Curve.ED25519)
    response = issue(service, school, sd_jwt_diploma(holder, "D-names"))
    assert response.status_code == 201, response.text
    token = response.json()["credentials"][0]["credential"]
    report = verify(service, runtime, verifier, token)
    assert report["verified"], report
    issuer = report["issuer"]
    assert issuer["entity_id"] == report["credential"]["issuer"]
    assert issuer["known"] is True
    assert issuer["name"] == "广州市高级技工学校" and issuer["kind"] == "issuer"
    assert issuer["province"] == "广东省" and issuer["region"] // 10_000 == 44
    assert issuer["accreditation_path_words"].startswith(
        "广州市高级技工学校 → 广东省人力资源和社会保障厅 → "
    )
    assert report["as_of"].endswith("Z")

    _presentation, response = present_programme(service, verifier, token, holder)
    assert response.status_code == 200 and response.json()["verified"], response.text
    assert response.json()["credentials"][0]["issuer"] == issuer


def test_an_issuer_unknown_here_is_named_unknown(service: Service) -> None:
    from sqlmodel import Session

    from credential_service.services.registry import describe_issuer

    with Session(service.context.engine) as session:
        named = describe_issuer(session=session, entity_id=b"\xab" * 32)
    assert named == {"entity_id": "0x" + "ab" * 32, "known": False, "name": None}


def test_issuer_names_are_cached_for_their_ttl(
    service: Service, accredited: dict[str, str]
) -> None:
    """One database read per issuer per TTL: within it a rename does not show, after it it does."""
    from sqlmodel import Session, select

    from credential_service.models import Organisation
    from credential_service.services.registry import IssuerNames

    now = [100.0]
    names = IssuerNames(service.context.engine, ttl=5.0, clock=lambda: now[0])
    with Session(service.context.engine) as session:
        school = session.exec(
            select(Organisation).where(Organisation.credit_code == accredited["school"])
        ).one()
        entity_id, old_name = bytes.fromhex(school.ledger_id[2:]), school.name
        first = names(entity_id)
        assert first["name"] == old_name
        school.name = "改名后的学校"
        session.add(school)
        session.commit()
        try:
            now[0] += 4.9
            assert names(entity_id) is first
            now[0] += 0.2
            assert names(entity_id)["name"] == "改名后的学校"
        finally:
            school.name = old_name
            session.add(school)
            session.commit()
