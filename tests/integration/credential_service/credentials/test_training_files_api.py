"""Training files through the service: issuance refuses malformed file claims and impossible
course dates (422 with a stable code); ``POST /v1/training-files/verify`` runs the whole file
check on a holder's presentation."""

from __future__ import annotations

import time
from typing import Any

import pytest
from sqlmodel import Session, select

from credential_service.credentials.issuance import (
    FILE_ENTRY_BATCH,
    issue_credentials,
    issue_uncommitted,
)
from credential_service.credentials.models import CredentialRequest
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import Conflict
from credential_service.jwk import parse_public_jwk
from credential_service.models import KeyPurpose as ModelKeyPurpose
from credential_service.models import Organisation, OrganisationKind, PublicJwk, utc_now
from tests.integration.credential_service.conftest import Service
from tests.integration.credential_service.credentials.test_credentials_api import (
    client_of,
    issue,
    post,
)
from tests.integration.credential_service.test_key_revocation import public_members
from tests.unit.wallet_sdk.credentials.world import training_subject
from wallet_sdk._key_purpose import KeyPurpose
from wallet_sdk.credentials import TrainingFile, file_head_key, training_file_id
from wallet_sdk.jose import Curve, Jwk, b64url_encode

AUDIENCE = "https://rsj.sh.example/training-check"
PERSON = {"name": "王小明", "idNumber": "11010519900307123X"}


def entry_request(
    training_file: TrainingFile, holder: Jwk, course: str, hours: int, end: str, **over: Any
) -> dict[str, Any]:
    return {
        "type": "TrainingRecord",
        "subject": {**training_subject(course, hours, end), **PERSON, **over},
        "holder_jwk": holder.public_jwk(),
        "training_file": training_file.next_link().to_claim(),
    }


