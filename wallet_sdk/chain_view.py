"""`ChainView` over `node_adapter`: receipt verification against any node, without the service.

Kept out of ``wallet_sdk/__init__`` on purpose: the rest of the SDK stays free of the chain
stack; a verifier that reads the chain imports this module::

    from wallet_sdk.chain_view import NodeChainView
    view = NodeChainView.from_urls(["https://node.example:8545"])
    verify_receipt(receipt, digest, view, anchor_registry=..., trust_registry=...)

Nothing is cached: every verification reads the current canonical chain, so a rollback is
seen at once.
"""

from __future__ import annotations

from collections.abc import Sequence

from node_adapter import AnchorRegistryClient, Chain, ChainError, TrustRegistryClient
from wallet_sdk.receipt import AnchorRecord

__all__ = ["NodeChainView"]


class NodeChainView:
    """A read-only `wallet_sdk.receipt.ChainView` over a `node_adapter.Chain`.

    Methods raise `node_adapter.ChainError` when the chain cannot answer; `verify_receipt`
    turns that into the failure of the check that asked (fail closed).
    """

    def __init__(self, chain: Chain) -> None:
        self._chain = chain

    @classmethod
    def from_urls(cls, urls: Sequence[str], *, timeout: float = 10.0) -> NodeChainView:
        """A view over JSON-RPC nodes (failover in order). Raises
        `node_adapter.ConfigurationError` for an empty or malformed URL list."""
        return cls(Chain.from_urls(list(urls), timeout=timeout))

    @property
    def chain(self) -> Chain:
        return self._chain

    def chain_id(self) -> int:
        return self._chain.chain_id

    def anchor_of(self, registry: str, root: bytes) -> AnchorRecord | None:
        record = AnchorRegistryClient(self._chain, registry).anchor_of(bytes(root))
        if record is None:
            return None
        return AnchorRecord(record.submitter, record.timestamp, record.block_number)

    def block_hash(self, number: int) -> bytes:
        block = self._chain.find_block(int(number))
        if block is None:
            raise ChainError(f"block {number} is not on the chain")
        return block.hash

    def anchoring_entity_at(self, trust_registry: str, address: str, t: int) -> bytes:
        entity = TrustRegistryClient(self._chain, trust_registry).anchoring_entity_at(
            address, int(t)
        )
        return bytes(32) if entity is None else entity

    def is_active_at(self, trust_registry: str, entity: bytes, t: int) -> bool:
        return TrustRegistryClient(self._chain, trust_registry).is_active_at(bytes(entity), int(t))
