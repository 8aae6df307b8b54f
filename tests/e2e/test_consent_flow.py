"""End to end, through the HTTP API and the wallet SDK: a data user asks for consent, the
cardholder logs in by QR, grants, the data user checks (allowed), the cardholder withdraws, and
the next check is denied in the block of the withdrawal. Then every transaction and event on the
chain is scanned for the scenario's personal data in any encoding: none may be there."""

from __future__ import annotations

import base64
import hashlib
import time
from collections.abc import Iterator
from typing import Any

import pytest
from eth_utils.crypto import keccak

from node_adapter import (
    AnvilProcess,
    Chain,
    ConsentRegistryClient,
    Deployment,
    Kind,
    deploy_registries,
)
from tests.integration.consent.harness import (
    PERSON_ID_NUMBER,
    PERSON_NAME,
    PERSON_PHONE,
    SUBJECT_REFERENCE,
    ConsentService,
    open_consent_service,
)
from wallet_sdk.consent import ReceiptEvent, verify_consent_receipt_on_chain
from wallet_sdk.consent_chain import NodeConsentView
from wallet_sdk.qr import render_qr_png


@pytest.fixture(params=["embedded", pytest.param("anvil", marks=pytest.mark.anvil)])
def consent_service(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ConsentService]:
    """The service on an in-process chain, and on a real anvil node over JSON-RPC."""
    chain = None
    if request.param == "anvil":
        node: AnvilProcess = request.getfixturevalue("anvil")
        chain = Chain.from_urls([node.url], receipt_timeout=30.0)
    yield from open_consent_service(tmp_path_factory.mktemp("consent-e2e"), chain)


def _now() -> int:
    return int(time.time())


def test_request_qr_grant_check_withdraw_check(consent_service: ConsentService) -> None:
    service = consent_service
    data_user = service.data_users[0]
    wallet = service.wallet()

    # 1. the data user asks; the answer is a signed QR payload the e-card app can scan
    created = service.request_consent(data_user, notice=f"Applicant {PERSON_NAME}")
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


def _encodings(value: str) -> set[bytes]:
    """`value` in every encoding a careless system might put on chain."""
    texts = {value, value.upper(), value.lower()}
    raw: set[bytes] = set()
    for text in texts:
        for codec in ("utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "gb18030"):
            raw.add(text.encode(codec))
    found = set(raw)
    for data in raw:
        digests = [
            keccak(data),
            hashlib.sha256(data).digest(),
            hashlib.sha3_256(data).digest(),
            hashlib.sha1(data).digest(),  # looked for, not used
            hashlib.md5(data).digest(),
        ]
        for item in (data, *digests):
            found.add(item)
            found.add(item.hex().encode())
            found.add(item.hex().upper().encode())
            found.add(base64.b64encode(item))
    return {n for n in found if len(n) >= 4}


def _chain_blobs(chain: Chain) -> list[bytes]:
    """Every transaction's input and every log's topics and data, from genesis to latest."""
    latest = chain.block_number()
    blobs: list[bytes] = []
    for number in range(latest + 1):
        # node_adapter offers no public reader of transaction inputs; this test needs one.
        block: Any = chain._run(
            lambda w3, n=number: w3.eth.get_block(n, full_transactions=True), "read a block"
        )
        for tx in block["transactions"]:
            # JSON-RPC nodes name the calldata "input"; eth-tester names it "data".
            blobs.append(bytes(tx["input"] if "input" in tx else tx["data"]))
    for log in chain.get_logs(address=None, from_block=0, to_block=latest):
        blobs.append(log.data)
        blobs.extend(log.topics)
    return blobs


def _leaks(chain: Chain, values: list[str]) -> list[tuple[str, bytes]]:
    haystack = b"\x00".join(_chain_blobs(chain))
    return [(v, n) for v in values for n in _encodings(v) if n in haystack]


def _assert_no_personal_data_on_chain(chain: Chain, *, positive: list[bytes]) -> None:
    # The scan sees what the scenario did put on chain (else it would prove nothing)...
    haystack = b"\x00".join(_chain_blobs(chain))
    for value in positive:
        assert value in haystack
    # ...and none of the personal data, in any encoding.
    leaked = _leaks(chain, [PERSON_NAME, PERSON_ID_NUMBER, PERSON_PHONE, SUBJECT_REFERENCE])
    assert not leaked, f"personal data on chain: {leaked[:3]}"


def test_the_scan_catches_a_plain_hash_of_a_phone_number() -> None:
    """The scanner's own check: a careless plain keccak256 of a phone number as an entity id."""
    chain = Chain.embedded()
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
    assert _leaks(chain, [PERSON_PHONE]) == []
    trust.accredit(
        ministry,
        id=keccak(PERSON_PHONE.encode()),
        kind=Kind.PROVINCE,
        region=110000,
        parent=ministry_id,
        controllers=[],
    )
    assert (PERSON_PHONE, keccak(PERSON_PHONE.encode())) in _leaks(chain, [PERSON_PHONE])
