"""An employee whose wallet is in the national profile signs a labour contract with its SM2
``did:jwk`` key: the evidence package verifies, and the signature check the service runs on
submission (`verify_event_signature`) accepts it; a signature in another algorithm than the
did's key and a did no wallet makes are refused, naming the check."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.chain import Registries
from tests.unit.wallet_sdk.evidence.conftest import DOCUMENT
from tests.unit.wallet_sdk.evidence.world import LabourWorld
from wallet_sdk.errors import VerificationError
from wallet_sdk.evidence import EventSignature, Verdict, verify_event_signature, verify_evidence
from wallet_sdk.jose import Curve, Jwk, b64url_decode, sign_compact
from wallet_sdk.wallet import did_jwk


@pytest.fixture
def national(deployment: Registries, tmp_path: Path) -> LabourWorld:
    return LabourWorld.build(deployment, tmp_path / "wallet", profile="national")


def _header(jws: str) -> dict[str, Any]:
    header: dict[str, Any] = json.loads(b64url_decode(jws.split(".")[0]))
    return header


def _accepted(world: LabourWorld) -> tuple[Any, EventSignature]:
    contract = world.contract()
    contract.offer(DOCUMENT)
    record = contract.accept()
    return record, contract.events[-1].signature


def _check(world: LabourWorld, record: Any, signature: EventSignature, employee: str) -> None:
    verify_event_signature(
        record,
        signature,
        world.view,
        trust_registry=world.deployment.trust_registry,
        employer=world.employer_id,
        employee=employee,
        at=record.at,
    )


def test_an_sm2_employee_signature_verifies_in_the_package(national: LabourWorld) -> None:
    contract = national.contract()
    contract.offer(DOCUMENT)
    contract.accept()
    contract.anchor()
    package = contract.package()
    employee = package.events[1].signature
    assert _header(employee.jws)["alg"] == "SM2SM3"
    assert json.loads(b64url_decode(employee.signer.removeprefix("did:jwk:")))["crv"] == "SM2"
    report = verify_evidence(package.to_json(), DOCUMENT, national.view, **national.verify_kwargs())
    assert report.verdict is Verdict.VERIFIED
    assert report.check("signatures").passed and report.check("employee_identity").passed


def test_the_submission_check_accepts_the_sm2_signature(national: LabourWorld) -> None:
    record, signature = _accepted(national)
    _check(national, record, signature, national.wallet.did)


def test_an_eddsa_signature_under_an_sm2_did_is_refused(national: LabourWorld) -> None:
    record, signature = _accepted(national)
    header = {k: v for k, v in _header(signature.jws).items() if k != "alg"}
    forged = sign_compact(
        b64url_decode(signature.jws.split(".")[1]), Jwk.generate(Curve.ED25519), headers=header
    )
    with pytest.raises(VerificationError) as caught:
        _check(national, record, dataclasses.replace(signature, jws=forged), national.wallet.did)
    assert caught.value.check == "signatures"
    assert "'EdDSA' is not in the allowlist" in str(caught.value)


def test_an_employee_did_of_a_key_no_wallet_makes_is_refused(national: LabourWorld) -> None:
    record, signature = _accepted(national)
    did = did_jwk(Jwk.generate(Curve.P256))
    other = dataclasses.replace(signature, signer=did, key_id=did + "#0")
    with pytest.raises(VerificationError) as caught:
        _check(national, record, other, did)
    assert caught.value.check == "signer_keys"
    assert "an employee signs with an Ed25519 or SM2 did:jwk public key" in str(caught.value)
