"""node_adapter against QBFT-shaped blocks: a real HTTP JSON-RPC proxy on loopback forwards to
anvil and gives every block the header a Besu QBFT network serves (``extraData`` of about 300
bytes: vanity, validators, vote, round, commit seals), then every read and send path of the
adapter, the typed clients, the event reader and the wallet's chain view run through it.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from node_adapter import (
    AnvilProcess,
    Chain,
    ConsentGrant,
    CredentialStatus,
    EventReader,
    Kind,
    Signer,
    TransactionReverted,
    deploy_registries,
    load_artifact,
)
from tests.fixtures.chain import (
    MINISTRY_ID,
    MINISTRY_REGION,
    PROVINCE_A_REGION,
    entity_id,
    node_rpc,
    registries_on,
)
from tests.fixtures.rpc_proxy import QBFT_MIX_HASH, VALIDATORS, RpcProxy
from tests.unit.node_adapter.probe import ABI, deploy_probe
from wallet_sdk.chain_view import NodeChainView

pytestmark = pytest.mark.anvil

TAG = b"\x07" * 32


@pytest.fixture
def qbft_proxy(anvil_process_factory: Callable[..., AnvilProcess]) -> Iterator[RpcProxy]:
    node = anvil_process_factory()
    with RpcProxy(node.url) as proxy:
        yield proxy


def test_the_proxy_serves_besu_qbft_headers(qbft_proxy: RpcProxy) -> None:
    block = node_rpc(qbft_proxy.url, "eth_getBlockByNumber", "latest", False)
    extra = bytes.fromhex(str(block["extraData"]).removeprefix("0x"))
    assert len(extra) > 32 * 8  # web3 refuses more than 32 bytes without PoA handling
    assert block["mixHash"] == QBFT_MIX_HASH and block["difficulty"] == "0x1"
    for validator in VALIDATORS:
        assert bytes.fromhex(validator.removeprefix("0x")) in extra


def test_block_reads_accept_qbft_extra_data(qbft_proxy: RpcProxy) -> None:
    chain = Chain.from_urls([qbft_proxy.url])
    signer = chain.dev_signers(1)[0]
    receipt = chain.send_value(signer, Signer.generate().address, 1)
    latest = chain.block()
    assert latest.number == chain.block_number() == receipt.block_number
    assert chain.block(receipt.block_number).hash == receipt.block_hash
    genesis = chain.find_block(0)
    assert genesis is not None and genesis.number == 0
    assert chain.find_block(latest.number + 100) is None
    assert chain.block("earliest").hash == genesis.hash
    mined = chain.block_transactions(receipt.block_number)
    assert [tx.hash for tx in mined] == [receipt.tx_hash]
    assert qbft_proxy.block_answers > 0


def test_every_adapter_path_runs_on_qbft_blocks(qbft_proxy: RpcProxy, tmp_path: Path) -> None:
    chain = Chain.from_urls([qbft_proxy.url], receipt_timeout=30.0)
    r = registries_on(chain)  # deploy: estimate, fees, sign, send, receipts
    s = r.signers
    tree = r.standard_tree()  # accreditation: transact with decoded events

    # Anchoring, read back, and a revert decoded through QBFT blocks.
    root = os.urandom(32)
    anchored = r.anchor.anchor(s.anchorer, root=root, leaf_count=3, batch_ref=bytes(32))
    record = r.anchor.anchor_of(root)
    assert record is not None and record.block_number == anchored.block_number
    with pytest.raises(TransactionReverted) as caught:
        r.anchor.anchor(s.anchorer, root=root, leaf_count=3, batch_ref=bytes(32))
    assert caught.value.error_name == "RootAlreadyAnchored"

    # Status registration and a status change.
    credential = os.urandom(32)
    r.status.register(
        s.issuer, issuer=tree.issuer, credential_ids=[credential], digests=[b"\x01" * 32]
    )
    r.status.set_status(s.issuer, credential_id=credential, status=CredentialStatus.SUSPENDED)
    assert r.status.current_status(credential).status == CredentialStatus.SUSPENDED

    # A consent relayed for a holder with no balance.
    now = chain.block().timestamp
    grant = ConsentGrant(
        holder=s.holder.address,
        grantee=tree.data_user,
        purpose_hash=b"\x11" * 32,
        scope_hash=b"\x22" * 32,
        not_before=now,
        not_after=now + 86_400,
        nonce=1,
    )
    signature = s.holder.sign_typed_data(*r.consent.consent_typed_data(grant))
    granted = r.consent.grant(s.relayer, grant, signature)
    consent_id = granted.event("ConsentGranted").args["consentId"]
    assert r.consent.is_valid(
        consent_id=consent_id,
        grantee=tree.data_user,
        purpose_hash=grant.purpose_hash,
        at=chain.block().timestamp,
    )

    # Plain reads and the dev-chain controls.
    assert chain.find_receipt(granted.tx_hash) == granted
    assert chain.nonce(s.relayer.address) >= 1 and chain.balance(s.deployer.address) > 0
    assert chain.code(r.anchor.address)
    probe = deploy_probe(chain, s.outsider)
    chain.transact(s.outsider, probe, ABI, "poke", [TAG, 5])
    assert chain.call(probe, ABI, "values", [TAG]) == 5
    snapshot = chain.snapshot()
    chain.set_next_block_timestamp(chain.block().timestamp + 100)
    chain.mine(2)
    chain.revert(snapshot)
    logs = chain.get_logs(address=r.anchor.address, from_block=0, to_block=chain.block_number())
    assert any(entry.tx_hash == anchored.tx_hash for entry in logs)

    # The event follower and the wallet's chain view.
    reader = EventReader(
        chain,
        r.consent.address,
        load_artifact("ConsentRegistry")["abi"],
        cursor_path=tmp_path / "cursor.json",
    )
    assert [e.name for e in reader.poll()].count("ConsentGranted") == 1
    assert reader.poll() == []
    view = NodeChainView(chain)
    assert view.block_hash(anchored.block_number) == anchored.block_hash
    assert view.anchor_of(r.anchor.address, root) is not None
    assert qbft_proxy.block_answers > 0


def test_zero_gas_qbft_chain_where_no_account_has_a_balance(
    anvil_process_factory: Callable[..., AnvilProcess],
) -> None:
    """The production chain as the Besu genesis configures it: QBFT headers, gas price and base
    fee 0, no funded account anywhere. Accounts that never had a balance deploy, accredit and
    anchor."""
    node = anvil_process_factory(gas_price=0, base_fee=0, extra_args=("--accounts", "0"))
    with RpcProxy(node.url) as proxy:
        chain = Chain.from_urls([proxy.url], receipt_timeout=30.0)
        deployer, ministry, province, anchorer = (Signer.generate() for _ in range(4))
        deployment = deploy_registries(
            chain,
            deployer=deployer,
            ministry_id=MINISTRY_ID,
            ministry_region=MINISTRY_REGION,
            ministry_controller=ministry.address,
        )
        trust, anchor, _status, _consent = deployment.clients(chain)
        province_id = entity_id("zero-gas-province")
        trust.accredit(
            ministry,
            id=province_id,
            kind=Kind.PROVINCE,
            region=PROVINCE_A_REGION,
            parent=MINISTRY_ID,
            controllers=[province.address],
        )
        trust.set_anchoring_account(
            province, id=province_id, account=anchorer.address, enabled=True
        )
        receipt = anchor.anchor(anchorer, root=os.urandom(32), leaf_count=1, batch_ref=TAG)
        assert receipt.effective_gas_price == 0 and receipt.tx_type == 0
        for signer in (deployer, ministry, province, anchorer):
            assert chain.balance(signer.address) == 0
        assert chain.fund_if_empty(Signer.generate().address, 1) is False
        assert proxy.block_answers > 0
