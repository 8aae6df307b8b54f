"""`Chain.settle` on anvil, as the service writes status registrations and status changes with
it: a reorg that removes the block carrying a registration or a status change (`anvil_reorg`),
a transaction dropped from the pool, a halted chain. After each: the write is on the canonical
chain once (one event), the receipt's block is canonical and carries the transaction, and a
write whose effect is already on chain is not sent again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import pytest
from eth_utils.crypto import keccak

from node_adapter import (
    AnvilProcess,
    Chain,
    ChainRollback,
    ChainTimeout,
    CredentialStatus,
    TxReceipt,
)
from tests.fixtures.chain import Registries, drop_pending_transactions, node_rpc, registries_on

pytestmark = pytest.mark.anvil

DEPTH = 2


@dataclass
class Scene:
    node: AnvilProcess
    chain: Chain
    registries: Registries
    issuer: bytes

    def rpc(self, method: str, *params: Any) -> Any:
        return node_rpc(self.node.url, method, *params)

    def register(self, credential_id: bytes) -> TxReceipt:
        return self.registries.status.register(
            self.registries.signers.issuer,
            issuer=self.issuer,
            credential_ids=[credential_id],
            digests=[keccak(credential_id)],  # any 32 bytes: the digest is not what is tested
        )

    def registered(self, credential_id: bytes) -> bool:
        return self.registries.status.issuer_of(credential_id) is not None

    def status_events(self, credential_id: bytes) -> int:
        logs = self.chain.get_logs(
            address=self.registries.deployment.status_registry,
            from_block=0,
            to_block=self.chain.block_number(),
            topics=[None, "0x" + credential_id.hex()],
        )
        return len(logs)

    def settle_in_background(
        self, send: Callable[[], TxReceipt], landed: Callable[[], bool] | None
    ) -> Callable[[], TxReceipt]:
        result: list[Any] = []

        def run() -> None:
            try:
                result.append(
                    self.chain.settle(send, landed=landed, confirmations=DEPTH, timeout=20.0)
                )
            except Exception as err:
                result.append(err)

        thread = threading.Thread(target=run)
        thread.start()

        def join() -> TxReceipt:
            deadline = time.monotonic() + 30
            while thread.is_alive() and time.monotonic() < deadline:
                self.rpc("evm_mine")
                time.sleep(0.3)
            thread.join(1.0)
            assert result, "settle did not return"
            if isinstance(result[0], Exception):
                raise result[0]
            receipt: TxReceipt = result[0]
            return receipt

        return join

    def wait_for_block(self, height: int) -> None:
        deadline = time.monotonic() + 10
        while self.chain.block_number() <= height and time.monotonic() < deadline:
            time.sleep(0.05)

    def assert_canonical(self, receipt: TxReceipt) -> None:
        assert self.chain.block(receipt.block_number).hash == receipt.block_hash
        mined = self.chain.block_transactions(receipt.block_number)
        assert receipt.tx_hash in {tx.hash for tx in mined}
        assert self.chain.block_number() - receipt.block_number >= DEPTH


@pytest.fixture
def scene(anvil_process_factory: Callable[..., AnvilProcess]) -> Scene:
    node = anvil_process_factory()
    chain = Chain.from_urls([node.url], receipt_timeout=3.0)
    registries = registries_on(chain)
    province = registries.accredit_province("province-a")
    issuer = registries.accredit_issuer("issuer", province=province)
    return Scene(node, chain, registries, issuer)


def test_a_registration_removed_by_a_reorg_is_sent_again_once(scene: Scene) -> None:
    credential = os.urandom(32)
    height = scene.chain.block_number()
    join = scene.settle_in_background(
        partial(scene.register, credential), partial(scene.registered, credential)
    )
    scene.wait_for_block(height)
    removed = scene.chain.block(height + 1)
    scene.rpc("anvil_reorg", 1, [])  # the registration's block is replaced by an empty one
    assert scene.chain.block(height + 1).hash != removed.hash
    receipt = join()
    scene.assert_canonical(receipt)
    assert scene.registered(credential)
    assert scene.status_events(credential) == 1  # registered once


def test_a_status_change_removed_by_a_reorg_is_sent_again_once(scene: Scene) -> None:
    credential = os.urandom(32)
    scene.register(credential)
    status = scene.registries.status

    def suspend() -> TxReceipt:
        return status.set_status(
            scene.registries.signers.issuer,
            credential_id=credential,
            status=CredentialStatus.SUSPENDED,
            reason=1,
        )

    height = scene.chain.block_number()
    join = scene.settle_in_background(
        suspend, lambda: status.current_status(credential).status is CredentialStatus.SUSPENDED
    )
    scene.wait_for_block(height)
    scene.rpc("anvil_reorg", 1, [])
    receipt = join()
    scene.assert_canonical(receipt)
    assert status.current_status(credential).status is CredentialStatus.SUSPENDED
    assert scene.status_events(credential) == 2  # registered, suspended: once each


def test_a_dropped_registration_is_sent_again_and_a_halt_is_waited_out(scene: Scene) -> None:
    credential = os.urandom(32)
    scene.rpc("evm_setAutomine", False)
    join = scene.settle_in_background(
        partial(scene.register, credential), partial(scene.registered, credential)
    )
    assert drop_pending_transactions(scene.node.url)
    time.sleep(3.5)  # the receipt wait runs out on a halted node; the dropped one is sent again
    assert scene.status_events(credential) == 0
    scene.rpc("evm_setAutomine", True)
    receipt = join()
    scene.assert_canonical(receipt)
    assert scene.status_events(credential) == 1


def test_a_write_that_left_the_chain_is_not_sent_again_without_a_state_check(
    scene: Scene,
) -> None:
    credential = os.urandom(32)
    height = scene.chain.block_number()
    join = scene.settle_in_background(partial(scene.register, credential), None)
    scene.wait_for_block(height)
    scene.rpc("anvil_reorg", 1, [])
    with pytest.raises(ChainRollback, match="left the chain and is not sent again"):
        join()
    assert not scene.registered(credential)


def test_a_halted_chain_times_out_without_sending_twice(scene: Scene) -> None:
    credential = os.urandom(32)
    scene.rpc("evm_setAutomine", False)
    with pytest.raises(ChainTimeout, match="still pending"):
        scene.chain.settle(
            partial(scene.register, credential),
            landed=partial(scene.registered, credential),
            confirmations=DEPTH,
            timeout=1.0,
        )
    pool = scene.rpc("txpool_content")
    assert sum(len(by_nonce) for by_nonce in (pool.get("pending") or {}).values()) == 1