def verify_over_http(
    service: Service, verifier: str, holder: Jwk, file: TrainingFile
) -> dict[str, Any]:
    """The report of ``POST /v1/training-files/verify`` on `file` presented by `holder`."""
    presentation = file.present(
        holder_key=holder, nonce="zj-1", audience=AUDIENCE, issued_at=int(time.time())
    )
    response = post(
        service,
        verifier,
        "/v1/training-files/verify",
        {"presentation": presentation.to_dict(), "nonce": "zj-1", "audience": AUDIENCE},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ({"foo": 1}, "trainingFile has unknown members ['foo']"),
        (
            {"file": "", "sequence": -5, "previous": "zz"},
            "trainingFile.file must be a non-empty string",
        ),
        ({}, "trainingFile.file must be a non-empty string"),
    ],
)
def test_malformed_file_claims_are_refused(
    service: Service, accredited: dict[str, str], claim: dict[str, Any], message: str
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    request = {**entry_request(TrainingFile.for_holder(holder), holder, "电工", 8, "2026-01-31")}
    request["training_file"] = claim
    response = issue(service, accredited["school"], request)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "training_file_invalid"
    assert body["message"] == message and body["detail"] == {"index": 0}


def test_entry_for_another_holders_file_is_refused(
    service: Service, accredited: dict[str, str]
) -> None:
    holder, stranger = Jwk.generate(Curve.ED25519), Jwk.generate(Curve.ED25519)
    request = entry_request(TrainingFile.for_holder(stranger), holder, "电工", 8, "2026-01-31")
    response = issue(service, accredited["school"], request)
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "training_file_invalid"
    assert response.json()["message"] == "training_file is not the file of the holder_jwk's holder"
    del request["holder_jwk"]
    response = issue(service, accredited["school"], request)
    assert response.status_code == 400, response.text
    assert response.json()["message"] == "a training file entry needs the holder's key (holder_jwk)"


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"endDate": "2026-13-45"}, "endDate 2026-13-45 is not a calendar date"),
        ({"endDate": "2026-00-00"}, "endDate 2026-00-00 is not a calendar date"),
        ({"startDate": "2026-03-01", "endDate": "2026-02-01"}, "endDate 2026-02-01 is before"),
        ({"endDate": "9999-12-31"}, "endDate 9999-12-31 is after the issue date"),
    ],
)
def test_impossible_course_dates_are_refused(
    service: Service, accredited: dict[str, str], over: dict[str, str], message: str
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    request = entry_request(
        TrainingFile.for_holder(holder), holder, "电工", 8, "2026-01-31", **over
    )
    response = issue(service, accredited["school"], request)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "training_dates_invalid" and message in body["message"]


def test_training_file_verified_over_http_by_another_province(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    """A verifier in Zhejiang checks a file the Guangdong school built: the whole file passes
    and names the school; the same file with the middle entry removed fails (over HTTP the
    entries alone would each verify)."""
    school = accredited["school"]
    verifier = client_of(service, OrganisationKind.DATA_USER)  # Hangzhou, Zhejiang
    holder = Jwk.generate(Curve.ED25519)
    training_file = TrainingFile.for_holder(holder)
    courses = (("电工", 40, "2025-05-01"), ("焊工", 24, "2026-02-01"), ("PLC", 8, "2026-03-01"))
    for course, hours, end in courses:
        response = issue(service, school, entry_request(training_file, holder, course, hours, end))
        assert response.status_code == 201, response.text
        training_file = training_file.append(response.json()["credentials"][0]["credential"])
    runtime.trust_state.refresh()

    def verify(file: TrainingFile) -> dict[str, Any]:
        return verify_over_http(service, verifier, holder, file)

    report = verify(training_file)
    assert report["verdict"] == "verified" and report["verified_hours"] == 72
    assert report["hours_by_period"] == {"2025": 40, "2026": 32}
    issuer = report["entries"][0]["issuer"]
    assert issuer["name"] == "广州市高级技工学校" and issuer["province"] == "广东省"
    assert issuer["accreditation_path_text"].startswith(
        "广州市高级技工学校, accredited by 广东省人力资源和社会保障厅, accredited by "
    )
    assert report["entries"][0]["issued_at"].endswith("Z")

    middle_removed = TrainingFile(
        training_file.file_id, (training_file.entries[0], training_file.entries[2])
    )
    report = verify(middle_removed)
    assert report["verdict"] == "failed" and report["verified"] is False
    failed = [c for c in report["checks"] if c["status"] == "failed"]
    assert [c["check"] for c in failed] == ["entry_links", "file_head"]
    assert "sequence numbers [1] are missing: an entry was removed" in failed[0]["detail"]
    assert failed[1]["detail"] == (
        "the file shows 2 entries but its head on chain is entry 2: entries missing before the last"
    )

    response = post(
        service,
        verifier,
        "/v1/training-files/verify",
        {"presentation": {"format": "x"}, "nonce": "zj-1", "audience": AUDIENCE},
    )
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "training_file_invalid"
    assert response.json()["message"] == "not a hrss-training-file-presentation/1 document"


def test_public_registry_view_across_provinces(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    school = accredited["school"]
    verifier = client_of(service, OrganisationKind.DATA_USER)  # Hangzhou, Zhejiang
    # The tenant-scoped view stays closed to another province ...
    response = service.client.get(f"/v1/organisations/{school}", headers=service.headers(verifier))
    assert response.status_code == 403 and response.json()["code"] == "tenant_forbidden"
    # ... the public registry view is open to any authenticated verifier.
    runtime.trust_state.refresh()
    response = service.client.get(
        f"/v1/registry/organisations/{school}", headers=service.headers(verifier)
    )
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["name"] == "广州市高级技工学校" and profile["province"] == "广东省"
    assert profile["kind"] == "issuer" and profile["status"] == "active"
    assert profile["accreditation_path"][0]["name"] == "广东省人力资源和社会保障厅"
    training = next(t for t in profile["credential_types"] if t["type"] == "TrainingRecord")
    assert training["allowed"] and training["history"][0]["at"].endswith("Z")
    # Key purposes are read from the chain (TrustRegistry.getKey), key by key: a document
    # signing key registered on chain beside the service shows as such, not "unknown".
    document_key = Jwk.generate(Curve.P256)
    service.context.ledger.register_key(
        credit_code=school,
        key=parse_public_jwk(PublicJwk.model_validate(public_members(document_key))),
        purpose=ModelKeyPurpose.DOCUMENT_SIGNING,
        valid_from=None,
        valid_until=None,
    )
    runtime.trust_state.refresh()
    response = service.client.get(
        f"/v1/registry/organisations/{school}", headers=service.headers(verifier)
    )
    profile = response.json()
    record = runtime.trust_state.entity_record(bytes.fromhex(profile["entity_id"][2:]))
    assert record is not None
    on_chain = {b64url_encode(key_id): KeyPurpose(key.purpose) for key_id, key in record.keys}
    assert {k["key_id"]: k["purpose"] for k in profile["keys"]} == {
        key_id: purpose.name.lower() for key_id, purpose in on_chain.items()
    }
    by_key = {k["key_id"]: k["purpose"] for k in profile["keys"]}
    assert by_key[b64url_encode(document_key.thumbprint())] == "document_signing"
    assert "client_authentication" in by_key.values()
    by_id = service.client.get(
        f"/v1/registry/organisations/{profile['entity_id']}", headers=service.headers(verifier)
    )
    assert by_id.status_code == 200 and by_id.json()["credit_code"] == school
    response = service.client.get(
        "/v1/registry/organisations/not-a-code-or-an-entity-id", headers=service.headers(verifier)
    )
    assert response.status_code == 400
    assert response.json()["code"] == "registry_reference_invalid"
    response = service.client.get(
        "/v1/registry/organisations/0x" + "ab" * 32, headers=service.headers(verifier)
    )
    assert response.status_code == 404 and response.json()["code"] == "organisation_not_found"
    response = service.client.get(f"/v1/registry/organisations/{school}")
    assert response.status_code == 401


def test_sd_jwt_entry_issued_into_a_file(service: Service, accredited: dict[str, str]) -> None:
    """An entry as an SD-JWT VC, so the holder can show it without the ID number."""
    holder = Jwk.generate(Curve.ED25519)
    training_file = TrainingFile.for_holder(holder)
    request = {
        **entry_request(training_file, holder, "电工", 8, "2026-01-31"),
        "format": "vc+sd-jwt",
        "disclosable": ["hours", "course", "startDate", "endDate"],
    }
    response = issue(service, accredited["school"], request)
    assert response.status_code == 201, response.text
    token = response.json()["credentials"][0]["credential"]
    shown = training_file.append(token).disclose(["hours"])
    assert PERSON["idNumber"] not in shown.to_json()


def test_second_entry_at_a_taken_sequence_is_refused(
    service: Service, accredited: dict[str, str]
) -> None:
    """Finding 1 (forks): the service signed two entries with the same file, sequence and
    previous link (201 twice). The second is now 409 ``training_file_sequence_taken``; an
    entry that skips ahead of the file's head on chain is 409 ``training_file_not_head``."""
    holder = Jwk.generate(Curve.ED25519)
    training_file = TrainingFile.for_holder(holder)
    request = entry_request(training_file, holder, "电工", 8, "2026-01-31")
    first = issue(service, accredited["school"], request)
    assert first.status_code == 201, first.text
    second = issue(service, accredited["school"], {**request, "subject": {**request["subject"]}})
    assert second.status_code == 409, second.text
    body = second.json()
    assert body["code"] == "training_file_sequence_taken"
    assert body["message"] == "training file entry 0 is already taken: the file's head is entry 0"
    assert body["detail"] == {"index": 0, "sequence": 0, "length": 1}

    training_file = training_file.append(first.json()["credentials"][0]["credential"])
    skipping = {**request, "training_file": {**training_file.next_link().to_claim(), "sequence": 2}}
    response = issue(service, accredited["school"], skipping)
    assert response.status_code == 409, response.text
    assert response.json()["code"] == "training_file_not_head"
    twice = issue(
        service,
        accredited["school"],
        entry_request(training_file, holder, "焊工", 8, "2026-02-01"),
        entry_request(training_file, holder, "PLC", 8, "2026-02-01"),
    )
    assert twice.status_code == 409, twice.text
    assert twice.json()["code"] == "training_file_sequence_taken"
    assert twice.json()["detail"]["index"] == 1


def test_truncated_file_fails_file_head_over_http(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    """Finding 2 (truncation): a file with its last entry dropped verified; the head on chain
    now names the entry the file must end with."""
    school = accredited["school"]
    verifier = client_of(service, OrganisationKind.DATA_USER)
    holder = Jwk.generate(Curve.ED25519)
    training_file = TrainingFile.for_holder(holder)
    for course, hours, end in (("电工", 40, "2025-05-01"), ("焊工", 24, "2026-02-01")):
        response = issue(service, school, entry_request(training_file, holder, course, hours, end))
        assert response.status_code == 201, response.text
        training_file = training_file.append(response.json()["credentials"][0]["credential"])
    runtime.trust_state.refresh()
    truncated = TrainingFile(training_file.file_id, training_file.entries[:1])
    report = verify_over_http(service, verifier, holder, truncated)
    assert report["verdict"] == "failed"
    failed = [c for c in report["checks"] if c["status"] == "failed"]
    assert [c["check"] for c in failed] == ["file_head"]
    assert failed[0]["detail"] == (
        "the file shows 1 entries but its head on chain is entry 1: entries dropped from the end"
    )


def test_a_sequence_taken_by_a_concurrent_request_is_409_from_the_chain(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    """Two requests for entry 0 of one file, both past the service's own check: the one that
    reaches the chain second is refused by the contract (``FileSequenceTaken``), answered as
    409 ``training_file_sequence_taken``."""
    holder = Jwk.generate(Curve.ED25519)
    request = CredentialRequest.model_validate(
        entry_request(TrainingFile.for_holder(holder), holder, "电工", 8, "2026-01-31")
    )
    with Session(service.context.engine) as session:
        school = session.exec(
            select(Organisation).where(Organisation.credit_code == accredited["school"])
        ).one()

        def concurrent_request_wins() -> None:
            with Session(service.context.engine) as other:
                issue_credentials(
                    session=other, runtime=runtime, issuer=school, requests=[request], now=utc_now()
                )

        with pytest.raises(Conflict) as raised:
            issue_uncommitted(
                session=session,
                runtime=runtime,
                issuer=school,
                requests=[request],
                now=utc_now(),
                before_chain=concurrent_request_wins,
            )
        session.rollback()
    assert raised.value.code == "training_file_sequence_taken"
    assert raised.value.detail == {"error": "FileSequenceTaken"}
    assert str(raised.value).startswith("a training file entry was taken meanwhile: ")


def test_a_request_of_more_file_entries_than_one_transaction_holds(
    service: Service, runtime: CredentialRuntime, accredited: dict[str, str]
) -> None:
    """81 entries (81 files) in one request: registered with their heads in two
    transactions of at most `FILE_ENTRY_BATCH`, each head then at entry 0."""
    holders = [Jwk.generate(Curve.ED25519) for _ in range(FILE_ENTRY_BATCH + 1)]
    requests = [
        entry_request(TrainingFile.for_holder(h), h, "电工", 8, "2026-01-31") for h in holders
    ]
    response = issue(service, accredited["school"], *requests)
    assert response.status_code == 201, response.text
    issued = response.json()["credentials"]
    for holder, credential in zip(holders, issued, strict=True):
        key = file_head_key(runtime.file_head_secret(), training_file_id(holder))
        head = runtime.clients.status_registry.file_head(key)
        assert (head.length, "0x" + head.digest.hex()) == (1, credential["digest"])
