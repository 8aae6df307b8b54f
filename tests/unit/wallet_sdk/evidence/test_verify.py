"""`verify_evidence`: every check's pass and reject paths, against the in-process chain."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from node_adapter import EntityStatus, KeyAlgorithm, KeyPurpose
from tests.unit.wallet_sdk.evidence.conftest import DOCUMENT
from tests.unit.wallet_sdk.evidence.world import LabourWorld
from wallet_sdk.evidence import (
    EVIDENCE_CHECKS,
    ContractStatus,
    EvidencePackage,
    EvidenceReport,
    EvidenceVerificationError,
    KeyTerms,
    KeyTermsDisclosure,
    Relation,
    Role,
    Verdict,
    verify_evidence,
)
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.receipt import CheckStatus

ZERO_ADDRESS = "0x" + "00" * 20
AMENDED = DOCUMENT + "第十条 变更: 月工资调整为 28000 元\n".encode()


def _verify(world: LabourWorld, package: Any, document: bytes | None = DOCUMENT) -> EvidenceReport:
    return verify_evidence(package, document, world.view, strict=False, **world.verify_kwargs())


def _signed(world: LabourWorld, *, disclose: bool = False) -> EvidencePackage:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.anchor()
    return contract.package(disclose_terms=disclose)


def _register(world: LabourWorld, key: Jwk, *, purpose: KeyPurpose) -> None:
    """Register `key` for the employer in `TrustRegistry`, under its curve's algorithm code."""
    world.trust.register_key(
        world.registries.signers.employer,
        id=world.employer_id,
        key_id=key.thumbprint(),
        alg=KeyAlgorithm(key.curve.registry_code),
        purpose=purpose,
        public_key=key.raw_public_key(),
    )


def _signer_keys_failure(world: LabourWorld, key: Jwk) -> str:
    """The detail of the ``signer_keys`` failure of an offer signed with `key`."""
    contract = world.contract()
    contract.offer(DOCUMENT, key=key)
    contract.anchor()
    report = _verify(world, contract.package())
    assert report.first_failure is not None and report.first_failure.name == "signer_keys"
    return report.first_failure.detail


def _status(report: EvidenceReport, name: str) -> CheckStatus:
    return report.check(name).status


def test_genuine_pair_verifies_with_every_check_passed(world: LabourWorld) -> None:
    report = verify_evidence(
        _signed(world, disclose=True).to_json(), DOCUMENT, world.view, **world.verify_kwargs()
    )
    assert report.verdict is Verdict.VERIFIED
    assert [c.name for c in report.checks] == list(EVIDENCE_CHECKS)
    assert all(c.status is CheckStatus.PASSED for c in report.checks)
    assert report.subject_version == 1
    assert report.version_status is ContractStatus.EFFECTIVE
    assert [e.event for e in report.timeline] == ["employer_signed", "employee_signed"]
    assert all(e.block_number is not None for e in report.timeline)
    assert report.effective_at == report.timeline[1].block_time
    assert [a["role"] for a in report.accreditation] == ["employer", "province", "ministry"]
    assert all(a["status_at_signing"] == "active" for a in report.accreditation)


def test_package_without_document_verifies_and_says_the_document_was_not_checked(
    world: LabourWorld,
) -> None:
    report = _verify(world, _signed(world), document=None)
    assert report.verdict is Verdict.VERIFIED
    assert report.document_checked is False
    assert _status(report, "document") is CheckStatus.SKIPPED
    assert _status(report, "key_terms") is CheckStatus.SKIPPED


def test_tampered_document_fails_the_document_check(world: LabourWorld) -> None:
    tampered = DOCUMENT.replace("张三".encode(), "李四".encode())
    with pytest.raises(EvidenceVerificationError) as caught:
        verify_evidence(_signed(world), tampered, world.view, **world.verify_kwargs())
    assert caught.value.check == "document"
    assert "matches no version" in caught.value.message
    report = caught.value.evidence_report
    assert report.verdict is Verdict.FAILED
    assert _status(report, "both_parties_signed") is CheckStatus.SKIPPED
    # the package itself is still authentic: the rest passed
    assert _status(report, "signatures") is CheckStatus.PASSED


def test_signature_by_an_unregistered_key_fails_signer_keys(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT, key=Jwk.generate(Curve.ED25519))
    contract.accept()
    contract.anchor()
    report = _verify(world, contract.package())
    assert report.verdict is Verdict.FAILED
    assert report.first_failure is not None and report.first_failure.name == "signer_keys"
    assert "is not registered in TrustRegistry" in report.first_failure.detail
    assert _status(report, "signatures") is CheckStatus.SKIPPED


