"""node_adapter against real anvil processes: crash and restart, failover, rollback after a
restart from older state, concurrent senders, zero-gas and EIP-1559 fees, receipt timeouts.

Each test starts its own nodes on free ports (`anvil_process_factory`) unless it only reads.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from node_adapter import (
    AnvilProcess,
    Chain,
    ChainError,
    ChainRollback,
    ChainTimeout,
    ChainUnavailable,
    ConfigurationError,
    EventReader,
    Signer,
    TransactionReverted,
)
from node_adapter.anvil import _free_port
from tests.unit.node_adapter.probe import ABI, deploy_probe

pytestmark = pytest.mark.anvil

StartAnvil = Callable[..., AnvilProcess]
TAG = b"\x09" * 32


def _dead_url() -> str:
    return f"http://127.0.0.1:{_free_port()}"


def test_dev_keys_are_the_nodes_accounts(anvil: AnvilProcess) -> None:
    chain = Chain.from_urls([anvil.url])
    signers = chain.dev_signers(10)
    assert [s.key for s in signers] == [
        bytes.fromhex(k.removeprefix("0x")) for k in AnvilProcess.dev_keys()
    ]


def test_revert_from_a_real_node_is_decoded(anvil: AnvilProcess) -> None:
    chain = Chain.from_urls([anvil.url])
    signer = chain.dev_signers(1)[0]
    address = deploy_probe(chain, signer)
    with pytest.raises(TransactionReverted) as caught:
        chain.transact(signer, address, ABI, "failCustom", [TAG], gas=100_000)
    assert caught.value.error_name == "NotAllowed"
    assert caught.value.args == (TAG, signer.address)
    assert caught.value.tx_hash is not None


def test_stop_dumps_state_and_restart_loads_it(start_anvil: StartAnvil, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    node = start_anvil(state_file=state)
    chain = Chain.from_urls([node.url])
    signer = chain.dev_signers(1)[0]
    address = deploy_probe(chain, signer)
    chain.transact(signer, address, ABI, "poke", [TAG, 42])
    height = chain.block_number()
    node.stop()
    assert state.exists()
    again = start_anvil(state_file=state)
    chain2 = Chain.from_urls([again.url])
    assert chain2.block_number() == height
    assert chain2.call(address, ABI, "values", [TAG]) == 42


def test_kill_mid_send_gives_chain_unavailable_then_recovers(
    start_anvil: StartAnvil, tmp_path: Path
) -> None:
    state = tmp_path / "state.json"
    port = _free_port()
    node = start_anvil(port=port, state_file=state)
    chain = Chain.from_urls([node.url], timeout=2.0, receipt_timeout=10.0)
    signer = chain.dev_signers(1)[0]
    address = deploy_probe(chain, signer)
    node.stop()  # the state file now holds the deployment
    node = start_anvil(port=port, state_file=state)

    errors: list[BaseException] = []
    sent = threading.Event()

    def keep_sending() -> None:
        for i in range(10_000):
            try:
                chain.transact(signer, address, ABI, "poke", [TAG, i + 1])
            except ChainError as err:
                errors.append(err)
                return
            sent.set()

    worker = threading.Thread(target=keep_sending)
    worker.start()
    assert sent.wait(10)
    node.kill()  # crash: nothing since the restart is saved
    worker.join(10)
    assert not worker.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], ChainUnavailable)
    lost = errors[0].tx_hash  # set when the failure came after signing
    with pytest.raises(ChainUnavailable, match="no node reachable"):
        chain.block_number()

    start_anvil(port=port, state_file=state)
    # The node came back from older state: the adapter resyncs the nonce and carries on.
    receipt = chain.transact(signer, address, ABI, "poke", [TAG, 777])
    assert receipt.status == 1
    assert chain.call(address, ABI, "counter") == 1
    assert chain.call(address, ABI, "values", [TAG]) == 777
    if lost is not None:  # the crash lost it with everything since the last state dump
        assert chain.find_receipt(lost) is None


def test_failover_to_the_next_url(anvil: AnvilProcess) -> None:
    dead = _dead_url()
    chain = Chain.from_urls([dead, anvil.url], timeout=2.0)
    assert chain.block_number() >= 0
    assert chain.url == anvil.url
    signer = chain.dev_signers(2)[1]
    address = deploy_probe(chain, signer)
    assert chain.transact(signer, address, ABI, "poke", [TAG, 1]).status == 1


def test_all_urls_dead_is_chain_unavailable() -> None:
    urls = [_dead_url(), _dead_url()]
    chain = Chain.from_urls(urls, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(ChainUnavailable) as caught:
        chain.block_number()
    assert time.monotonic() - started < 5
    assert all(url in str(caught.value) for url in urls)
    assert caught.value.__cause__ is not None  # the transport error is chained


def test_failover_when_the_current_node_dies(start_anvil: StartAnvil, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    first = start_anvil(state_file=state)
    chain = Chain.from_urls([first.url], timeout=2.0)
    signer = chain.dev_signers(1)[0]
    address = deploy_probe(chain, signer)
    first.stop()
    second = start_anvil(state_file=state)  # a second node with the same chain
    chain = Chain.from_urls([first.url, second.url], timeout=2.0)
    chain.forget_nonces()
    assert chain.transact(signer, address, ABI, "poke", [TAG, 3]).status == 1
    assert chain.url == second.url


def test_restart_from_older_state_is_detected_as_rollback(
    start_anvil: StartAnvil, tmp_path: Path
) -> None:
    state, old_state = tmp_path / "state.json", tmp_path / "old-state.json"
    port = _free_port()
    node = start_anvil(port=port, state_file=state)
    chain = Chain.from_urls([node.url], timeout=2.0, receipt_timeout=10.0)
    signer = chain.dev_signers(1)[0]
    address = deploy_probe(chain, signer)
    chain.transact(signer, address, ABI, "poke", [TAG, 1])
    node.stop()
    shutil.copy(state, old_state)
    fork_point = chain_height = None

    node = start_anvil(port=port, state_file=state)
    fork_point = chain.block_number()
    reader = EventReader(chain, address, ABI, cursor_path=tmp_path / "cursor.json")
    assert len(reader.poll()) == 1
    for i in range(3):
        chain.transact(signer, address, ABI, "poke", [TAG, 10 + i])
    assert len(reader.poll()) == 3
    chain_height = chain.block_number()
    node.stop()

    # The node comes back from the older file and grows a different branch past our cursor.
    node = start_anvil(port=port, state_file=old_state)
    assert chain.block_number() == fork_point
    with pytest.raises(ChainRollback) as caught:
        reader.poll()
    assert caught.value.from_block == fork_point + 1
    for i in range(4):  # nonces were forgotten on the rollback: these just work
        chain.transact(signer, address, ABI, "poke", [TAG, 100 + i])
    assert chain.block_number() > chain_height
    reader.rewind(caught.value.from_block)
    assert [e.args["value"] for e in reader.poll()] == [100, 101, 102, 103]


def test_concurrent_senders_share_one_account_without_nonce_errors(anvil: AnvilProcess) -> None:
    chain = Chain.from_urls([anvil.url])
    deployer, sender = chain.dev_signers(4)[2:4]
    address = deploy_probe(chain, deployer)
    before = chain.nonce(sender.address)

    def send(i: int) -> int:
        return chain.transact(sender, address, ABI, "poke", [i.to_bytes(32, "big"), i]).status

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=20) as pool:
        statuses = list(pool.map(send, range(1, 41)))
    elapsed = time.monotonic() - started
    assert statuses == [1] * 40
    assert chain.call(address, ABI, "counter") == 40
    assert chain.nonce(sender.address) == before + 40
    print(f"40 transactions from 20 threads in {elapsed:.2f} s")


def test_zero_gas_price_chain_uses_legacy_zero_price(start_anvil: StartAnvil) -> None:
    node = start_anvil(gas_price=0, base_fee=0)
    chain = Chain.from_urls([node.url])
    pauper = Signer.generate()  # no funds at all, as on a permissioned zero-gas network
    assert chain.balance(pauper.address) == 0
    address = deploy_probe(chain, pauper)
    receipt = chain.transact(pauper, address, ABI, "poke", [TAG, 5])
    assert receipt.tx_type == 0
    assert receipt.effective_gas_price == 0
    assert chain.balance(pauper.address) == 0


def test_a_node_without_development_accounts_is_not_funded_from(start_anvil: StartAnvil) -> None:
    node = start_anvil(gas_price=0, base_fee=0, extra_args=("--accounts", "0"))
    chain = Chain.from_urls([node.url])
    pauper = Signer.generate()
    assert chain.fund_if_empty(pauper.address, 10**18) is False
    assert chain.balance(pauper.address) == 0


def test_funding_through_a_dead_node_is_unavailable_not_a_zero_gas_chain() -> None:
    chain = Chain.from_urls([_dead_url()], timeout=2.0)
    with pytest.raises(ChainUnavailable):
        chain.fund_if_empty(Signer.generate().address, 10**18)


def test_eip1559_fees_on_default_anvil(start_anvil: StartAnvil) -> None:
    node = start_anvil(gas_price=None, base_fee=None)  # the node's fees, whatever the suite's
    chain = Chain.from_urls([node.url])
    signer = chain.dev_signers(6)[5]
    address = deploy_probe(chain, signer)
    before = chain.balance(signer.address)
    receipt = chain.transact(signer, address, ABI, "poke", [TAG, 5])
    assert receipt.tx_type == 2
    assert receipt.effective_gas_price > 0
    assert before - chain.balance(signer.address) == receipt.gas_used * receipt.effective_gas_price


def test_no_receipt_in_time_is_chain_timeout(start_anvil: StartAnvil) -> None:
    node = start_anvil(extra_args=("--no-mining",))
    chain = Chain.from_urls([node.url], receipt_timeout=1.0)
    signer = chain.dev_signers(1)[0]
    with pytest.raises(ChainTimeout) as caught:
        chain.send_value(signer, Signer.generate().address, 1)
    assert caught.value.tx_hash is not None and caught.value.tx_hash.startswith("0x")


def test_missing_binary_is_a_configuration_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="anvil not found"):
        AnvilProcess.start(repo_root=tmp_path)


def test_context_manager_stops_the_node(start_anvil: StartAnvil, tmp_path: Path) -> None:
    with AnvilProcess.start(state_file=tmp_path / "s.json") as node:
        assert node.is_running()
        Chain.from_urls([node.url]).block_number()
    assert not node.is_running()
    assert (tmp_path / "s.json").exists()


@pytest.fixture
def start_anvil(anvil_process_factory: StartAnvil) -> StartAnvil:
    return anvil_process_factory


def test_node_restarted_from_older_state_while_idle_fails_fast_then_recovers(
    start_anvil: StartAnvil, tmp_path: Path
) -> None:
    state, old_state = tmp_path / "state.json", tmp_path / "old-state.json"
    port = _free_port()
    node = start_anvil(port=port, state_file=state)
    chain = Chain.from_urls([node.url], timeout=2.0, receipt_timeout=30.0)
    signer = chain.dev_signers(1)[0]
    address = deploy_probe(chain, signer)
    node.stop()
    shutil.copy(state, old_state)
    node = start_anvil(port=port, state_file=state)
    for i in range(3):
        chain.transact(signer, address, ABI, "poke", [TAG, i + 1])
    node.stop()
    start_anvil(port=port, state_file=old_state)  # this chain never noticed the node was down

    started = time.monotonic()
    with pytest.raises(ChainTimeout, match="cannot be mined") as caught:
        chain.transact(signer, address, ABI, "poke", [TAG, 50])
    assert time.monotonic() - started < 10  # not the 30 s receipt timeout
    assert caught.value.tx_hash is not None
    assert chain.transact(signer, address, ABI, "poke", [TAG, 51]).status == 1
    assert chain.call(address, ABI, "values", [TAG]) == 51
