"""The port through which the anchoring worker reaches `AnchorRegistry`.

`credential_service.anchoring.chain.NodeAnchorLedger` implements it over `node_adapter`; the
worker knows nothing of web3. Every method raises `LedgerUnavailable` when no node answers and
`LedgerRejected` when the contract reverts (``contract_error`` names the contract error).
"""

from __future__ import annotations

from typing import Protocol

from credential_service.anchoring.outbox import Inclusion

__all__ = ["AnchorLedger"]


class AnchorLedger(Protocol):
    """Anchoring of Merkle roots from one anchoring account."""

    @property
    def chain_id(self) -> int: ...

    @property
    def registry(self) -> str:
        """EIP-55 address of the AnchorRegistry."""
        ...

    @property
    def account(self) -> str:
        """EIP-55 address of the anchoring account that sends."""
        ...

    def anchor(self, *, root: bytes, leaf_count: int, batch_ref: bytes) -> Inclusion:
        """Send ``anchor(root, leafCount, batchRef)``, wait for it to be mined, and return
        where it landed. Raises `LedgerRejected` with ``contract_error ==
        "RootAlreadyAnchored"`` when the root is on chain already."""
        ...

    def find(self, root: bytes) -> Inclusion | None:
        """Where `root` was anchored, read from the chain (registry state and its event), or
        ``None`` when the canonical chain does not hold it."""
        ...

    def block_hash(self, number: int) -> bytes | None:
        """Hash of the canonical block at `number`, ``None`` beyond the head."""
        ...

    def head(self) -> int:
        """Number of the latest block."""
        ...

    def resync(self) -> None:
        """Forget local transaction state (the account's nonce) after the chain moved under
        us: a rollback, or a transaction whose fate is unknown."""
        ...
