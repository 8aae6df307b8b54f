"""The labour-contract workflow through the HTTP API: two-party signing, anchoring of every
event, amendment and termination, tenant checks, key terms sealed at rest, the evidence
package, the printable report and the verification endpoint and page."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import text

from tests.integration.credential_service.labour.harness import DOCUMENT, LabourService
from wallet_sdk.evidence import EventRecord, sign_as_employee, sign_as_employer
from wallet_sdk.jose import Curve, Jwk


def _verify(service: LabourService, package: bytes, document: bytes | None) -> dict[str, Any]:
    files: dict[str, Any] = {"package": ("evidence.json", package, "application/json")}
    if document is not None:
        files["document"] = ("contract.pdf", document, "application/pdf")
    response = service.client.post("/v1/evidence/verify", files=files)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    result: dict[str, Any] = response.json()
    return result


def test_contract_takes_effect_only_when_both_parties_signed(labour_service: LabourService) -> None:
    service = labour_service
    wallet = service.wallet()
    contract = service.upload(wallet)
    assert contract["state"] == "awaiting_employer_signature"
    assert contract["pending"]["role"] == "employer"
    signed = service.employer_signs(contract)
    assert signed.status_code == 200, signed.text
    assert signed.json()["state"] == "awaiting_employee_signature"
    service.batcher.drain()
    package = service.evidence(contract["contract_id"])
    report = _verify(service, package, DOCUMENT)
    assert report["verdict"] == "not_effective"
    assert report["first_failure"] == "both_parties_signed"
    assert report["version_status"] == "awaiting_employee_signature"

    accepted = service.employee_signs(contract["contract_id"], wallet)
    assert accepted.status_code == 200, accepted.text
    assert accepted.json()["state"] == "effective"
    service.batcher.drain()
    report = _verify(service, service.evidence(contract["contract_id"]), DOCUMENT)
    assert report["verdict"] == "verified"
    assert [e["event"] for e in report["timeline"]] == ["employer_signed", "employee_signed"]
    assert all(e["block_number"] is not None for e in report["timeline"])


def test_signature_by_an_unregistered_key_is_refused(labour_service: LabourService) -> None:
    service = labour_service
    contract = service.upload(service.wallet())
    response = service.employer_signs(contract, key=Jwk.generate(Curve.P256))
    assert response.status_code == 400
    assert response.json()["detail"] == {"check": "signer_keys"}
    assert "not registered" in response.json()["message"]


def test_employee_signature_from_another_wallet_is_refused(labour_service: LabourService) -> None:
    service = labour_service
    wallet, intruder = service.wallet(), service.wallet()
    contract = service.upload(wallet)
    assert service.employer_signs(contract).status_code == 200
    headers = service.login(wallet)
    review = service.client.get(
        f"/v1/me/labour-contracts/{contract['contract_id']}", headers=headers
    ).json()
    record = service.pending_record(review)
    forged = sign_as_employee(
        EventRecord.from_dict({**record.to_dict(), "employee": intruder.did}),
        wallet=intruder,
        card=intruder.social_security_card().token,
    )
    response = service.client.post(
        f"/v1/me/labour-contracts/{contract['contract_id']}/signature",
        json={"jws": forged.jws, "card_proof": forged.card_proof},
        headers=headers,
    )
    assert response.status_code == 400
    assert response.json()["detail"]["check"] in ("signatures", "signer_keys")


def test_signing_time_far_from_now_is_refused(labour_service: LabourService) -> None:
    service = labour_service
    contract = service.upload(service.wallet())
    record = EventRecord.from_dict({**contract["pending"]["record"], "at": int(time.time()) - 3600})
    signature = sign_as_employer(
        record, key=service.employer_key, entity_id=service.employer_entity
    )
    response = service.client.post(
        f"/v1/labour-contracts/{contract['contract_id']}/signature",
        json={"jws": signature.jws},
        headers=service.employer_headers(),
    )
    assert response.status_code == 400
    assert "signing time" in response.json()["message"]


def test_only_the_named_employee_sees_the_contract(labour_service: LabourService) -> None:
    service = labour_service
    wallet, stranger = service.wallet(), service.wallet()
    contract_id = service.upload(wallet)["contract_id"]
    mine = service.client.get(
        f"/v1/me/labour-contracts/{contract_id}", headers=service.login(wallet)
    )
    assert mine.status_code == 200
    assert mine.json()["key_terms"]["1"]["terms"]["position"] == "后端工程师"
    other = service.client.get(
        f"/v1/me/labour-contracts/{contract_id}", headers=service.login(stranger)
    )
    assert other.status_code == 404
    listed = service.client.get("/v1/me/labour-contracts", headers=service.login(stranger))
    assert listed.status_code == 200 and listed.json() == []
    anonymous = service.client.get(f"/v1/labour-contracts/{contract_id}")
    assert anonymous.status_code == 401


def test_key_terms_are_sealed_at_rest(labour_service: LabourService) -> None:
    service = labour_service
    contract_id = service.upload(service.wallet())["contract_id"]
    with service.context.engine.connect() as connection:
        sealed = connection.execute(
            text("SELECT key_terms_sealed FROM labour_contract_version WHERE contract_id = :id"),
            {"id": contract_id},
        ).scalar_one()
    assert "后端工程师".encode() not in bytes(sealed)
    assert b"2500000" not in bytes(sealed)


def test_amendment_then_termination_are_anchored_and_shown(labour_service: LabourService) -> None:
    service = labour_service
    wallet = service.wallet()
    contract_id = service.signed_contract(wallet)
    amended = DOCUMENT + "补充条款: 自 2028-01-01 起月工资调整为 28,000 元\n".encode()
    response = service.client.post(
        f"/v1/labour-contracts/{contract_id}/versions",
        files={"document": ("amendment.pdf", amended, "application/pdf")},
        data={
            "terms": json.dumps(
                {
                    "relation": "amendment",
                    "hr_operator": "人事经理 陈静",
                    "key_terms": {"monthly_wage_fen": 2_800_000},
                }
            )
        },
        headers=service.employer_headers(),
    )
    assert response.status_code == 201, response.text
    assert response.json()["state"] == "effective"  # version 1 stays in force meanwhile
    assert service.employer_signs(response.json()).status_code == 200
    assert service.employee_signs(contract_id, wallet).status_code == 200

    headers = service.login(wallet)
    prepared = service.client.post(
        f"/v1/me/labour-contracts/{contract_id}/termination",
        json={
            "reason_code": "employee-notice",
            "reason": "劳动者提前三十日以书面形式通知解除",
            "effective_date": "2028-06-30",
        },
        headers=headers,
    )
    assert prepared.status_code == 200, prepared.text
    record = service.pending_record(prepared.json())
    signature = sign_as_employee(record, wallet=wallet)
    done = service.client.post(
        f"/v1/me/labour-contracts/{contract_id}/signature",
        json={"jws": signature.jws},
        headers=headers,
    )
    assert done.status_code == 200, done.text
    assert done.json()["state"] == "terminated"
    service.batcher.drain()

    evidence = service.client.get(
        f"/v1/me/labour-contracts/{contract_id}/evidence", headers=headers
    )
    assert evidence.status_code == 200
    old = _verify(service, evidence.content, DOCUMENT)
    new = _verify(service, evidence.content, amended)
    assert (old["verdict"], old["version_status"]) == ("verified", "superseded")
    assert (new["verdict"], new["version_status"]) == ("verified", "terminated")
    last = new["timeline"][-1]
    assert (last["event"], last["role"]) == ("terminated", "employee")
    assert "书面形式通知解除" in last["detail"] and last["block_number"] is not None
    # both parties fetch the same document
    document = service.client.get(
        f"/v1/me/labour-contracts/{contract_id}/document?version=2", headers=headers
    )
    assert document.content == amended
    employer_copy = service.client.get(
        f"/v1/labour-contracts/{contract_id}/document?version=2",
        headers=service.employer_headers(),
    )
    assert employer_copy.content == amended


def test_nothing_can_follow_a_termination(labour_service: LabourService) -> None:
    service = labour_service
    wallet = service.wallet()
    contract_id = service.signed_contract(wallet)
    headers = service.employer_headers()
    body = {
        "reason_code": "mutual-agreement",
        "reason": "协商一致解除",
        "effective_date": "2028-01-31",
    }
    prepared = service.client.post(
        f"/v1/labour-contracts/{contract_id}/termination", json=body, headers=headers
    )
    assert prepared.status_code == 200
    assert service.employer_signs(prepared.json()).status_code == 200
    again = service.client.post(
        f"/v1/labour-contracts/{contract_id}/termination", json=body, headers=headers
    )
    assert again.status_code == 409


def test_no_evidence_before_anything_is_signed(labour_service: LabourService) -> None:
    service = labour_service
    contract_id = service.upload(service.wallet())["contract_id"]
    response = service.client.get(
        f"/v1/labour-contracts/{contract_id}/evidence", headers=service.employer_headers()
    )
    assert response.status_code == 409


def test_printable_report_is_a_pdf(labour_service: LabourService) -> None:
    service = labour_service
    contract_id = service.signed_contract(service.wallet())
    response = service.client.get(
        f"/v1/labour-contracts/{contract_id}/report.pdf", headers=service.employer_headers()
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")


def test_verification_page_is_served_with_security_headers(labour_service: LabourService) -> None:
    client = labour_service.client
    page = client.get("/verify")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["x-frame-options"] == "DENY"
    assert "电子劳动合同证据核验" in page.text
    for name in ("verify.js", "verify.css"):
        assert client.get(f"/verify/static/{name}").status_code == 200
    assert client.get("/verify/static/secret.txt").status_code == 404


def test_verification_page_answers_head_like_get(labour_service: LabourService) -> None:
    client = labour_service.client
    for path in ("/verify", "/verify/static/verify.js", "/verify/reasons.json"):
        get, head = client.get(path), client.head(path)
        assert (head.status_code, get.status_code) == (200, 200), path
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["content-security-policy"] == get.headers["content-security-policy"]
        assert head.content == b""
    assert client.head("/verify/static/secret.txt").status_code == 404


def test_reason_catalogue_is_served_for_the_page(labour_service: LabourService) -> None:
    catalogue = labour_service.client.get("/verify/reasons.json").json()
    assert catalogue["document.match"]["zh"].startswith("文件 {algorithm} {digest}")
    assert all(set(texts) == {"en", "zh"} for texts in catalogue.values())


def test_verify_endpoint_reports_malformed_packages(labour_service: LabourService) -> None:
    report = _verify(labour_service, b'{"version": "hrss-evidence/1"}', None)
    assert report["verdict"] == "failed"
    assert report["first_failure"] == "format"


def test_termination_lets_a_pending_amendment_lapse(labour_service: LabourService) -> None:
    service = labour_service
    wallet = service.wallet()
    contract_id = service.signed_contract(wallet)
    offered = service.client.post(
        f"/v1/labour-contracts/{contract_id}/versions",
        files={"document": ("renewal.pdf", DOCUMENT + b"renewal", "application/pdf")},
        data={
            "terms": json.dumps(
                {"relation": "renewal", "hr_operator": "HR", "key_terms": {"term": "2030/2032"}}
            )
        },
        headers=service.employer_headers(),
    )
    assert offered.status_code == 201, offered.text
    assert service.employer_signs(offered.json()).status_code == 200  # the employee never signs
    headers = service.employer_headers()
    prepared = service.client.post(
        f"/v1/labour-contracts/{contract_id}/termination",
        json={
            "reason_code": "expiry",
            "reason": "劳动合同期满终止",
            "effective_date": "2029-12-31",
        },
        headers=headers,
    )
    assert prepared.status_code == 200, prepared.text
    assert service.employer_signs(prepared.json()).status_code == 200
    service.batcher.drain()
    report = _verify(service, service.evidence(contract_id), DOCUMENT)
    assert (report["verdict"], report["version_status"]) == ("verified", "terminated")
    assert [e["event"] for e in report["timeline"]][-2:] == ["employer_signed", "terminated"]
    renewal = _verify(service, service.evidence(contract_id), DOCUMENT + b"renewal")
    assert renewal["verdict"] == "not_effective"


def test_amendments_take_documents_as_large_as_first_uploads(
    labour_service: LabourService,
) -> None:
    """A new version is a document like the first: the 32 MiB upload limit, not the 4 MiB
    this service allows other bodies."""
    service = labour_service
    contract_id = service.signed_contract(service.wallet())
    terms = json.dumps({"relation": "amendment", "hr_operator": "HR", "key_terms": {"wage": 9}})
    large = DOCUMENT + b"\x00" * (6 * 1024 * 1024)
    offered = service.client.post(
        f"/v1/labour-contracts/{contract_id}/versions",
        files={"document": ("amendment.pdf", large, "application/pdf")},
        data={"terms": terms},
        headers=service.employer_headers(),
    )
    assert offered.status_code == 201, offered.text
    too_large = service.client.post(
        f"/v1/labour-contracts/{contract_id}/versions",
        files={"document": ("amendment.pdf", b"\x00" * (33 * 1024 * 1024), "application/pdf")},
        data={"terms": terms},
        headers=service.employer_headers(),
    )
    assert too_large.status_code == 413
    assert too_large.json()["code"] == "request_body_too_large"
    # other bodies keep the service's own limit
    other = service.client.post(
        f"/v1/labour-contracts/{contract_id}/termination",
        content=b"{" + b" " * (5 * 1024 * 1024) + b"}",
        headers={**service.employer_headers(), "Content-Type": "application/json"},
    )
    assert other.status_code == 413


def test_another_employer_can_neither_see_nor_touch_a_contract(
    labour_service: LabourService,
) -> None:
    service = labour_service
    contract_id = service.signed_contract(service.wallet())
    other = service.organisation_headers(*service.second_employer())
    mine = service.client.get("/v1/labour-contracts", headers=service.employer_headers())
    assert contract_id in {c["contract_id"] for c in mine.json()}
    theirs = service.client.get("/v1/labour-contracts", headers=other)
    assert theirs.status_code == 200 and theirs.json() == []
    for path in ("", "/document", "/evidence", "/report.pdf"):
        response = service.client.get(f"/v1/labour-contracts/{contract_id}{path}", headers=other)
        assert response.status_code == 404, (path, response.text)
        assert response.json()["code"] == "not_found"
    termination = service.client.post(
        f"/v1/labour-contracts/{contract_id}/termination",
        json={"reason_code": "expiry", "reason": "x", "effective_date": "2029-12-31"},
        headers=other,
    )
    assert termination.status_code == 404
    amendment = service.client.post(
        f"/v1/labour-contracts/{contract_id}/versions",
        files={"document": ("a.pdf", DOCUMENT + b"x", "application/pdf")},
        data={
            "terms": json.dumps(
                {"relation": "amendment", "hr_operator": "HR", "key_terms": {"wage": 9}}
            )
        },
        headers=other,
    )
    assert amendment.status_code == 404, amendment.text
    # and the contract is as it was
    after = service.client.get(
        f"/v1/labour-contracts/{contract_id}", headers=service.employer_headers()
    )
    assert after.status_code == 200, after.text
    assert (after.json()["state"], after.json()["latest_version"]) == ("effective", 1)
    assert after.json()["pending"] is None


def _upload_terms(service: LabourService, terms: str) -> Any:
    return service.client.post(
        "/v1/labour-contracts",
        files={"document": ("contract.pdf", DOCUMENT, "application/pdf")},
        data={"terms": terms},
        headers=service.employer_headers(),
    )


def test_invalid_terms_are_answered_in_our_own_words(labour_service: LabourService) -> None:
    """Neither pydantic's text, nor the value sent, nor a link to its documentation."""
    service = labour_service
    secret = "11010119900307123X"
    body = {
        "employee_holder": secret,
        "employee_id_number": secret[:-1] + "Y",
        "hr_operator": "",
        "key_terms": {"position": "x"},
        "name_of_employee": "王小明",
    }
    response = _upload_terms(service, json.dumps(body, ensure_ascii=False))
    assert response.status_code == 400, response.text
    answer = response.json()
    assert set(answer) == {"code", "message", "detail"}
    assert answer["code"] == "validation_failed"
    assert answer["message"] == "the contract terms are not valid"
    assert answer["detail"] == [
        {"loc": ["terms", "employee_holder"], "problem": "not in the expected form"},
        {"loc": ["terms", "employee_did"], "problem": "missing"},
        {"loc": ["terms", "employee_name"], "problem": "missing"},
        {"loc": ["terms", "employee_id_number"], "problem": "not in the expected form"},
        {"loc": ["terms", "hr_operator"], "problem": "too short"},
        {"loc": ["terms", "name_of_employee"], "problem": "not allowed here"},
    ]
    text_of_answer = response.text
    for leak in (secret, secret[:-1], "王小明", "pydantic", "http", "should", "input"):
        assert leak not in text_of_answer, leak

    not_json = _upload_terms(service, "{not json " + secret)
    assert not_json.status_code == 400
    assert not_json.json() == {
        "code": "validation_failed",
        "message": "the contract terms are not valid",
        "detail": [{"loc": ["terms"], "problem": "not a JSON object"}],
    }