@pytest.mark.parametrize(
    "purpose", [KeyPurpose.CLIENT_AUTHENTICATION, KeyPurpose.CREDENTIAL_SIGNING]
)
def test_employer_key_of_another_purpose_fails_signer_keys(
    world: LabourWorld, purpose: KeyPurpose
) -> None:
    # The employer's OAuth client key authenticates it to the service; it never signs a
    # labour contract a court would accept.
    key = Jwk.generate(Curve.ED25519)
    _register(world, key, purpose=purpose)
    detail = _signer_keys_failure(world, key)
    name = purpose.name.lower().replace("_", " ")
    assert detail.endswith(f"is registered for {name}, not for document signing")


@pytest.mark.parametrize("curve", [Curve.P256, Curve.P384, Curve.P521, Curve.SM2])
def test_employer_document_keys_on_every_signing_curve_verify(
    world: LabourWorld, curve: Curve
) -> None:
    key = Jwk.generate(curve)
    _register(world, key, purpose=KeyPurpose.DOCUMENT_SIGNING)
    contract = world.contract()
    contract.offer(DOCUMENT, key=key)
    contract.accept()
    contract.anchor()
    report = _verify(world, contract.package())
    assert report.verdict is Verdict.VERIFIED, report.first_failure
    assert report.check("signer_keys").status is CheckStatus.PASSED


def test_an_employer_key_on_secp256k1_fails_signer_keys(world: LabourWorld) -> None:
    # The registry takes secp256k1 keys (wallets' chain accounts); a court does not take them
    # for a document signature.
    key = Jwk.generate(Curve.SECP256K1)
    _register(world, key, purpose=KeyPurpose.DOCUMENT_SIGNING)
    detail = _signer_keys_failure(world, key)
    assert "algorithm code 3" in detail


def test_key_of_another_entity_fails_signer_keys(world: LabourWorld) -> None:
    other = world.registries.accredit_under_province(
        "other-employer",
        kind=__import__("node_adapter").Kind.EMPLOYER,
        province=world.province_id,
        region=110105,
        controller=world.registries.signers.outsider,
    )
    key = Jwk.generate(Curve.P256)
    world.trust.register_key(
        world.registries.signers.outsider,
        id=other,
        key_id=key.thumbprint(),
        alg=__import__("node_adapter").KeyAlgorithm.ES256,
        purpose=KeyPurpose.DOCUMENT_SIGNING,
        public_key=key.raw_public_key(),
    )
    detail = _signer_keys_failure(world, key)
    assert "not to the employer" in detail


