"""A person, not a phone, end to end against `make run` (real anvil, the HTTP API, the
``hrss-wallet`` and ``hrss`` commands as subprocesses): the card centre activates the e-card on
a first phone; with it the person grants a data user consent and signs a labour contract; the
card moves to a new phone, and the card centre records the holder succession on
``ConsentRegistry``; the new wallet lists the old consent and contract (marked
``earlier-phone``) and withdraws the old consent; the data user's next check is denied; the old
grant receipt, the successor's withdrawal receipt and the contract's evidence package verify
against the chain; a stranger's wallet cannot withdraw; the chain holds no name, ID number,
card number or phone number in any form."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from node_adapter import Chain, ConsentRegistryClient, Deployment
from tests.e2e.test_contract_cli import Tools
from tests.fixtures.running_service import RunningService
from tests.integration.credential_service.labour.harness import DOCUMENT
from wallet_sdk.consent import ReceiptEvent, verify_consent_receipt, verify_consent_receipt_on_chain
from wallet_sdk.consent_chain import NodeConsentView
from wallet_sdk.credentials import SOCIAL_SECURITY_CARD
from wallet_sdk.jose import Jwk
from wallet_sdk.privacy import PersonalValue, scan_chain_for

pytestmark = [pytest.mark.slow, pytest.mark.anvil]

PASSPHRASE = "correct horse battery staple"
CARD = {
    "name": "李建国",
    "idNumber": "44010619850615003" + "3",
    "cardNumber": "M44067890",
    "issuingRegion": "440106",
    "validFrom": "2026-01-01",
    "validUntil": "2036-01-01",
}
PHONE = "13800138000"


class Person(Tools):
    """The person's phones and the commands they run, as a user runs them (the employer's
    ``hrss contract`` as in `tests/e2e/test_contract_cli.py`)."""

    def phone(self, name: str) -> tuple[list[str], dict[str, str]]:
        """A new wallet: its options and its identity (holder address and did:jwk)."""
        passphrase = self.workdir / f"{name}-passphrase"
        passphrase.write_text(PASSPHRASE + "\n")
        args = ["--wallet", str(self.workdir / name), "--passphrase-file", str(passphrase)]
        identity: dict[str, str] = json.loads(
            self.run("hrss-wallet", "init", *args, "--scrypt-n", "1024")
        )
        return args, identity

    def activate(self, wallet: list[str]) -> str:
        centre = self.service.client_id("card_issuer")
        answer = httpx.post(
            f"{self.service.base}/v1/cards/activations",
            json=CARD,
            headers=self.service.headers(centre),
            timeout=60,
        )
        assert answer.status_code == 201, answer.text
        code = answer.json()["activation_code"]
        return self.run("hrss-wallet", "card", "activate", code, "--service", self.service.base,
                        *wallet)  # fmt: skip

    def login(self, wallet: list[str]) -> str:
        challenge = httpx.post(f"{self.service.base}/v1/login/challenges", json={}, timeout=30)
        answer = self.run(
            "hrss-wallet", "login", challenge.json()["qr"], "--trust", str(self.trust),
            "--service", self.service.base, *wallet,
        )  # fmt: skip
        token: str = json.loads(answer)["access_token"]
        return token


def _consent_request(service: RunningService) -> dict[str, Any]:
    created = httpx.post(
        f"{service.base}/v1/consent-requests",
        json={
            "purposes": ["employment-verification"],
            "data_categories": ["employment-history"],
            "duration_seconds": 30 * 86400,
            "contact": f"数据保护专员 {PHONE}",
            "subject_id_number": CARD["idNumber"],
        },
        headers=service.headers(service.client_id("data_user")),
        timeout=60,
    )
    assert created.status_code == 201, created.text
    answer: dict[str, Any] = created.json()
    return answer


def _check(service: RunningService, consent_id: str) -> dict[str, Any]:
    checked = httpx.post(
        f"{service.base}/v1/consents/check",
        json={"consent_id": consent_id, "purpose": "employment-verification"},
        headers=service.headers(service.client_id("data_user")),
        timeout=60,
    )
    assert checked.status_code == 200, checked.text
    answer: dict[str, Any] = checked.json()
    return answer


def test_after_a_phone_change_the_person_lists_and_withdraws_and_old_signatures_verify(
    running_service: RunningService,
    tmp_path: Path,
) -> None:
    service = running_service
    person = Person(service, tmp_path)
    trusted = {
        issuer: [Jwk.from_jwk(k) for k in keys]
        for issuer, keys in json.loads(person.trust.read_text()).items()
    }
    allowed = httpx.put(
        f"{service.base}/v1/credential-types/{SOCIAL_SECURITY_CARD}/issuers/"
        f"{service.client_id('card_issuer')}",
        json={"allowed": True},
        headers=service.headers(service.client_id("province")),
        timeout=60,
    )
    assert allowed.status_code == 200, allowed.text

    # 1. the first phone: activate, grant a consent, sign a labour contract
    first, first_identity = person.phone("phone-1")
    person.activate(first)
    token = person.login(first)
    request = _consent_request(service)
    granted = json.loads(
        person.run(
            "hrss-wallet",
            "consent",
            "grant",
            request["qr"],
            "--trust",
            str(person.trust),
            "--service",
            service.base,
            "--token",
            token,
            *first,
        )
    )
    consent_id = granted["consent_id"]
    assert _check(service, consent_id)["allowed"] is True
    employee = tmp_path / "employee.json"
    employee.write_text(json.dumps(first_identity))
    document = tmp_path / "contract.pdf"
    document.write_bytes(DOCUMENT)
    created = person.hrss(
        "create", str(document), "--employee", str(employee), "--hr-operator", "人事经理 陈静",
        "--employee-name", CARD["name"], "--employee-id", CARD["idNumber"],
        "--key-term", "position=后端工程师",
    )  # fmt: skip
    contract_id = created["contract_id"]
    person.hrss("sign", contract_id)
    wallet_service = ["--service", service.base, "--trust", str(person.trust)]
    reviewed = tmp_path / "reviewed.pdf"
    person.run("hrss-wallet", "contract", "show", contract_id, "--document", str(reviewed),
               *first, *wallet_service)  # fmt: skip
    signed = json.loads(
        person.run(
            "hrss-wallet",
            "contract",
            "sign",
            contract_id,
            "--document",
            str(reviewed),
            *first,
            *wallet_service,
        )
    )
    assert signed["state"] == "effective"

    # the signature is anchored before the phone changes: its "as of" is the anchoring block,
    # and a card replaced before that block would not have been active then (fail closed)
    deadline = time.monotonic() + 90
    shown = person.hrss("show", contract_id)
    while any(e["anchor_state"] != "confirmed" for e in shown["events"]):
        assert time.monotonic() < deadline, shown["events"]
        time.sleep(1)
        shown = person.hrss("show", contract_id)
    # anvil gives blocks mined within one second one timestamp (QBFT's block period of at least
    # a second never does): the replacement goes in a later second than the anchoring block
    time.sleep(1.1)

    # 2. a new phone: the card moves, and the card centre records the holder succession
    second, second_identity = person.phone("phone-2")
    assert "replaced" in person.activate(second)
    deployment = Deployment.load(service.var / "deployment.json")
    chain = Chain.from_urls([service.chain_url])
    registry = ConsentRegistryClient(chain, deployment.consent_registry)
    succession = registry.successor_of(first_identity["address"])
    assert succession is not None and succession.successor == second_identity["address"]

    # 3. the new wallet lists the old consent and contract, marked as from an earlier phone
    new_token = person.login(second)
    listed = person.run("hrss-wallet", "consent", "list", "--service", service.base,
                        "--token", new_token, *second)  # fmt: skip
    assert f"{consent_id}\tgranted\t" in listed and listed.rstrip().endswith("earlier-phone")
    contracts = person.run("hrss-wallet", "contract", "list", *second, *wallet_service)
    assert f"{contract_id}\teffective" in contracts and "earlier-phone" in contracts
    # the first phone, its card replaced, logs in no more (QR login presents the e-card)
    challenge = httpx.post(f"{service.base}/v1/login/challenges", json={}, timeout=30)
    refused_login = person.run(
        "hrss-wallet", "login", challenge.json()["qr"], "--trust", str(person.trust),
        "--service", service.base, *first, expect=1,
    )  # fmt: skip
    assert "card_not_active" in refused_login and "reason 3" in refused_login

    # 4. a stranger's wallet cannot withdraw it; the new wallet can, and the check is denied
    stranger, _ = person.phone("stranger")
    refused = person.run(
        "hrss-wallet", "consent", "withdraw", consent_id, "--service", service.base,
        "--token", new_token, *stranger, expect=1,
    )  # fmt: skip
    assert "consent_signature_invalid" in refused
    withdrawn = json.loads(
        person.run(
            "hrss-wallet",
            "consent",
            "withdraw",
            consent_id,
            "--service",
            service.base,
            "--token",
            new_token,
            *second,
        )
    )
    assert withdrawn["event"] == ReceiptEvent.WITHDRAWAL.value
    denied = _check(service, consent_id)
    assert (denied["allowed"], denied["reason"]) == (False, "withdrawn")
    uses = httpx.get(
        f"{service.base}/v1/me/data-use",
        headers={"Authorization": f"Bearer {new_token}"},
        timeout=30,
    ).json()
    assert [(u["consent_id"], u["allowed"]) for u in uses] == [
        (consent_id, True),
        (consent_id, False),
    ]
    record = registry.consent_of(bytes.fromhex(consent_id[2:]))
    assert record is not None and record.holder == first_identity["address"]

    # 5. old signatures still verify: the grant receipt, the successor's withdrawal receipt,
    # and the contract the first phone signed, from the chain alone
    view = NodeConsentView(chain)
    grant_receipt = verify_consent_receipt(granted["receipt"], trusted_keys=trusted)
    verify_consent_receipt_on_chain(grant_receipt, view)
    withdrawal_receipt = verify_consent_receipt(withdrawn["receipt"], trusted_keys=trusted)
    assert withdrawal_receipt.withdrawn_by == second_identity["address"]
    assert verify_consent_receipt_on_chain(withdrawal_receipt, view).withdrawn_at > 0
    evidence = tmp_path / "evidence.json"
    person.hrss("evidence", contract_id, "-o", str(evidence))
    verified = json.loads(
        person.run(
            "hrss",
            "verify-evidence",
            str(evidence),
            str(document),
            "--json",
            "--rpc-url",
            service.chain_url,
            "--deployment",
            str(service.var / "deployment.json"),
        )
    )
    assert verified["verdict"] == "verified", verified["checks"]

    # 6. the chain links two pseudonymous addresses, and holds nothing that names the person
    successor = bytes.fromhex(second_identity["address"][2:])
    controls = [PersonalValue.binary("control-successor", successor)]
    personal = [
        PersonalValue.person_name(CARD["name"]),
        PersonalValue.id_number(CARD["idNumber"]),
        PersonalValue.text("card-number", CARD["cardNumber"]),
        PersonalValue.phone(PHONE),
    ]
    report = scan_chain_for([*controls, *personal], chain)
    assert report.hits_for("control-successor"), "the scan does not see the succession: blind"
    leaked = [hit for hit in report.hits if hit.label != "control-successor"]
    assert not leaked, "personal data on chain:\n" + "\n".join(h.describe() for h in leaked[:3])
