"""Consent relays on anvil under chain faults, with the service configured to answer only once a
relay is `chain_confirmations` blocks deep: 2 s blocks, a reorg that removes the block carrying
a grant (`anvil_reorg`), a grant transaction dropped from the pool (`anvil_dropTransaction`),
and a halted chain that resumes. After each: the grant is on the canonical chain exactly once,
the receipt's block is canonical and carries the receipt's transaction, and a check says valid.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from credential_service.models import OrganisationKind
from node_adapter import AnvilProcess, Chain
from tests.fixtures.chain import drop_pending_transactions, node_rpc
from tests.integration.credential_service.consent.harness import (
    ConsentService,
    open_consent_service,
)
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT
from wallet_sdk.consent import SignedConsent

pytestmark = pytest.mark.anvil

CONFIRMATIONS = 2


class Scene:
    def __init__(self, node: AnvilProcess, service: ConsentService) -> None:
        self.node = node
        self.service = service
        self.chain = service.chain

    def rpc(self, method: str, *params: Any) -> Any:
        return node_rpc(self.node.url, method, *params)

    def signed_grant(self) -> tuple[SignedConsent, dict[str, str]]:
        service = self.service
        # the e-card's activation answers once its writes are deep: blocks must follow
        self.rpc("evm_setAutomine", False)
        self.rpc("evm_setIntervalMining", 1)
        try:
            wallet = service.wallet()
        finally:
            self.rpc("evm_setIntervalMining", 0)
            self.rpc("evm_setAutomine", True)
        created = service.request_consent(service.data_users[0], wallet)
        request = wallet.review_consent(created["qr"], trusted_keys=service.trust, now=_now())
        return wallet.grant_consent(request, now=_now()), service.login(wallet)

    def relay_in_background(
        self, signed: SignedConsent, headers: dict[str, str]
    ) -> Callable[[float], Any]:
        """Post the grant from another thread; the returned function joins it (timeout in s)
        and returns the HTTP response."""
        answer: list[Any] = []
        thread = threading.Thread(
            target=lambda: answer.append(
                self.service.client.post("/v1/consents", json=signed.to_json(), headers=headers)
            )
        )
        thread.start()

        def join(timeout: float) -> Any:
            thread.join(timeout)
            assert answer, f"the relay did not answer within {timeout} s"
            return answer[0]

        return join

    def mine_until(self, done: Callable[[], bool], timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not done() and time.monotonic() < deadline:
            self.rpc("evm_mine")
            time.sleep(0.3)

    def grant_events(self, consent_id: bytes) -> list[Any]:
        registry = self.service.context.ledger.deployment.consent_registry  # type: ignore[attr-defined]
        logs = self.chain.get_logs(
            address=registry,
            from_block=0,
            to_block=self.chain.block_number(),
            topics=[None, "0x" + consent_id.hex()],
        )
        return [entry for entry in logs if entry.block_number is not None]

    def assert_granted_once_on_canonical_chain(self, signed: SignedConsent, response: Any) -> None:
        assert response.status_code == 201, response.text
        body = response.json()
        assert body["chain_state"] == "confirmed" and body["confirmations"] == CONFIRMATIONS
        block = body["block_number"]
        mined = self.chain.block_transactions(block)
        assert body["transaction_hash"] in {tx.hash for tx in mined}
        assert len(self.grant_events(signed.consent_id)) == 1  # granted, and only once
        check = self.service.check(self.service.data_users[0], body["consent_id"])
        assert check.status_code == 200, check.text
        assert check.json()["allowed"] is True, check.text


def _now() -> int:
    return int(time.time())


@pytest.fixture
def scene(anvil_process_factory: Callable[..., AnvilProcess], tmp_path: Path) -> Iterator[Scene]:
    node = anvil_process_factory()
    chain = Chain.from_urls([node.url], receipt_timeout=3.0)
    opened = open_consent_service(
        tmp_path, chain, chain_confirmations=CONFIRMATIONS, chain_settle_seconds=20.0
    )
    service = next(opened)
    yield Scene(node, service)
    opened.close()


def test_with_two_second_blocks_a_grant_answers_once_it_is_deep_enough(scene: Scene) -> None:
    signed, headers = scene.signed_grant()
    scene.rpc("evm_setAutomine", False)
    scene.rpc("evm_setIntervalMining", 2)  # QBFT's usual period, from here on
    try:
        response = scene.relay_in_background(signed, headers)(20.0)
        head_at_answer = scene.chain.block_number()
    finally:
        scene.rpc("evm_setIntervalMining", 0)
        scene.rpc("evm_setAutomine", True)
    scene.assert_granted_once_on_canonical_chain(signed, response)
    assert head_at_answer - response.json()["block_number"] >= CONFIRMATIONS


def test_with_two_second_blocks_issuance_answers_once_the_status_registration_is_deep(
    scene: Scene,
) -> None:
    service = scene.service
    province = service.client_of(OrganisationKind.PROVINCE)
    school = service.client_of(OrganisationKind.ISSUER)
    scene.rpc("evm_setAutomine", False)
    scene.rpc("evm_setIntervalMining", 2)
    try:
        allowed = service.client.put(
            f"/v1/credential-types/TechnicalSchoolDiploma/issuers/{school}",
            json={"allowed": True},
            headers=service.org_headers(province),
        )
        assert allowed.status_code == 200, allowed.text
        issued = service.client.post(
            "/v1/credentials",
            json={"credentials": [{"type": "TechnicalSchoolDiploma", "subject": DIPLOMA_SUBJECT}]},
            headers=service.org_headers(school),
        )
        head_at_answer = scene.chain.block_number()
    finally:
        scene.rpc("evm_setIntervalMining", 0)
        scene.rpc("evm_setAutomine", True)
    assert issued.status_code == 201, issued.text
    [credential] = issued.json()["credentials"]
    registry = service.context.ledger.deployment.clients(scene.chain).status_registry  # type: ignore[attr-defined]
    credential_id = bytes.fromhex(credential["id"].removeprefix("0x"))
    assert registry.issuer_of(credential_id) is not None
    registered = scene.chain.get_logs(
        address=registry.address,
        from_block=0,
        to_block=head_at_answer,
        topics=[None, "0x" + credential_id.hex()],
    )
    assert len(registered) == 1  # registered once, in a block at the depth when answered
    assert head_at_answer - registered[0].block_number >= CONFIRMATIONS


def test_a_reorg_that_removes_the_grant_block_sends_the_grant_again(scene: Scene) -> None:
    signed, headers = scene.signed_grant()
    height = scene.chain.block_number()
    join = scene.relay_in_background(signed, headers)
    deadline = time.monotonic() + 10
    while scene.chain.block_number() == height and time.monotonic() < deadline:
        time.sleep(0.05)  # automine: the grant's block appears
    removed = scene.chain.block(height + 1)
    assert scene.grant_events(signed.consent_id)  # mined, not yet deep enough
    scene.rpc("anvil_reorg", 1, [])  # the grant's block is replaced by an empty one
    replaced = scene.chain.find_block(height + 1)
    assert replaced is None or replaced.hash != removed.hash
    finished: list[Any] = []
    scene.mine_until(lambda: bool(finished) or _done(join, finished))
    response = finished[0] if finished else join(10.0)
    scene.assert_granted_once_on_canonical_chain(signed, response)
    assert scene.chain.block(response.json()["block_number"]).hash != removed.hash


def test_a_dropped_grant_transaction_is_sent_again(
    scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    signed, headers = scene.signed_grant()
    scene.rpc("evm_setAutomine", False)
    join = scene.relay_in_background(signed, headers)
    assert drop_pending_transactions(scene.node.url)
    time.sleep(3.5)  # the relay's receipt wait (3 s) runs out; the node no longer knows it
    scene.rpc("evm_setAutomine", True)
    finished: list[Any] = []
    scene.mine_until(lambda: _done(join, finished))
    response = finished[0] if finished else join(10.0)
    scene.assert_granted_once_on_canonical_chain(signed, response)
    # Sent again: the same signed transaction (same nonce), so the same hash, mined this time.
    assert "sending it again" in caplog.text


def test_a_halted_chain_holds_the_grant_then_resumes(scene: Scene) -> None:
    signed, headers = scene.signed_grant()
    scene.rpc("evm_setAutomine", False)
    height = scene.chain.block_number()
    join = scene.relay_in_background(signed, headers)
    time.sleep(4.0)  # longer than the receipt wait: the relay keeps waiting for its transaction
    assert scene.chain.block_number() == height
    assert scene.grant_events(signed.consent_id) == []
    scene.rpc("evm_setAutomine", True)
    finished: list[Any] = []
    scene.mine_until(lambda: _done(join, finished))
    response = finished[0] if finished else join(10.0)
    scene.assert_granted_once_on_canonical_chain(signed, response)


def _done(join: Callable[[float], Any], finished: list[Any]) -> bool:
    try:
        finished.append(join(0.0))
    except AssertionError:
        return False
    return True
