"""End to end, through the HTTP API and the wallet SDK: a data user asks for consent, the
cardholder logs in by QR, grants, the data user checks (allowed), the cardholder withdraws, and
the next check is denied in the block of the withdrawal. Then every transaction and event on the
chain is scanned for the scenario's personal data in any encoding (`wallet_sdk.privacy`, the
check any cardholder can run): none may be there."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner
from eth_utils.crypto import keccak

from node_adapter import (
    AnvilProcess,
    Chain,
    ConsentRegistryClient,
    Deployment,
    Kind,
    deploy_registries,
)
from tests.integration.credential_service.consent.harness import (
    PERSON_ID_NUMBER,
    PERSON_NAME,
    PERSON_PHONE,
    SUBJECT_REFERENCE,
    ConsentService,
    open_consent_service,
)
from wallet_sdk.cli import main as cli
from wallet_sdk.consent import ReceiptEvent, verify_consent_receipt_on_chain
from wallet_sdk.consent_chain import NodeConsentView
from wallet_sdk.privacy import PersonalValue, scan_chain_for
from wallet_sdk.qr import render_qr_png


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def consent_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsentService]:
    """The service on an in-process chain, and on a real anvil node over JSON-RPC: a node of
    its own, whose clock no other test has moved (the scenario compares chain time with the
    wall-clock validity of the consent)."""
    chain = None
    if request.param == "anvil":
        start: Callable[..., AnvilProcess] = request.getfixturevalue("anvil_process_factory")
        chain = Chain.from_urls([start().url], receipt_timeout=30.0)
    yield from open_consent_service(tmp_path_factory.mktemp("consent-e2e"), chain)


def _now() -> int:
    return int(time.time())


def test_request_qr_grant_check_withdraw_check(consent_service: ConsentService) -> None:
    service = consent_service
    data_user = service.data_users[0]
    wallet = service.wallet(PERSON_ID_NUMBER)

    # 1. the data user asks about the person; the answer is a signed QR payload the e-card app
    # can scan
    created = service.request_consent(data_user, wallet, notice=f"Applicant {PERSON_NAME}")
    assert render_qr_png(created["qr"]).startswith(b"\x89PNG")

    # 2. the cardholder logs in by QR, reviews and grants one purpose of the two asked
    headers = service.login(wallet)
    request = wallet.review_consent(created["qr"], trusted_keys=service.trust, now=_now())
    assert request.subject_reference == SUBJECT_REFERENCE
    signed = wallet.grant_consent(request, now=_now(), purposes=["recruitment"])
    granted = service.client.post("/v1/consents", json=signed.to_json(), headers=headers)
    assert granted.status_code == 201, granted.text
    receipt = wallet.add_consent_receipt(granted.json()["receipt"], trusted_keys=service.trust)
    assert receipt.event is ReceiptEvent.GRANT and receipt.consent_id == signed.consent_id
    consent_id = granted.json()["consent_id"]

    # 3. the data user checks before use: allowed
    allowed = service.check(data_user, consent_id)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["allowed"] is True and allowed.json()["reason"] == "granted"

    # 4. the cardholder withdraws: one wallet action, relayed on chain
    withdrawal = wallet.withdraw_consent(signed.consent_id)
    withdrawn = service.client.post(
        f"/v1/consents/{consent_id}/withdrawal", json=withdrawal.to_json(), headers=headers
    )
    assert withdrawn.status_code == 200, withdrawn.text
    withdrawal_block = withdrawn.json()["block_number"]
    withdrawal_receipt = wallet.add_consent_receipt(
        withdrawn.json()["receipt"], trusted_keys=service.trust
    )
    # the cardholder checks both receipts against the chain itself, trusting no service
    view = NodeConsentView(service.chain)
    assert verify_consent_receipt_on_chain(receipt, view).holder == wallet.address
    assert verify_consent_receipt_on_chain(withdrawal_receipt, view).withdrawn_at > 0

    # 5. the next check is denied, and the chain agrees from the withdrawal's block on
    denied = service.check(data_user, consent_id).json()
    assert denied["allowed"] is False and denied["reason"] == "withdrawn"
    assert denied["block_number"] >= withdrawal_block
    registry = _registry(service)
    at = service.chain.block(withdrawal_block).timestamp
    common = {
        "consent_id": signed.consent_id,
        "grantee": signed.terms.grantee,
        "purpose_hash": signed.terms.purpose_hash,
        "at": at,
    }
    assert registry.is_valid(**common, block=withdrawal_block - 1) is True
    assert registry.is_valid(**common, block=withdrawal_block) is False

    # 6. the cardholder sees the consent, both receipts, and both uses
    mine = service.client.get("/v1/me/consents", headers=service.login(wallet)).json()
    assert [(c["consent_id"], c["state"], len(c["receipts"])) for c in mine] == [
        (consent_id, "withdrawn", 2)
    ]
    uses = service.client.get("/v1/me/data-use", headers=service.login(wallet)).json()
    assert [(u["allowed"], u["reason"]) for u in uses] == [(True, "granted"), (False, "withdrawn")]

    # 7. nothing personal on chain, in any encoding
    _assert_no_personal_data_on_chain(service.chain, positive=[signed.consent_id])


def _registry(service: ConsentService) -> ConsentRegistryClient:
    deployment = Deployment.load(service.directory / "deployment.json")
    return deployment.clients(service.chain).consent_registry


# The scenario's personal data, as the public privacy check takes it.
PERSONAL_DATA = [
    PersonalValue.person_name(PERSON_NAME),
    PersonalValue.id_number(PERSON_ID_NUMBER),
    PersonalValue.phone(PERSON_PHONE),
    PersonalValue.text("subject_reference", SUBJECT_REFERENCE),
]


def _assert_no_personal_data_on_chain(
    chain: Chain, *, positive: list[bytes], personal: list[PersonalValue] = PERSONAL_DATA
) -> None:
    """Scan every transaction input and log from genesis with `wallet_sdk.privacy`."""
    controls = [PersonalValue.binary(f"control-{i}", value) for i, value in enumerate(positive)]
    report = scan_chain_for([*controls, *personal], chain)
    assert report.from_block == 0 and report.to_block == chain.block_number()
    # The scan sees what the scenario did put on chain (else it would prove nothing)...
    for control in controls:
        assert report.hits_for(control.label), f"{control.label} not seen: the scan is blind"
    # ...and none of the personal data, in any encoding.
    leaked = [hit for hit in report.hits if not hit.label.startswith("control-")]
    assert not leaked, "personal data on chain:\n" + "\n".join(h.describe() for h in leaked[:3])
    assert all(value.forms > 100 for value in report.values[len(controls) :])


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def fresh_chain(
    request: pytest.FixtureRequest, anvil_process_factory: Callable[..., AnvilProcess]
) -> tuple[Chain, str | None]:
    """A chain of its own (never the session's anvil: the leak below must not outlive the
    test), with its node URL when it has one."""
    if request.param == "embedded":
        return Chain.embedded(), None
    node = anvil_process_factory()
    return Chain.from_urls([node.url], receipt_timeout=30.0), node.url


def test_the_scan_catches_a_plain_hash_of_a_phone_number(
    fresh_chain: tuple[Chain, str | None],
) -> None:
    """The scanner's own check: a careless plain keccak256 of a phone number as an entity id,
    caught by the public API and by `hrss-wallet privacy-check`."""
    chain, url = fresh_chain
    deployer, ministry = chain.dev_signers(2)
    ministry_id = keccak(text="hrss:test:ministry")
    deployment = deploy_registries(
        chain,
        deployer=deployer,
        ministry_id=ministry_id,
        ministry_region=100000,
        ministry_controller=ministry.address,
    )
    trust = deployment.clients(chain).trust_registry
    phone = [PersonalValue.phone(PERSON_PHONE)]
    assert scan_chain_for(phone, chain).clean
    if url is not None:
        clean = CliRunner().invoke(
            cli, ["privacy-check", "--rpc-url", url, "--phone", PERSON_PHONE]
        )
        assert clean.exit_code == 0, clean.output

    receipt = trust.accredit(
        ministry,
        id=keccak(PERSON_PHONE.encode()),
        kind=Kind.PROVINCE,
        region=110000,
        parent=ministry_id,
        controllers=[],
    )
    report = scan_chain_for(phone, chain)
    assert {(h.encoding, h.where, h.tx_hash) for h in report.hits} >= {
        ("keccak256(utf-8)", "input", receipt.tx_hash),
        ("keccak256(utf-8)", "topic", receipt.tx_hash),
    }
    assert all(h.block_number == receipt.block_number for h in report.hits)
    if url is not None:
        leaked = CliRunner().invoke(
            cli,
            ["privacy-check", "--rpc-url", url, "--values-file", "-"],
            input=f"phone={PERSON_PHONE}\n",
        )
        assert leaked.exit_code == 1, leaked.output
        assert "phone (138****8000) as keccak256(utf-8)" in leaked.output
        assert receipt.tx_hash in leaked.output and PERSON_PHONE not in leaked.output
