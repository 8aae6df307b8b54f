"""The port through which the consent domain reads and writes ``ConsentRegistry``.

`credential_service.consent.chain.NodeConsentLedger` implements it over ``node_adapter``: the
service's relayer account pays the gas, so a cardholder never needs any. Every method raises
``LedgerUnavailable`` when no node answers and ``LedgerRejected`` (its ``contract_error`` names
the contract error) when the contract reverts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from node_adapter.consent_format import ConsentOnChain
from wallet_sdk.consent import GrantTerms, RegistryDomain

__all__ = ["ChainTime", "ConsentLedger", "RelayedTx"]


@dataclass(frozen=True)
class ChainTime:
    """A block: its number and timestamp (unix seconds)."""

    block_number: int
    block_time: int


@dataclass(frozen=True)
class RelayedTx:
    """A mined, successful relay transaction."""

    tx_hash: str
    block_number: int
    block_time: int
    confirmations: int = 0
    """The depth the transaction had reached (at least) when the relay returned."""


class ConsentLedger(Protocol):
    """Reads and writes of ``ConsentRegistry``."""

    @property
    def domain(self) -> RegistryDomain:
        """The registry's EIP-712 domain (chain id, address)."""
        ...

    def latest(self) -> ChainTime:
        """The latest block."""
        ...

    def grant(self, *, terms: GrantTerms, signature: bytes) -> RelayedTx:
        """Relay a holder-signed grant."""
        ...

    def withdraw(self, *, consent_id: bytes, nonce: int, signature: bytes) -> RelayedTx:
        """Relay a holder-signed withdrawal."""
        ...

    def consent_of(self, *, consent_id: bytes, block: int) -> ConsentOnChain | None:
        """The consent as of `block`; ``None`` when unknown."""
        ...

    def is_valid(
        self, *, consent_id: bytes, grantee: bytes, purpose_hash: bytes, at: int, block: int
    ) -> bool:
        """``isValid`` evaluated on the state of `block`."""
        ...

    def nonce_used(self, *, holder: str, nonce: int) -> bool:
        """Whether the holder has used `nonce`."""
        ...
