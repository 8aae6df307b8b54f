"""`EvidenceChainView` over `node_adapter`: evidence verification against any node.

Kept out of ``wallet_sdk.evidence`` on purpose, like `wallet_sdk.chain_view`: importing it
pulls in the chain stack::

    from wallet_sdk.evidence.chain import NodeEvidenceChainView
    view = NodeEvidenceChainView.from_urls(["https://node.example:8545"])
    verify_evidence(package, document, view, anchor_registry=..., trust_registry=...)
"""

from __future__ import annotations

from collections.abc import Sequence

from node_adapter import Chain, TrustRegistryClient
from wallet_sdk.chain_view import NodeChainView
from wallet_sdk.evidence._verify import EntityRecord, RegisteredKeyRecord

__all__ = ["NodeEvidenceChainView"]


class NodeEvidenceChainView(NodeChainView):
    """A read-only `EvidenceChainView` over a `node_adapter.Chain`. Methods raise
    `node_adapter.ChainError` when the chain cannot answer; the verifier turns that into the
    failure of the check that asked."""

    @classmethod
    def from_urls(cls, urls: Sequence[str], *, timeout: float = 10.0) -> NodeEvidenceChainView:
        """A view over JSON-RPC nodes (failover in order). Raises
        `node_adapter.ConfigurationError` for an empty or malformed URL list."""
        return cls(Chain.from_urls(list(urls), timeout=timeout))

    def _trust(self, trust_registry: str) -> TrustRegistryClient:
        return TrustRegistryClient(self.chain, trust_registry)

    def registered_key(self, trust_registry: str, key_id: bytes) -> RegisteredKeyRecord | None:
        record = self._trust(trust_registry).get_key(bytes(key_id))
        if record is None:
            return None
        return RegisteredKeyRecord(
            entity_id=record.entity_id,
            alg=int(record.alg),
            public_key=record.public_key,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            revoked_at=record.revoked_at,
            purpose=int(record.purpose),
        )

    def is_key_valid_at(self, trust_registry: str, key_id: bytes, t: int) -> bool:
        return self._trust(trust_registry).is_key_valid_at(bytes(key_id), int(t))

    def entity(self, trust_registry: str, entity_id: bytes) -> EntityRecord | None:
        entity = self._trust(trust_registry).entity(bytes(entity_id))
        if entity is None:
            return None
        return EntityRecord(
            kind=int(entity.kind),
            region=entity.region,
            parent=entity.parent,
            status=int(entity.status),
        )

    def entity_status_at(self, trust_registry: str, entity_id: bytes, t: int) -> int:
        return int(self._trust(trust_registry).status_at(bytes(entity_id), int(t)))
