"""No web3, requests, eth-abi or parsing error escapes `node_adapter` as anything but a
`ChainError`: every public call of `Chain`, the typed clients, the event reader and the
wallet's chain view is run while one JSON-RPC method it uses answers wrongly (malformed JSON,
wrong types, bad hex, missing fields, odd error objects, HTTP errors), served by a real proxy on
loopback in front of anvil. A call either returns or raises a `ChainError` subtype.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from node_adapter import (
    AnvilProcess,
    Chain,
    ChainError,
    EventReader,
    Signer,
    load_artifact,
)
from tests.fixtures.chain import Registries, registries_on
from tests.fixtures.rpc_proxy import Fault, RpcProxy
from tests.unit.node_adapter.probe import ABI, deploy_probe
from wallet_sdk.chain_view import NodeChainView

pytestmark = pytest.mark.anvil

TAG = b"\x05" * 32

FAULTS: dict[str, Fault] = {
    "null-result": Fault(result=None),
    "bad-hex": Fault(result="0xzz"),
    "number-for-string": Fault(result=12345),
    "object-for-value": Fault(result={"unexpected": True}),
    "list-for-value": Fault(result=[1, "two"]),
    "block-missing-fields": Fault(result={"number": "0x1", "extraData": "0x" + "ab" * 300}),
    "receipt-bad-status": Fault(
        result={"status": "0xnope", "blockNumber": None, "logs": "none", "blockHash": 7}
    ),
    "error-object": Fault(error={"code": -32000, "message": "boom", "data": "0xzz"}),
    "error-string": Fault(error="not an object"),
    "revert-with-junk-data": Fault(
        error={"code": 3, "message": "execution reverted", "data": "0x08c379a0ffff"}
    ),
    "not-json": Fault(body=b"not json at all"),
    "empty-object": Fault(body=b"{}"),
    "json-list": Fault(body=b"[1, 2]"),
    "wrong-id": Fault(body=b'{"jsonrpc": "2.0", "id": 999999, "result": "0x1"}'),
    "http-500": Fault(body=b"oops", status=500),
}


@dataclass
class Scene:
    node: AnvilProcess
    registries: Registries
    probe: str
    tx_hash: str
    root: bytes
    cursor_dir: Path


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    log = tmp_path_factory.mktemp("malformed") / "anvil.log"
    node = AnvilProcess.start(log_path=log)
    try:
        chain = Chain.from_urls([node.url], receipt_timeout=30.0)
        r = registries_on(chain)
        r.standard_tree()
        root = os.urandom(32)
        receipt = r.anchor.anchor(r.signers.anchorer, root=root, leaf_count=1, batch_ref=TAG)
        probe = deploy_probe(chain, r.signers.outsider)
        yield Scene(node, r, probe, receipt.tx_hash, root, tmp_path_factory.mktemp("cursors"))
    finally:
        node.kill()


def _public_calls(scene: Scene) -> dict[str, Callable[[Chain], Any]]:
    """Every public call, each given a `Chain` behind the faulty proxy."""
    r = scene.registries
    s = r.signers
    abi = load_artifact("AnchorRegistry")["abi"]

    def clients(chain: Chain) -> Registries:
        trust, anchor, status, consent = r.deployment.clients(chain)
        return Registries(chain, r.deployment, trust, anchor, status, consent, s)

    def reader(chain: Chain) -> list[Any]:
        cursor = scene.cursor_dir / f"{os.urandom(4).hex()}.json"
        return EventReader(chain, r.anchor.address, abi, cursor_path=cursor).poll()

    return {
        "chain_id": lambda chain: chain.chain_id,
        "block_number": lambda chain: chain.block_number(),
        "block": lambda chain: chain.block(),
        "find_block": lambda chain: chain.find_block(1),
        "block_transactions": lambda chain: chain.block_transactions(1),
        "balance": lambda chain: chain.balance(s.deployer.address),
        "code": lambda chain: chain.code(scene.probe),
        "nonce": lambda chain: chain.nonce(s.deployer.address),
        "call": lambda chain: chain.call(scene.probe, ABI, "values", [TAG]),
        "get_logs": lambda chain: chain.get_logs(
            address=r.anchor.address, from_block=0, to_block=chain.block_number()
        ),
        "find_receipt": lambda chain: chain.find_receipt(scene.tx_hash),
        "transact": lambda chain: chain.transact(s.outsider, scene.probe, ABI, "poke", [TAG, 1]),
        "deploy": lambda chain: deploy_probe(chain, s.outsider),
        "send_value": lambda chain: chain.send_value(s.deployer, Signer.generate().address, 1),
        "dev_signers": lambda chain: chain.dev_signers(2),
        "fund": lambda chain: chain.fund(Signer.generate().address, 1),
        "fund_if_empty": lambda chain: chain.fund_if_empty(Signer.generate().address, 1),
        "snapshot_revert": lambda chain: chain.revert(chain.snapshot()),
        "mine": lambda chain: chain.mine(1),
        "set_next_block_timestamp": lambda chain: chain.set_next_block_timestamp(
            chain.block().timestamp + 5
        ),
        "forget_nonces": lambda chain: chain.forget_nonces(),
        "anchor_of": lambda chain: clients(chain).anchor.anchor_of(scene.root),
        "anchor": lambda chain: clients(chain).anchor.anchor(
            s.anchorer, root=os.urandom(32), leaf_count=1, batch_ref=TAG
        ),
        "entity": lambda chain: clients(chain).trust.entity(r.ministry_id),
        "current_status": lambda chain: clients(chain).status.current_status(TAG),
        "event_reader_poll": reader,
        "chain_view_block_hash": lambda chain: NodeChainView(chain).block_hash(1),
        "chain_view_anchor_of": lambda chain: NodeChainView(chain).anchor_of(
            r.anchor.address, scene.root
        ),
    }


@pytest.fixture(scope="module")
def methods_used(scene: Scene) -> dict[str, list[str]]:
    """The JSON-RPC methods each public call sends, recorded on a healthy run."""
    used: dict[str, list[str]] = {}
    with RpcProxy(scene.node.url) as proxy:
        for name, call in _public_calls(scene).items():
            proxy.seen.clear()
            call(Chain.from_urls([proxy.url], receipt_timeout=5.0))
            used[name] = sorted(set(proxy.seen))
    return used


@pytest.mark.parametrize("fault_name", sorted(FAULTS))
def test_every_public_call_fails_only_with_chain_errors(
    scene: Scene, methods_used: dict[str, list[str]], fault_name: str
) -> None:
    fault = FAULTS[fault_name]
    escaped: list[str] = []
    tried = 0
    with RpcProxy(scene.node.url) as proxy:
        for name, call in _public_calls(scene).items():
            for method in methods_used[name]:
                proxy.fail(method, fault)
                chain = Chain.from_urls([proxy.url], timeout=5.0, receipt_timeout=0.5)
                tried += 1
                try:
                    call(chain)
                except ChainError:
                    pass
                except Exception as err:
                    escaped.append(f"{name} with {method}: {type(err).__module__}.{err!r}"[:300])
                finally:
                    proxy.heal()
    assert tried > 50
    assert not escaped, "\n".join(escaped)
