"""The ``employee_identity`` check of `verify_evidence`: the employee's acceptance carries an
e-card proof bound to the record; the card must be active when the chain witnessed the
signature, bound to the signing key, and its holder the employee the offers name. On the
in-process chain, with the card issued and reported lost on the same registries."""

from __future__ import annotations

import dataclasses

from node_adapter import EntityStatus
from tests.unit.wallet_sdk.evidence.conftest import DOCUMENT
from tests.unit.wallet_sdk.evidence.world import OTHER_PERSON, LabourWorld
from wallet_sdk.evidence import EvidencePackage, EvidenceReport, Verdict, verify_evidence
from wallet_sdk.jose import Curve, Jwk
from wallet_sdk.receipt import CheckStatus


def _verify(world: LabourWorld, package: EvidencePackage, **kwargs: object) -> EvidenceReport:
    options = {**world.verify_kwargs(), **kwargs}
    return verify_evidence(package, DOCUMENT, world.view, strict=False, **options)  # type: ignore[arg-type]


def _accepted(world: LabourWorld, **named: str) -> EvidencePackage:
    contract = world.contract()
    if named:
        contract.named = named
    contract.offer(DOCUMENT)
    contract.accept()
    contract.anchor()
    return contract.package()


def _failed(report: EvidenceReport, code: str) -> None:
    assert report.verdict is Verdict.FAILED
    assert report.first_failure is not None
    assert report.first_failure.name == "employee_identity"
    assert report.reasons["employee_identity"].code == code
    assert report.employee_identity is None


def test_the_named_employee_is_shown_as_a_verified_fact(world: LabourWorld) -> None:
    report = _verify(world, _accepted(world))
    assert report.verdict is Verdict.VERIFIED
    assert report.check("employee_identity").status is CheckStatus.PASSED
    shown = report.to_dict()["employee_identity"]
    assert shown == {
        "name": "张三",
        "id_number_masked": "110105********002X",
        "card_id": "0x" + world.card.credential_id.hex(),
        "card_issuer": "0x" + world.card_centre.entity_id.hex(),
    }
    assert "11010519491231002X" not in str(report.to_dict())


def test_a_card_of_another_person_than_the_named_one_fails(world: LabourWorld) -> None:
    named = {k: OTHER_PERSON[k] for k in ("name", "idNumber")}
    _failed(_verify(world, _accepted(world, **named)), "employee_identity.mismatch")


def test_a_card_lost_before_the_signature_fails_lost_after_stays_valid(
    world: LabourWorld,
) -> None:
    before = _accepted(world)
    world.card_centre.report_lost(world.card)
    # lost after the first signature: that signature stays valid
    assert _verify(world, before).verdict is Verdict.VERIFIED
    # signed with the lost card: the chain witnessed the signature after the loss
    _failed(_verify(world, _accepted(world)), "employee_identity.card_status")


def test_a_card_bound_to_another_key_or_no_proof_or_no_verifier_fails(
    world: LabourWorld,
) -> None:
    world.card = world.card_centre.issue(Jwk.generate(Curve.ED25519))
    report = _verify(world, _accepted(world))
    _failed(report, "employee_identity.card")
    assert dict(report.reasons["employee_identity"].params)["check"] == "holder_binding"
    package = _accepted(world)
    stripped = dataclasses.replace(
        package,
        events=tuple(
            dataclasses.replace(e, signature=dataclasses.replace(e.signature, card_proof=None))
            for e in package.events
        ),
    )
    # without the proof the anchored digest no longer matches: anchoring fails first
    assert _verify(world, stripped).verdict is Verdict.FAILED
    _failed(_verify(world, package, card_verifier=None), "employee_identity.no_verifier")
    _failed(
        _verify(world, dataclasses.replace(package, employee_identity_salt=None)),
        "employee_identity.no_salt",
    )


def test_a_card_issuer_suspended_before_the_signature_fails(world: LabourWorld) -> None:
    """The card was valid when issued, but its issuer was no longer accredited when the chain
    witnessed the signature."""
    world.registries.trust.set_entity_status(
        world.registries.signers.province_a,
        id=world.card_centre.entity_id,
        status=EntityStatus.SUSPENDED,
        reason=3,
    )
    report = _verify(world, _accepted(world))
    assert report.verdict is Verdict.FAILED
    assert report.first_failure is not None and report.first_failure.name == "employee_identity"
    # the card pipeline judges the issuer at the card's issue time: this check at signing time
    reason = report.reasons["employee_identity"]
    assert reason.code == "employee_identity.issuer_inactive"
    assert dict(reason.params)["check"] == "issuer_active"
    assert report.employee_identity is None
