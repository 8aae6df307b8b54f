"""End to end on a real JSON-RPC node (anvil): a labour contract signed by the named employee
(issue #12, item 6). The employer names the employee by name and ID number; each person's
wallet holds the e-card the Guangdong card centre issued them. The named employee signs and
the contract verifies with ``employee_identity`` passed; a wallet holding another person's
card is refused ``employee_mismatch``; a card reported lost before the signature cannot sign,
one lost after leaves the signature valid. Then the service is shut down and its database and
keystore deleted: the evidence packages verify from the chain alone (``hrss verify-evidence``
and the SDK) and show the employee's verified name, masked ID number and card issuer. Last,
the chain is scanned for every person's name, ID number and card number in any encoding."""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from credential_service.cli import main as hrss
from node_adapter import AnvilProcess, Chain, Deployment
from tests.integration.credential_service.labour.harness import (
    LabourService,
    open_labour_service,
    person,
)
from wallet_sdk.credentials import CredentialVerifier, DirectTrustView
from wallet_sdk.evidence import Verdict, verify_evidence
from wallet_sdk.evidence.chain import NodeEvidenceChainView
from wallet_sdk.privacy import PersonalValue, scan_chain_for
from wallet_sdk.wallet import Wallet

pytestmark = [pytest.mark.anvil, pytest.mark.slow]


def _masked(id_number: str) -> str:
    return id_number[:6] + "********" + id_number[-4:]


def _cardholder(service: LabourService) -> tuple[Wallet, str]:
    """A new person's wallet with their e-card, and the card's id on StatusRegistry."""
    wallet = service.wallet(card=False)
    return wallet, service.activate_card(wallet, service.people[wallet.did])


def test_contract_signed_by_the_named_employee_outlives_the_service(
    anvil_process_factory: Callable[..., AnvilProcess], tmp_path: Path
) -> None:
    directory = tmp_path / "service"
    directory.mkdir()
    # A node of its own: signing times are the wall clock's, and the session's shared node may
    # have had its clock moved ahead by other tests.
    node = anvil_process_factory()
    chain = Chain.from_urls([node.url], receipt_timeout=30.0)
    run = open_labour_service(directory, chain=chain)
    service: LabourService = next(run)
    try:
        # 1. the named employee signs with their e-card: effective, employee_identity passed
        employee = service.wallet()
        named = service.people[employee.did]
        signed = service.signed_contract(employee)
        report = service.client.post(
            "/v1/evidence/verify",
            files={"package": ("e.json", service.evidence(signed), "application/json")},
        ).json()
        assert report["verdict"] == "verified", report["first_failure"]
        assert report["employee_identity"]["name"] == named["name"]
        assert report["employee_identity"]["card_issuer_name"] == "广东省社会保障卡服务中心"

        # 2. the employer named someone else than the wallet's cardholder: employee_mismatch
        stranger = person(700)
        contract = service.upload(
            employee, employee_name=stranger["name"], employee_id_number=stranger["idNumber"]
        )
        assert service.employer_signs(contract).status_code == 200
        refused = service.employee_signs(contract["contract_id"], employee)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "employee_mismatch"

        # 3. a card reported lost before the signature cannot sign
        careless, card_id = _cardholder(service)
        contract = service.upload(careless)
        assert service.employer_signs(contract).status_code == 200
        logged_in = service.login(careless)  # before the loss: the login itself then fails
        service.report_card_lost(card_id)
        refused = service.employee_signs(contract["contract_id"], careless, logged_in)
        assert refused.status_code == 403, refused.text
        assert refused.json()["code"] == "card_not_active"

        # 4. a card lost after the signature leaves the signature valid
        later, later_card = _cardholder(service)
        lost_later = service.signed_contract(later)
        # "after" as the chain tells time: a block of a later second than the anchoring one
        # (blocks of the same second are one instant to an as-of check)
        anchored = service.chain.block().timestamp
        time.sleep(max(0.0, anchored + 1.2 - time.time()))
        service.report_card_lost(later_card)
        packages = {signed: service.evidence(signed), lost_later: service.evidence(lost_later)}
    finally:
        next(run, None)  # closes the service
    people = [named, stranger, service.people[careless.did], service.people[later.did]]

    # 5. the service is gone: database, keystore, everything but the deployment addresses
    deployment = tmp_path / "deployment.json"
    shutil.copy(directory / "deployment.json", deployment)
    shutil.rmtree(directory)
    trusted = Deployment.load(deployment)
    view = NodeEvidenceChainView.from_urls([node.url])
    card_verifier = CredentialVerifier(DirectTrustView(chain, trusted))
    for contract_id, package in packages.items():
        path = tmp_path / f"{contract_id}.json"
        path.write_bytes(package)
        cli = CliRunner().invoke(
            hrss,
            ["verify-evidence", str(path), "--rpc-url", node.url, "--deployment", str(deployment)],
        )
        assert cli.exit_code == 0, cli.output
        assert "employee (verified by e-card): " in cli.output
        result = verify_evidence(
            package,
            None,
            view,
            anchor_registry=trusted.anchor_registry,
            trust_registry=trusted.trust_registry,
            card_verifier=card_verifier,
        )
        assert result.verdict is Verdict.VERIFIED
        assert result.check("employee_identity").status.value == "passed"
        assert result.employee_identity is not None
        shown = people[0] if contract_id == signed else people[3]
        assert (result.employee_identity.name, result.employee_identity.masked_id_number) == (
            shown["name"],
            _masked(shown["idNumber"]),
        )
        assert f"{shown['name']}, ID {_masked(shown['idNumber'])}" in cli.output
        assert shown["idNumber"] not in cli.output
    # the same package without StatusRegistry to read the card from fails closed
    bare = CliRunner().invoke(
        hrss,
        [
            "verify-evidence", str(tmp_path / f"{signed}.json"), "--rpc-url", node.url, "--json",
            "--trust-registry", trusted.trust_registry,
            "--anchor-registry", trusted.anchor_registry,
        ],
    )  # fmt: skip
    assert bare.exit_code == 1
    assert json.loads(bare.output)["first_failure"] == "employee_identity"

    # 6. no name, ID number or card number of anyone on chain, in any encoding
    control = PersonalValue.binary("control-card", bytes.fromhex(later_card[2:]))
    values = [control]
    for index, someone in enumerate(people):
        values += [
            PersonalValue.person_name(someone["name"], label=f"name-{index}"),
            PersonalValue.id_number(someone["idNumber"], label=f"id-{index}"),
            PersonalValue.text(f"card-{index}", someone["cardNumber"]),
        ]
    scan = scan_chain_for(values, chain)
    assert scan.hits_for("control-card"), "the scan does not see the card's id: it is blind"
    leaked = [hit for hit in scan.hits if hit.label != "control-card"]
    assert not leaked, "personal data on chain:\n" + "\n".join(h.describe() for h in leaked[:3])
