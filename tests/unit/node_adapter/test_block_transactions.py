"""`Chain.block_transactions` on both backends: calldata, creations, failed transactions, and
errors kept in `ChainError`."""

from __future__ import annotations

import dataclasses

import pytest

from node_adapter import Chain, ChainError, ChainTransaction, ChainUnavailable, Signer
from node_adapter._abi import codec_for

from .probe import ABI, PROBE, deploy_probe

TAG = b"\x02" * 32


@pytest.fixture
def probe(chain: Chain) -> tuple[Chain, Signer, str]:
    signer = chain.dev_signers(2)[1]
    return chain, signer, deploy_probe(chain, signer)


def test_a_call_comes_back_with_its_calldata(probe: tuple[Chain, Signer, str]) -> None:
    chain, signer, address = probe
    receipt = chain.transact(signer, address, ABI, "poke", [TAG, 9])
    (tx,) = chain.block_transactions(receipt.block_number)
    assert isinstance(tx, ChainTransaction)
    assert tx.hash == receipt.tx_hash
    assert tx.block_number == receipt.block_number
    assert tx.index == 0
    assert tx.sender == signer.address
    assert tx.to == address
    assert tx.input == codec_for(ABI).function("poke").encode([TAG, 9])
    assert tx.nonce == chain.nonce(signer.address, "latest") - 1


def test_a_creation_has_no_recipient_and_its_init_code_as_input(chain: Chain) -> None:
    signer = chain.dev_signers(2)[1]
    receipt = chain.deploy(signer, ABI, PROBE["bytecode"])
    (tx,) = chain.block_transactions(receipt.block_number)
    assert tx.to is None
    assert tx.input == bytes.fromhex(PROBE["bytecode"].removeprefix("0x"))


def test_a_failed_transaction_is_listed_with_its_input(probe: tuple[Chain, Signer, str]) -> None:
    chain, signer, address = probe
    with pytest.raises(ChainError) as caught:
        chain.transact(signer, address, ABI, "failReason", ["kept on chain"], gas=200_000)
    tx_hash = getattr(caught.value, "tx_hash", None)
    assert tx_hash is not None
    block = chain.block_number()
    (tx,) = chain.block_transactions(block)
    assert tx.hash == tx_hash
    assert b"kept on chain" in tx.input


def test_a_value_transfer_has_empty_input(chain: Chain) -> None:
    funder, other = chain.dev_signers(2)
    receipt = chain.send_value(funder, other.address, 1)
    (tx,) = chain.block_transactions(receipt.block_number)
    assert (tx.to, tx.input, tx.sender) == (other.address, b"", funder.address)


def test_genesis_has_no_transactions_and_a_missing_block_is_an_error(chain: Chain) -> None:
    assert chain.block_transactions(0) == ()
    with pytest.raises(ChainError, match="not found"):
        chain.block_transactions(chain.block_number() + 1000)


def test_transactions_are_frozen(probe: tuple[Chain, Signer, str]) -> None:
    chain, signer, address = probe
    receipt = chain.transact(signer, address, ABI, "poke", [TAG, 1])
    (tx,) = chain.block_transactions(receipt.block_number)
    with pytest.raises(dataclasses.FrozenInstanceError):
        tx.input = b""  # type: ignore[misc]


def test_an_unreachable_node_raises_chain_unavailable() -> None:
    chain = Chain.from_urls(["http://127.0.0.1:9"], timeout=1.0)
    with pytest.raises(ChainUnavailable):
        chain.block_transactions(0)
