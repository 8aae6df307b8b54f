"""SM3 beside SHA-256 in labour-contract evidence (issue #17): every artefact names its hash
(records ``hrss-labour-event/2``, documents, signatures, seals, receipts), verification reads
both, and an unknown or mismatched hash fails closed with the check named.

SM3 itself is pinned to GB/T 32905's vectors in tests/unit/wallet_sdk/test_sm3.py; here it is
`HashAlgorithm.SM3` that every digest goes through."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tests.unit.wallet_sdk.evidence import conftest as evidence_fixtures
from tests.unit.wallet_sdk.evidence.conftest import DOCUMENT
from tests.unit.wallet_sdk.evidence.test_records import HEX, _offer
from tests.unit.wallet_sdk.evidence.world import LabourWorld
from wallet_sdk import HashAlgorithm
from wallet_sdk.cli import main
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.evidence import (
    EVENT_RECORD_TYPE,
    EVENT_RECORD_TYPE_NAMED_DIGEST,
    EventKind,
    EventRecord,
    EvidencePackage,
    EvidenceReport,
    KeyTerms,
    Relation,
    Verdict,
    event_digest,
    key_terms_commitment,
    sign_as_employee,
    sign_as_employer,
    verify_evidence,
)
from wallet_sdk.jose import Curve, Jwk, b64url_decode
from wallet_sdk.receipt import CheckStatus
from wallet_sdk.wallet import Wallet, verify_digest_signature

SM3 = HashAlgorithm.SM3
AMENDED = DOCUMENT + "第十条 变更: 月工资调整为 28000 元\n".encode()
SHA256 = HashAlgorithm.SHA256
ASSETS = Path(__file__).parents[3] / "assets" / "wallet_sdk"
# The evidence tests' fixtures: `world` on the in-process chain only.
_chain_base = evidence_fixtures._chain_base
world = evidence_fixtures.world


def _verify(world: LabourWorld, package: Any, document: bytes | None = DOCUMENT) -> EvidenceReport:
    return verify_evidence(package, document, world.view, strict=False, **world.verify_kwargs())


def _national(world: LabourWorld, *, terminate: bool = False) -> EvidencePackage:
    contract = world.contract(digest_alg=SM3)
    contract.offer(DOCUMENT)
    contract.accept()
    if terminate:
        contract.terminate()
    contract.anchor()
    return contract.package(disclose_terms=True)


# ------------------------------------------------------------------------------ records


def test_an_sm3_record_names_its_hash_and_its_digest_is_sm3_of_the_canonical_record() -> None:
    record = _offer(digest_alg=SM3)
    members = record.to_dict()
    assert members["type"] == EVENT_RECORD_TYPE_NAMED_DIGEST == "hrss-labour-event/2"
    assert members["digest_alg"] == "sm3"
    assert record.digest() == SM3.digest(record.canonical())
    assert EventRecord.from_dict(members) == record
    # the same record under SHA-256 keeps the /1 form, whose digests predate SM3
    sha = _offer(contract_id=record.contract_id)
    assert sha.to_dict()["type"] == EVENT_RECORD_TYPE and "digest_alg" not in sha.to_dict()
    assert sha.digest() == hashlib.sha256(sha.canonical()).digest() != record.digest()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"digest_alg": "sha-512"}, "unknown record digest_alg 'sha-512'"),
        ({"digest_alg": "SM3"}, "unknown record digest_alg 'SM3'"),
        ({"digest_alg": "sha-256"}, "a SHA-256 record is 'hrss-labour-event/1'"),
        ({"digest_alg": None}, "unknown record digest_alg None"),
        ({"digest_alg": 3}, "unknown record digest_alg 3"),
        ({"type": "hrss-labour-event/3"}, "record type must be"),
    ],
)
def test_an_unknown_or_ambiguous_record_hash_is_refused(
    changes: dict[str, Any], message: str
) -> None:
    members = {**_offer(digest_alg=SM3).to_dict(), **changes}
    with pytest.raises(FormatError, match=message.replace("(", r"\(")):
        EventRecord.from_dict(members)


def test_a_record_form_and_its_members_must_agree() -> None:
    sm3 = _offer(digest_alg=SM3).to_dict()
    with pytest.raises(FormatError, match="'hrss-labour-event/2' record names its digest_alg"):
        EventRecord.from_dict({k: v for k, v in sm3.items() if k != "digest_alg"})
    with pytest.raises(FormatError, match=r"unexpected \['digest_alg'\]"):
        EventRecord.from_dict({**_offer().to_dict(), "digest_alg": "sm3"})
    with pytest.raises(FormatError, match="digest_alg must be a HashAlgorithm"):
        _offer(digest_alg="sm3")


def test_key_terms_commit_with_hmac_sm3_in_an_sm3_record() -> None:
    terms = KeyTerms.new({"position": "工程师", "monthly_wage_fen": 2_500_000})
    canonical = json.dumps(
        terms.terms, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert terms.commitment() == hmac.digest(terms.salt, canonical, "sha256")
    assert terms.commitment(SM3) == key_terms_commitment(terms.terms, terms.salt, SM3)
    # HMAC-SM3 against OpenSSL's own HMAC, independent of the cryptography backend used
    if "sm3" in hashlib.algorithms_available:
        assert terms.commitment(SM3) == hmac.digest(terms.salt, canonical, "sm3")
    assert terms.commitment(SM3) != terms.commitment()


def test_hmac_sm3_matches_the_openssl_command_line() -> None:
    # `printf abc | openssl dgst -sm3 -hmac key` (OpenSSL 3.0)
    expected = "28e63256e7c5a087b1f073265dc53092163f7b82729735d06f28f10af9d52393"
    assert SM3.mac(b"key", b"abc").hex() == expected


def test_an_sm3_seal_names_its_hash_and_differs_from_the_sha256_seal() -> None:
    digest = bytes(32)
    sealed = {
        "type": "hrss-labour-event-seal/2",
        "digest_alg": "sm3",
        "record_digest": "0x" + digest.hex(),
        "signature": "a.b.c",
    }
    canonical = json.dumps(sealed, sort_keys=True, separators=(",", ":")).encode()
    assert event_digest(digest, "a.b.c", algorithm=SM3) == SM3.digest(canonical)
    assert event_digest(digest, "a.b.c", algorithm=SM3) != event_digest(digest, "a.b.c")


def test_both_parties_sign_the_sm3_record_digest_and_say_so(tmp_path: Path) -> None:
    key = Jwk.generate(Curve.ED25519)
    wallet = Wallet.create(tmp_path / "w", "passphrase", scrypt_n=2**10)
    offer = _offer(digest_alg=SM3)
    signature = sign_as_employer(offer, key=key, entity_id=bytes(32))
    claims = json.loads(b64url_decode(signature.jws.split(".")[1]))
    assert claims["digest_alg"] == "sm3" and claims["digest"] == offer.digest().hex()
    termination = EventRecord(
        contract_id=offer.contract_id,
        sequence=1,
        previous="0x" + offer.digest().hex(),
        event=EventKind.TERMINATED,
        version=1,
        document_digest=HEX,
        key_terms_commitment=HEX,
        at=1_800_000_100,
        terminated_by="employee",  # type: ignore[arg-type]  # parsed into the enum
        reason_code="resignation",
        reason="辞职",
        effective_date="2027-06-30",
        digest_alg=SM3,
    )
    by_employee = sign_as_employee(termination, wallet=wallet)
    claims = json.loads(b64url_decode(by_employee.jws.split(".")[1]))
    assert claims["digest_alg"] == "sm3" and claims["digest"] == termination.digest().hex()


def test_the_wallet_signs_a_digest_of_the_hash_it_is_told(tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path / "w", "passphrase", scrypt_n=2**10)
    signed = wallet.sign_digest(SM3.digest(DOCUMENT), now=1_800_000_000, algorithm=SM3)
    claims = json.loads(b64url_decode(signed.jws.split(".")[1]))
    assert claims["digest_alg"] == "sm3" and claims["digest"] == SM3.digest(DOCUMENT).hex()
    with pytest.raises(FormatError, match="must be a HashAlgorithm"):
        wallet.sign_digest(bytes(32), now=1, algorithm="sm3")  # type: ignore[arg-type]
    with pytest.raises(FormatError, match=r"32 bytes \(SM3\)"):
        wallet.sign_digest(bytes(20), now=1, algorithm=SM3)
    assert verify_digest_signature(
        signed.jws, digest=SM3.digest(DOCUMENT), signer=wallet.did, algorithm=SM3
    )
    # the verifier states the hash it expects: an SM3 signature is not a SHA-256 one
    with pytest.raises(VerificationError, match="over a sm3 digest, not sha-256") as caught:
        verify_digest_signature(signed.jws, digest=SM3.digest(DOCUMENT), signer=wallet.did)
    assert caught.value.check == "digest"


def test_hrss_wallet_sign_digest_signs_the_sm3_digest_of_a_file(tmp_path: Path) -> None:
    secret = tmp_path / "pass.txt"
    secret.write_text("s3cret passphrase\n")
    wallet = ["--wallet", str(tmp_path / "w"), "--passphrase-file", str(secret)]
    document = tmp_path / "contract.pdf"
    document.write_bytes(DOCUMENT)
    runner = CliRunner()
    assert runner.invoke(main, ["init", *wallet, "--scrypt-n", "1024"]).exit_code == 0
    result = runner.invoke(main, ["sign-digest", *wallet, str(document), "--algorithm", "sm3"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert (out["digest_alg"], out["digest"]) == ("sm3", SM3.digest(DOCUMENT).hex())
    verify_digest_signature(
        out["jws"], digest=SM3.digest(DOCUMENT), signer=out["signer"], algorithm=SM3
    )


# ------------------------------------------------------------------------------ packages


def test_a_national_package_verifies_with_sm3_throughout(world: LabourWorld) -> None:
    package = _national(world, terminate=True)
    assert {d.digest_alg for d in package.documents} == {SM3}
    assert {e.record.digest_alg for e in package.events} == {SM3}
    assert {e.receipt.hash_algorithm for e in package.events if e.receipt} == {"sm3"}
    parsed = EvidencePackage.parse(package.to_json())  # through JSON Schema and back
    assert parsed.to_dict() == package.to_dict()
    report = _verify(world, parsed)
    assert report.verdict is Verdict.VERIFIED, report.first_failure
    assert report.document_digest == "0x" + SM3.digest(DOCUMENT).hex()
    assert report.document_digest_alg == "sm3"
    assert report.reasons["document"].to_dict()["params"]["algorithm"] == "SM3"
    assert report.check("key_terms").status is CheckStatus.PASSED  # HMAC-SM3 commitments
    assert report.to_dict()["document_digest_alg"] == "sm3"


def test_a_sha256_package_still_verifies_and_names_sha256(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.anchor()
    package = contract.package(disclose_terms=True)
    assert {e.record.to_dict()["type"] for e in package.events} == {EVENT_RECORD_TYPE}
    report = _verify(world, package.to_json())
    assert report.verdict is Verdict.VERIFIED, report.first_failure
    assert report.document_digest == "0x" + hashlib.sha256(DOCUMENT).hexdigest()
    assert report.document_digest_alg == "sha-256"


def test_a_contract_amended_after_a_switch_to_the_national_profile_verifies_both_versions(
    world: LabourWorld,
) -> None:
    """Version 1 made in the international profile (SHA-256), version 2 after the deployment
    moved to the national one (SM3): one package, each version read under its own hash."""
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.anchor()
    contract.digest_alg = SM3
    contract.offer(AMENDED, relation=Relation.AMENDMENT)
    contract.accept()
    contract.anchor()
    package = contract.package(disclose_terms=True)
    assert [e.record.digest_alg for e in package.events] == [SHA256, SHA256, SM3, SM3]
    assert [d.digest_alg for d in package.documents] == [SHA256, SM3]
    for document, version, alg in ((DOCUMENT, 1, "sha-256"), (AMENDED, 2, "sm3")):
        report = _verify(world, package.to_json(), document)
        assert report.verdict is Verdict.VERIFIED, report.first_failure
        assert (report.subject_version, report.document_digest_alg) == (version, alg)
    assert _verify(world, package.to_json(), None).check("key_terms").status is (CheckStatus.PASSED)


def test_a_document_that_is_not_the_contract_fails_naming_the_hash_tried(
    world: LabourWorld,
) -> None:
    report = _verify(world, _national(world), DOCUMENT + b"!")
    assert report.first_failure is not None and report.first_failure.name == "document"
    digest = SM3.digest(DOCUMENT + b"!").hex()
    assert f"SM3 0x{digest} matches no version" in report.check("document").detail


def test_a_document_listed_under_another_hash_than_its_records_fails_event_chain(
    world: LabourWorld,
) -> None:
    package = _national(world)
    relabelled = dataclasses.replace(
        package,
        documents=tuple(dataclasses.replace(d, digest_alg=SHA256) for d in package.documents),
    )
    report = _verify(world, relabelled.to_json(), None)
    assert report.verdict is Verdict.FAILED
    assert report.first_failure is not None and report.first_failure.name == "event_chain"
    assert report.reasons["event_chain"].code == "event_chain.digest_alg"
    assert "hashed with SM3 but its version's document is listed under SHA-256" in (
        report.first_failure.detail
    )


def test_a_receipt_for_another_hash_than_the_record_fails_anchoring(world: LabourWorld) -> None:
    package = _national(world)
    first = package.events[0]
    assert first.receipt is not None
    forged = dataclasses.replace(first.receipt, hash_algorithm="sha-256")
    events = (dataclasses.replace(first, receipt=forged), *package.events[1:])
    report = _verify(world, dataclasses.replace(package, events=events))
    assert report.first_failure is not None and report.first_failure.name == "anchoring"
    assert "receipt is for a digest of sha-256" in report.first_failure.detail


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda p: p["documents"][0].update(digest_alg="sha-512"), "digest_alg"),
        (lambda p: p["events"][0]["record"].update(digest_alg="sha3-256"), "digest_alg"),
        (lambda p: p["events"][0]["record"].pop("digest_alg"), "digest_alg"),
    ],
)
def test_an_unknown_or_missing_hash_in_a_package_fails_format(
    world: LabourWorld, edit: Any, message: str
) -> None:
    package = json.loads(_national(world).to_json())
    edit(package)
    report = _verify(world, package)
    assert report.verdict is Verdict.FAILED
    assert report.first_failure is not None and report.first_failure.name == "format"
    assert message in report.first_failure.detail


def test_the_national_vector_parses_and_its_digests_are_sm3() -> None:
    """tests/assets/wallet_sdk/evidence-1.national.example.json: a national package (SM3
    records, documents, seals and receipts) beside the SHA-256 example, which still parses
    (tests/unit/wallet_sdk/evidence/test_records.py)."""
    text = (ASSETS / "evidence-1.national.example.json").read_text(encoding="utf-8")
    package = EvidencePackage.parse(text)  # recomputes every record and event digest
    assert json.loads(package.to_json()) == json.loads(text)
    assert [e.record.to_dict()["type"] for e in package.events] == [
        EVENT_RECORD_TYPE_NAMED_DIGEST
    ] * len(package.events)
    [document] = package.documents
    assert document.digest_alg is SM3 and document.digest == "0x" + SM3.digest(DOCUMENT).hex()
    for event in package.events:
        assert event.receipt is not None and event.receipt.algorithm is SM3
        assert event.receipt.document_digest == "0x" + event.event_digest.hex()
    [disclosure] = package.key_terms
    commitment = "0x" + disclosure.key_terms.commitment(SM3).hex()
    assert package.events[0].record.key_terms_commitment == commitment
