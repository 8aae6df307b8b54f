"""Labour contracts in the national profile through the HTTP API (issue #17): a version's
document digest, key-terms commitment, records and anchored event digests are SM3, the
evidence package names SM3 wherever it states a digest and verifies; a signature that claims
another hash than the record names is refused."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from credential_service.crypto_profile import CryptoProfile
from tests.integration.credential_service.labour.harness import (
    DOCUMENT,
    LabourService,
    open_labour_service,
)
from wallet_sdk import HashAlgorithm
from wallet_sdk.evidence import (
    DIGEST_SIGNATURE_TYP,
    EvidencePackage,
    KeyTerms,
)
from wallet_sdk.evidence._records import signature_claims
from wallet_sdk.jcs import canonical_json_without_floats
from wallet_sdk.jose import b64url_encode, sign_compact

SM3 = HashAlgorithm.SM3


@pytest.fixture(scope="module")
def national(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabourService]:
    yield from open_labour_service(
        tmp_path_factory.mktemp("labour-national"), crypto_profile=CryptoProfile.NATIONAL
    )


def _verify(service: LabourService, package: bytes, document: bytes) -> dict[str, Any]:
    response = service.client.post(
        "/v1/evidence/verify",
        files={
            "package": ("evidence.json", package, "application/json"),
            "document": ("contract.pdf", document, "application/pdf"),
        },
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


def test_a_national_contract_is_sm3_from_document_to_anchor(national: LabourService) -> None:
    wallet = national.wallet()
    contract = national.upload(wallet)
    [version] = contract["versions"]
    assert version["digest_alg"] == "sm3"
    assert version["document_digest"] == "0x" + SM3.digest(DOCUMENT).hex()
    pending = contract["pending"]["record"]
    assert (pending["type"], pending["digest_alg"]) == ("hrss-labour-event/2", "sm3")
    assert national.employer_signs(contract).status_code == 200
    accepted = national.employee_signs(contract["contract_id"], wallet)
    assert accepted.status_code == 200, accepted.text
    national.batcher.drain()

    raw = national.evidence(contract["contract_id"])
    stated = json.loads(raw)
    assert [d["digest_alg"] for d in stated["documents"]] == ["sm3"]
    assert {e["record"]["digest_alg"] for e in stated["events"]} == {"sm3"}
    assert {e["receipt"]["hash_algorithm"] for e in stated["events"]} == {"sm3"}
    package = EvidencePackage.parse(raw)
    for event in package.events:  # what is anchored is the SM3 seal of the SM3 record
        assert event.record_digest == SM3.digest(event.record.canonical())
    key_terms = national.client.get(
        f"/v1/labour-contracts/{contract['contract_id']}", headers=national.employer_headers()
    ).json()["key_terms"]["1"]
    terms = KeyTerms(key_terms["terms"], bytes.fromhex(key_terms["salt"][2:]))
    assert version["key_terms_commitment"] == "0x" + terms.commitment(SM3).hex()

    report = _verify(national, raw, DOCUMENT)
    assert report["verdict"] == "verified", report["checks"]
    assert report["document_digest_alg"] == "sm3"
    assert report["document_digest"] == version["document_digest"]


def test_a_signature_claiming_sha256_for_an_sm3_record_is_refused(
    national: LabourService,
) -> None:
    wallet = national.wallet()
    contract = national.upload(wallet)
    record = national.pending_record(contract)
    key = national.employer_key
    signer = "0x" + national.employer_entity.hex()
    claims = {**signature_claims(record, signer), "digest_alg": "sha-256"}
    jws = sign_compact(
        canonical_json_without_floats(claims),
        key,
        headers={"typ": DIGEST_SIGNATURE_TYP, "kid": b64url_encode(key.thumbprint())},
    )
    refused = national.client.post(
        f"/v1/labour-contracts/{contract['contract_id']}/signature",
        json={"jws": jws},
        headers=national.employer_headers(),
    )
    assert refused.status_code == 400, refused.text
    assert refused.json()["detail"] == {"check": "signatures"}
