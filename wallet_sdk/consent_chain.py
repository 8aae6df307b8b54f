"""`ConsentView` over `node_adapter`: a cardholder or auditor checks consent receipts against
any node, without the service.

Kept apart from `wallet_sdk.consent` (like `wallet_sdk.chain_view`) so that the rest of the SDK
stays free of the chain stack::

    from wallet_sdk.consent_chain import NodeConsentView
    view = NodeConsentView.from_urls(["https://node.example:8545"])
    verify_consent_receipt_on_chain(receipt, view)
"""

from __future__ import annotations

from collections.abc import Sequence

from node_adapter import Chain, ConsentOnChain, ConsentRegistryClient

__all__ = ["NodeConsentView"]


class NodeConsentView:
    """A read-only `wallet_sdk.consent.ConsentView` over a `node_adapter.Chain`.

    Methods raise `node_adapter.ChainError` when the chain cannot answer.
    """

    def __init__(self, chain: Chain) -> None:
        self._chain = chain

    @classmethod
    def from_urls(cls, urls: Sequence[str], *, timeout: float = 10.0) -> NodeConsentView:
        """A view over JSON-RPC nodes (failover in order)."""
        return cls(Chain.from_urls(list(urls), timeout=timeout))

    def chain_id(self) -> int:
        return self._chain.chain_id

    def is_successor_of(self, registry: str, holder: str, candidate: str) -> bool:
        return ConsentRegistryClient(self._chain, registry).is_successor_of(holder, candidate)

    def consent_of(self, registry: str, consent_id: bytes) -> ConsentOnChain | None:
        return ConsentRegistryClient(self._chain, registry).consent_of(bytes(consent_id))