def test_contract_signed_by_the_employer_only_is_not_effective(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.anchor()
    with pytest.raises(EvidenceVerificationError) as caught:
        verify_evidence(contract.package(), DOCUMENT, world.view, **world.verify_kwargs())
    assert caught.value.check == "both_parties_signed"
    assert "not effective" in caught.value.message
    report = caught.value.evidence_report
    assert report.verdict is Verdict.NOT_EFFECTIVE
    assert report.version_status is ContractStatus.AWAITING_EMPLOYEE
    assert report.contract_status is ContractStatus.AWAITING_EMPLOYEE
    assert report.effective_at is None


def test_termination_is_shown_in_the_timeline(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.anchor()
    contract.terminate(by=Role.EMPLOYEE, reason="劳动者提前三十日书面通知解除")
    contract.anchor()
    report = _verify(world, contract.package())
    assert report.verdict is Verdict.VERIFIED
    assert report.contract_status is ContractStatus.TERMINATED
    assert report.version_status is ContractStatus.TERMINATED
    last = report.timeline[-1]
    assert (last.event, last.role) == ("terminated", "employee")
    assert "劳动者提前三十日书面通知解除" in last.detail
    assert last.block_time is not None and last.block_time >= report.timeline[1].block_time


def test_amendment_supersedes_the_earlier_version(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.offer(AMENDED, relation=Relation.AMENDMENT, terms={"monthly_wage_fen": 2_800_000})
    contract.accept()
    contract.anchor()
    package = contract.package(disclose_terms=True)
    old = _verify(world, package, DOCUMENT)
    new = _verify(world, package, AMENDED)
    assert (old.verdict, old.subject_version, old.version_status) == (
        Verdict.VERIFIED,
        1,
        ContractStatus.SUPERSEDED,
    )
    assert (new.verdict, new.subject_version, new.version_status) == (
        Verdict.VERIFIED,
        2,
        ContractStatus.EFFECTIVE,
    )


def test_pending_amendment_leaves_the_earlier_version_effective(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.offer(AMENDED, relation=Relation.RENEWAL)
    contract.anchor()
    package = contract.package()
    assert _verify(world, package, DOCUMENT).verdict is Verdict.VERIFIED
    assert _verify(world, package, AMENDED).verdict is Verdict.NOT_EFFECTIVE
    assert _verify(world, package, None).verdict is Verdict.NOT_EFFECTIVE  # the latest version


def test_event_not_yet_anchored_fails_anchoring(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.anchor()
    contract.accept()
    report = _verify(world, contract.package())
    assert report.first_failure is not None and report.first_failure.name == "anchoring"
    assert "not anchored yet" in report.first_failure.detail


def test_receipt_against_an_untrusted_registry_fails_anchoring(world: LabourWorld) -> None:
    report = verify_evidence(
        _signed(world),
        DOCUMENT,
        world.view,
        strict=False,
        anchor_registry=world.deployment.status_registry,
        trust_registry=world.deployment.trust_registry,
    )
    assert report.first_failure is not None and report.first_failure.name == "anchoring"
    assert "registry_address" in report.first_failure.detail


def _edit(package: EvidencePackage, index: int, **changes: Any) -> dict[str, Any]:
    """The package as JSON with event `index`'s record changed and its stated digests
    recomputed, as a forger would."""
    event = package.events[index]
    record = dataclasses.replace(event.record, **changes)
    events = list(package.events)
    events[index] = dataclasses.replace(event, record=record)
    return dataclasses.replace(package, events=tuple(events)).to_dict()


def test_edited_last_record_fails_the_signature_check(world: LabourWorld) -> None:
    package = _signed(world)
    report = _verify(world, _edit(package, 1, at=package.events[1].record.at - 86400))
    assert report.first_failure is not None and report.first_failure.name == "signatures"
    assert "event 1" in report.first_failure.detail


def test_edited_earlier_record_breaks_the_hash_chain(world: LabourWorld) -> None:
    package = _signed(world)
    report = _verify(world, _edit(package, 0, hr_operator="someone else"))
    assert report.first_failure is not None and report.first_failure.name == "event_chain"
    assert "hash chain" in report.first_failure.detail


def test_removed_event_breaks_the_hash_chain(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.terminate()
    contract.anchor()
    package = contract.package()
    cut = dataclasses.replace(package, events=(package.events[0], package.events[2]))
    report = _verify(world, cut)
    assert report.first_failure is not None and report.first_failure.name == "event_chain"


def test_stated_digest_mismatch_fails_format(world: LabourWorld) -> None:
    data = _signed(world).to_dict()
    data["events"][0]["record"]["hr_operator"] = "edited"
    report = _verify(world, json.dumps(data))
    assert report.first_failure is not None and report.first_failure.name == "format"
    assert "record_digest" in report.first_failure.detail
    assert all(c.status is CheckStatus.SKIPPED for c in report.checks[1:] if c.name != "document")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not valid JSON"),
        ('{"version": "hrss-evidence/1", "version": "x"}', "duplicate member"),
        ('{"generated_at": 1.5}', "non-integer number"),
        ("[]", "must be a JSON object"),
        ('{"version": "hrss-evidence/2"}', "does not match the schema"),
    ],
)
def test_malformed_package_fails_format(text: str, message: str) -> None:
    unused_chain: Any = None  # a package that does not parse never reaches the chain
    with pytest.raises(EvidenceVerificationError) as caught:
        verify_evidence(
            text, DOCUMENT, unused_chain, anchor_registry=ZERO_ADDRESS, trust_registry=ZERO_ADDRESS
        )
    assert caught.value.check == "format"
    assert message in caught.value.message
    assert caught.value.evidence_report.verdict is Verdict.FAILED


def test_key_revoked_before_anchoring_fails_key_validity(world: LabourWorld) -> None:
    contract = world.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    signed_at = contract.events[0].record.at
    world.trust.revoke_key(
        world.registries.signers.employer,
        key_id=world.employer_key.thumbprint(),
        revoked_at=signed_at + 1,
    )
    contract.anchor()  # anchored after the compromise: the signature's time is not proven
    report = _verify(world, contract.package())
    assert report.first_failure is not None and report.first_failure.name == "key_validity"
    assert "when the signature was anchored" in report.first_failure.detail


def test_key_revoked_after_anchoring_keeps_the_evidence_valid(world: LabourWorld) -> None:
    package = _signed(world)
    world.trust.revoke_key(
        world.registries.signers.employer,
        key_id=world.employer_key.thumbprint(),
        revoked_at=world.now() + 5,
    )
    world.registries.chain.mine(1)
    assert _verify(world, package).verdict is Verdict.VERIFIED


def test_employer_suspended_later_keeps_the_evidence_valid_and_reports_the_status(
    world: LabourWorld,
) -> None:
    package = _signed(world)
    world.trust.set_entity_status(
        world.registries.signers.province_a, id=world.employer_id, status=EntityStatus.SUSPENDED
    )
    report = _verify(world, package)
    assert report.verdict is Verdict.VERIFIED
    employer = report.accreditation[0]
    assert (employer["status_at_signing"], employer["status_now"]) == ("active", "suspended")


def test_wrong_accreditation_path_fails_accreditation(world: LabourWorld) -> None:
    package = _signed(world)
    path = list(package.accreditation_path)
    path[1] = dataclasses.replace(path[1], entity_id="0x" + "11" * 32)
    report = _verify(world, dataclasses.replace(package, accreditation_path=tuple(path)))
    assert report.first_failure is not None and report.first_failure.name == "accreditation"


def test_disclosed_key_terms_must_match_the_commitment(world: LabourWorld) -> None:
    package = _signed(world, disclose=True)
    genuine = package.key_terms[0].key_terms
    forged = KeyTerms({**genuine.terms, "monthly_wage_fen": 1}, genuine.salt)
    report = _verify(
        world, dataclasses.replace(package, key_terms=(KeyTermsDisclosure(1, forged),))
    )
    assert report.first_failure is not None and report.first_failure.name == "key_terms"


def test_chain_that_cannot_answer_fails_closed(world: LabourWorld) -> None:
    class Broken(type(world.view)):  # type: ignore[misc]
        def registered_key(self, trust_registry: str, key_id: bytes) -> Any:
            raise ConnectionError("node down")

    report = verify_evidence(
        _signed(world),
        DOCUMENT,
        Broken(world.registries.chain),
        strict=False,
        **world.verify_kwargs(),
    )
    assert report.verdict is Verdict.FAILED
    assert "chain query failed" in report.check("signer_keys").detail


def test_report_serialises_for_the_page(world: LabourWorld) -> None:
    data = _verify(world, _signed(world)).to_dict()
    json.dumps(data)
    assert data["verdict"] == "verified"
    assert data["first_failure"] is None
    assert {c["name"] for c in data["checks"]} == set(EVIDENCE_CHECKS)


def _edited(package: EvidencePackage) -> dict[str, Any]:
    """The package with every unsigned member edited (#11.5): the employer's name, a
    document's file name, the package's status and its embedded report."""
    data = package.to_dict()
    data["contract"]["employer"]["name"] = "伪造人力资源有限公司"
    data["documents"][0]["filename"] = "forged-contract.pdf"
    data["status"] = "forged-status-effective"
    data["report"] = {"verdict": "forged-verdict", "employer": "伪造人力资源有限公司"}
    return data


FORGED = ("伪造人力资源有限公司", "forged-contract.pdf", "forged-status", "forged-verdict")


def test_unsigned_package_members_are_never_reported_as_verified(world: LabourWorld) -> None:
    report = _verify(world, _edited(_signed(world)))
    # the edits touch nothing signed, so the evidence still verifies ...
    assert report.verdict is Verdict.VERIFIED
    proven = report.to_dict()
    unverified = proven.pop("unverified")
    # ... but nothing the report presents as proved carries an edited value
    text = json.dumps(proven, ensure_ascii=False)
    for forged in FORGED:
        assert forged not in text
    assert all(e.signer != "伪造人力资源有限公司" for e in report.timeline)
    # the stated name is kept apart, under "unverified", for a reader to mark
    assert unverified == {"employer_name": "伪造人力资源有限公司"}
    assert report.stated_employer_name == "伪造人力资源有限公司"
    assert report.timeline[0].signer == report.employer_credit_code


def test_every_check_carries_a_reason_code_rendered_in_both_languages(
    world: LabourWorld,
) -> None:
    report = _verify(world, _signed(world), DOCUMENT + b"tampered")
    checks = report.to_dict()["checks"]
    assert {c["name"] for c in checks} == set(EVIDENCE_CHECKS)
    document = next(c for c in checks if c["name"] == "document")
    assert document["code"] == "document.no_match"
    assert document["detail"] == report.reasons["document"].text("en")
    assert "与证据包中任何版本都不一致" in report.reasons["document"].text("zh")
    blocked = next(c for c in checks if c["name"] == "both_parties_signed")
    assert (blocked["code"], blocked["params"]) == ("not_run", {"checks": "document"})
    # a file that is no version of the contract is not reported as "version 1, effective"
    assert (report.subject_version, report.version_status) == (None, ContractStatus.UNKNOWN)
