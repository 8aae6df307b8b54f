"""Chain on both backends (`[embedded]` in process, `[anvil]` a real node): deployment, calls,
checked receipts, decoded reverts, time control, snapshots, and errors kept in `ChainError`."""

from __future__ import annotations

import gc

import pytest

from node_adapter import (
    Block,
    Chain,
    ChainError,
    ConfigurationError,
    DecodedEvent,
    Signer,
    TransactionReverted,
)

from .probe import ABI, deploy_probe

TAG = b"\x01" * 32


@pytest.fixture
def probe(chain: Chain) -> tuple[Chain, Signer, str]:
    signer = chain.dev_signers(2)[1]
    return chain, signer, deploy_probe(chain, signer)


def test_transact_returns_checked_receipt_with_decoded_events(probe) -> None:
    chain, signer, address = probe
    receipt = chain.transact(signer, address, ABI, "poke", [TAG, 7])
    assert receipt.status == 1
    assert receipt.tx_hash.startswith("0x") and len(receipt.tx_hash) == 66
    assert receipt.block_hash == chain.block(receipt.block_number).hash
    event = receipt.event("Poked")
    assert isinstance(event, DecodedEvent)
    assert dict(event.args) == {
        "tag": TAG,
        "sender": signer.address,
        "value": 7,
        "at": chain.block(receipt.block_number).timestamp,
    }
    assert chain.call(address, ABI, "counter") == 1
    assert chain.call(address, ABI, "values", [TAG]) == 7


def test_receipt_event_missing_raises_chain_error(probe) -> None:
    chain, signer, address = probe
    receipt = chain.transact(signer, address, ABI, "requirePositive", [1])
    with pytest.raises(ChainError, match="no Poked event"):
        receipt.event("Poked")


@pytest.mark.parametrize(
    ("fn", "args", "reason", "error_name", "error_args"),
    [
        ("failReason", ["boom"], "boom", "Error", ("boom",)),
        ("requirePositive", [0], "must be positive", "Error", ("must be positive",)),
        ("failEmpty", [], "Empty()", "Empty", ()),
        ("failPanic", [0], "Panic(0x12): division or modulo by zero", "Panic", (0x12,)),
    ],
)
@pytest.mark.parametrize("mode", ["call", "estimate", "on_chain"])
def test_reverts_are_decoded_the_same_way_everywhere(
    probe, fn, args, reason, error_name, error_args, mode
) -> None:
    chain, signer, address = probe
    with pytest.raises(TransactionReverted) as caught:
        if mode == "call":
            chain.call(address, ABI, fn, args, sender=signer.address)
        elif mode == "estimate":
            chain.transact(signer, address, ABI, fn, args)
        else:  # explicit gas: no estimation, the transaction is mined and fails
            chain.transact(signer, address, ABI, fn, args, gas=200_000)
    err = caught.value
    assert err.reason == reason
    assert err.error_name == error_name
    assert err.args == error_args
    if mode == "on_chain":
        assert err.tx_hash is not None and err.tx_hash.startswith("0x")
    else:
        assert err.tx_hash is None


def test_custom_error_arguments_are_decoded(probe) -> None:
    chain, signer, address = probe
    with pytest.raises(TransactionReverted) as caught:
        chain.transact(signer, address, ABI, "failCustom", [TAG], gas=100_000)
    err = caught.value
    assert err.error_name == "NotAllowed"
    assert err.args == (TAG, signer.address)
    assert str(err).startswith("transaction reverted: NotAllowed(0x0101")
    assert err.tx_hash in str(err)


def test_unknown_custom_error_keeps_raw_data(probe) -> None:
    chain, _signer, address = probe
    abi_without_errors = [e for e in ABI if e["type"] != "error"]
    with pytest.raises(TransactionReverted) as caught:
        chain.call(address, abi_without_errors, "failEmpty")
    assert caught.value.error_name is None
    assert caught.value.reason == "unknown custom error 0x3db2a12a"
    assert caught.value.data == bytes.fromhex("3db2a12a")


def test_reverted_transaction_still_consumes_the_nonce(probe) -> None:
    chain, signer, address = probe
    before = chain.nonce(signer.address)
    with pytest.raises(TransactionReverted):
        chain.transact(signer, address, ABI, "failEmpty", [], gas=100_000)
    assert chain.nonce(signer.address) == before + 1
    chain.transact(signer, address, ABI, "poke", [TAG, 1])  # the tracked nonce is still right
    assert chain.nonce(signer.address) == before + 2


def test_set_next_block_timestamp_and_mine(probe) -> None:
    chain, signer, address = probe
    latest = chain.block()
    assert isinstance(latest, Block)
    target = latest.timestamp + 3600
    chain.set_next_block_timestamp(target)
    receipt = chain.transact(signer, address, ABI, "poke", [TAG, 2])
    mined = chain.block(receipt.block_number)
    assert mined.timestamp == target
    assert mined.parent_hash == chain.block(receipt.block_number - 1).hash
    chain.mine(3)
    assert chain.block_number() == receipt.block_number + 3