def test_an_employee_id_number_with_a_wrong_check_digit_is_refused(
    labour_service: LabourService,
) -> None:
    service = labour_service
    wallet = service.wallet(card=False)
    wrong = service.people[wallet.did]["idNumber"][:17] + "0"
    if wrong == service.people[wallet.did]["idNumber"]:
        wrong = wrong[:17] + "1"
    body = {
        "employee_holder": wallet.address,
        "employee_did": wallet.did,
        "employee_name": "王小明",
        "employee_id_number": wrong,
        "hr_operator": "HR",
        "key_terms": {"position": "x"},
    }
    response = _upload_terms(service, json.dumps(body, ensure_ascii=False))
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "employee_identity_invalid"
    assert response.json()["message"] == "idNumber check digit is wrong (ISO 7064 MOD 11-2)"
    assert wrong not in response.text


def test_terms_nested_too_deep_are_400_too_deep(labour_service: LabourService) -> None:
    service = labour_service
    contract_id = service.signed_contract(service.wallet())
    deep = '{"relation": "amendment", "hr_operator": "HR", "key_terms": ' + "[" * 40 + "]" * 40
    offered = service.client.post(
        f"/v1/labour-contracts/{contract_id}/versions",
        files={"document": ("amendment.pdf", DOCUMENT + b"deep", "application/pdf")},
        data={"terms": deep + "}"},
        headers=service.employer_headers(),
    )
    assert offered.status_code == 400, offered.text
    assert offered.json() == {
        "code": "too_deep",
        "message": "the terms document nests arrays and objects deeper than 32 levels",
        "detail": {"limit": 32},
    }


def test_the_employers_client_key_does_not_sign_a_contract(labour_service: LabourService) -> None:
    # The key the employer authenticates with (registered for client authentication) is not
    # a document-signing key: a signature made with it is refused, naming the check.
    service = labour_service
    contract = service.upload(service.wallet())
    response = service.employer_signs(contract, key=Jwk.from_jwk(service.employer_jwk))
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["detail"]["check"] == "signer_keys"
    assert body["message"].endswith(
        "is registered for client authentication, not for document signing"
    )
