"""Typed client of `AnchorRegistry`: Merkle roots of anchored batches."""

from __future__ import annotations

from dataclasses import dataclass

from ._client import ContractClient, bytes32, uint
from .chain import BlockId, TxReceipt
from .signer import Signer

__all__ = ["AnchorRecord", "AnchorRegistryClient"]

_ZERO_ADDRESS = "0x" + "00" * 20


@dataclass(frozen=True)
class AnchorRecord:
    """Who anchored a root, and in which block (time and number)."""

    submitter: str
    timestamp: int
    block_number: int


class AnchorRegistryClient(ContractClient):
    """`AnchorRegistry`. `anchor` raises `TransactionReverted` (`RootAlreadyAnchored`, or the
    caller not being an anchoring account of an active entity)."""

    contract_name = "AnchorRegistry"

    def anchor(
        self, signer: Signer, *, root: bytes, leaf_count: int, batch_ref: bytes
    ) -> TxReceipt:
        """Anchor a batch root; the receipt carries the `Anchored` event."""
        return self._transact(
            signer,
            "anchor",
            [
                bytes32("root", root),
                uint("leaf_count", leaf_count, 32),
                bytes32("batch_ref", batch_ref),
            ],
        )

    def anchor_of(self, root: bytes, *, block: BlockId = "latest") -> AnchorRecord | None:
        """The anchoring of `root`, `None` when it was never anchored."""
        submitter, timestamp, block_number = self._call("anchorOf", [bytes32("root", root)], block)
        if str(submitter).lower() == _ZERO_ADDRESS and int(timestamp) == 0:
            return None
        return AnchorRecord(
            submitter=str(submitter), timestamp=int(timestamp), block_number=int(block_number)
        )
