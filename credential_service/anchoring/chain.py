"""`AnchorLedger` over `node_adapter`: anchoring roots from one account, finding them again.

Errors of `node_adapter` are translated at the boundary (`credential_service.chain`): a revert
becomes `LedgerRejected` (its ``contract_error`` names the contract error, e.g.
``"RootAlreadyAnchored"``); every other chain failure (no node, a timeout, an RPC error)
becomes `LedgerUnavailable`, which the batcher answers with a backoff.
"""

from __future__ import annotations

from credential_service.anchoring.outbox import Inclusion
from credential_service.chain import guarded
from credential_service.errors import LedgerUnavailable
from node_adapter import (
    AnchorRegistryClient,
    Chain,
    DecodedEvent,
    Signer,
    TxReceipt,
)

__all__ = ["NodeAnchorLedger"]


def _tx_hash(value: str) -> bytes:
    return bytes.fromhex(value.removeprefix("0x"))


class NodeAnchorLedger:
    """Anchors through `AnchorRegistry` at `registry_address` on `chain`, sent by `signer`
    (which must be an anchoring account of an active entity in the trust registry)."""

    def __init__(self, *, chain: Chain, registry_address: str, signer: Signer) -> None:
        self._chain = chain
        self._registry = AnchorRegistryClient(chain, registry_address)
        self._signer = signer
        self._chain_id: int | None = None

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            self._chain_id = guarded("read the chain id", lambda: self._chain.chain_id)
        return self._chain_id

    @property
    def registry(self) -> str:
        return self._registry.address

    @property
    def account(self) -> str:
        return self._signer.address

    def anchor(self, *, root: bytes, leaf_count: int, batch_ref: bytes) -> Inclusion:
        receipt = guarded(
            "anchor a root",
            lambda: self._registry.anchor(
                self._signer, root=root, leaf_count=leaf_count, batch_ref=batch_ref
            ),
        )
        return self._inclusion(receipt)

    def _inclusion(self, receipt: TxReceipt) -> Inclusion:
        event = guarded("read the Anchored event", lambda: receipt.event("Anchored"))
        block = guarded("read a block", lambda: self._chain.block(receipt.block_number))
        return Inclusion(
            chain_id=self.chain_id,
            registry=self.registry,
            transaction_hash=_tx_hash(receipt.tx_hash),
            block_number=receipt.block_number,
            block_hash=receipt.block_hash,
            block_time=block.timestamp,
            anchored_by=str(event.args["submitter"]),
            entity_id=bytes(event.args["entityId"]),
            gas_used=receipt.gas_used,
        )

    def find(self, root: bytes) -> Inclusion | None:
        record = guarded("read an anchor", lambda: self._registry.anchor_of(root))
        if record is None:
            return None
        number = record.block_number
        logs = guarded(
            "read the Anchored logs",
            lambda: self._chain.get_logs(
                address=self.registry,
                from_block=number,
                to_block=number,
                topics=[None, "0x" + root.hex()],
            ),
        )
        events = [
            decoded
            for decoded in (Chain.decode_log(self._registry.abi, entry) for entry in logs)
            if isinstance(decoded, DecodedEvent) and decoded.name == "Anchored"
        ]
        block = guarded("read a block", lambda: self._chain.find_block(number))
        if not events or block is None or events[0].block_hash != block.hash:
            # The state says anchored but the block moved under us: a rollback in progress.
            # Report "not found yet"; the next pass looks again.
            raise LedgerUnavailable(f"anchor of 0x{root.hex()} is being reorganised")
        event = events[0]
        return Inclusion(
            chain_id=self.chain_id,
            registry=self.registry,
            transaction_hash=_tx_hash(event.tx_hash),
            block_number=number,
            block_hash=block.hash,
            block_time=record.timestamp,
            anchored_by=record.submitter,
            entity_id=bytes(event.args["entityId"]),
        )

    def block_hash(self, number: int) -> bytes | None:
        block = guarded("read a block", lambda: self._chain.find_block(number))
        return None if block is None else block.hash

    def head(self) -> int:
        return guarded("read the head", self._chain.block_number)

    def resync(self) -> None:
        self._chain.forget_nonces()