def test_snapshot_and_revert(probe) -> None:
    chain, signer, address = probe
    snapshot = chain.snapshot()
    chain.transact(signer, address, ABI, "poke", [TAG, 5])
    assert chain.call(address, ABI, "counter") == 1
    chain.revert(snapshot)
    assert chain.call(address, ABI, "counter") == 0
    # nonces tracked before the revert are forgotten: the next send just works
    chain.transact(signer, address, ABI, "poke", [TAG, 6])
    assert chain.call(address, ABI, "values", [TAG]) == 6


def test_fund_and_balance(chain: Chain) -> None:
    fresh = Signer.generate()
    assert chain.balance(fresh.address) == 0
    chain.fund(fresh.address, 10**18)
    assert chain.balance(fresh.address) == 10**18


def test_fund_if_empty_tops_up_only_an_empty_account(chain: Chain) -> None:
    fresh = Signer.generate()
    assert chain.fund_if_empty(fresh.address, 10**18) is True
    assert chain.balance(fresh.address) == 10**18
    assert chain.fund_if_empty(fresh.address, 5) is True
    assert chain.balance(fresh.address) == 10**18


def test_embedded_chains_made_one_after_another_keep_their_own_nonces() -> None:
    """CPython hands a collected object's id to the next one: nonces tracked for a dropped
    in-process chain must never be used on a new one (seen as "Expected 0, but got 1")."""
    for _ in range(20):
        chain = Chain.embedded()
        chain.fund(Signer.generate().address, 1)
        del chain
        gc.collect()


def test_dev_signers_beyond_the_builtin_accounts_are_funded(chain: Chain) -> None:
    signers = chain.dev_signers(12)
    assert len({s.address for s in signers}) == 12
    assert all(chain.balance(s.address) > 0 for s in signers)


def test_unknown_function_and_bad_arguments_are_configuration_errors(probe) -> None:
    chain, signer, address = probe
    with pytest.raises(ConfigurationError, match="not in the ABI"):
        chain.call(address, ABI, "nope")
    with pytest.raises(ConfigurationError, match="takes 2 arguments"):
        chain.transact(signer, address, ABI, "poke", [TAG])
    with pytest.raises(ConfigurationError, match="cannot encode"):
        chain.transact(signer, address, ABI, "poke", [b"short", 1])


def test_call_to_an_address_without_code_is_an_adapter_error(chain: Chain) -> None:
    with pytest.raises(ConfigurationError, match="cannot decode"):
        chain.call(Signer.generate().address, ABI, "counter")


def test_missing_block_is_a_chain_error(chain: Chain) -> None:
    assert chain.find_block(10**9) is None
    with pytest.raises(ChainError, match="not found"):
        chain.block(10**9)


def test_timestamp_in_the_past_is_refused(chain: Chain) -> None:
    with pytest.raises(ChainError):
        chain.set_next_block_timestamp(1)


def test_deploy_of_empty_bytecode_is_refused(chain: Chain) -> None:
    with pytest.raises(ConfigurationError, match="empty bytecode"):
        chain.deploy(chain.dev_signers(1)[0], ABI, "0x")


def test_embedded_chains_are_independent() -> None:
    a, b = Chain.embedded(), Chain.embedded()
    signer = a.dev_signers(1)[0]
    deploy_probe(a, signer)
    assert a.block_number() == b.block_number() + 1
    assert a.chain_id == b.chain_id


def test_backend_errors_are_wrapped_in_chain_error(chain: Chain) -> None:
    pauper = Signer.generate()
    with pytest.raises(ChainError) as caught:
        chain.send_value(pauper, Signer.generate().address, 10**18)
    assert not isinstance(caught.value, TransactionReverted)
    assert caught.value.__cause__ is not None


def test_find_receipt(probe) -> None:
    chain, signer, address = probe
    receipt = chain.transact(signer, address, ABI, "poke", [TAG, 3])
    assert chain.find_receipt(receipt.tx_hash, ABI) == receipt
    assert chain.find_receipt("0x" + "ab" * 32) is None
    with pytest.raises(TransactionReverted) as caught:
        chain.transact(signer, address, ABI, "failEmpty", [], gas=100_000)
    with pytest.raises(TransactionReverted, match="reverted on chain"):
        chain.find_receipt(caught.value.tx_hash)


@pytest.mark.parametrize(
    ("urls", "message"),
    [([], "at least one"), (["ftp://node:21"], "unsupported node URL"), (["node:8545"], "http")],
)
def test_from_urls_validates_its_input(urls: list[str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Chain.from_urls(urls)


def test_from_urls_contacts_nothing_until_used() -> None:
    chain = Chain.from_urls(["http://127.0.0.1:9"], timeout=0.5)
    assert chain.url == "http://127.0.0.1:9"
    assert repr(chain) == "Chain(rpc, http://127.0.0.1:9)"
