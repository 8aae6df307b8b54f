"""The port through which the cards domain writes and reads the chain: the revocation of a
replaced e-card on ``StatusRegistry`` and the holder successions of ``ConsentRegistry``
(`CardLedger`).

`credential_service.cards.chain.NodeCardLedger` implements it over ``node_adapter``. Writes are
signed by the custodied controller of the organisation named by its credit code and return once
settled (see ``Settings.chain_confirmations``). Every method raises `LedgerUnavailable` when no
node answers and `LedgerRejected` when the contract reverts (its ``contract_error`` names the
contract error).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from wallet_sdk.credentials import CardStatusReason

__all__ = ["CardLedger", "RecordedSuccession", "SuccessionOnChain"]


@dataclass(frozen=True)
class SuccessionOnChain:
    """A holder succession as ``ConsentRegistry`` holds it: the direct successor address and
    the block time (unix seconds) since which it succeeds."""

    successor: str
    at: int


@dataclass(frozen=True)
class RecordedSuccession:
    """A succession this service wrote: its block time (unix seconds) and transaction hash."""

    block_time: int
    tx_hash: str


class CardLedger(Protocol):
    """Writes and reads of ``StatusRegistry`` and ``ConsentRegistry`` for e-cards."""

    def revoke_card(self, *, actor: str, credential_id: bytes, reason: CardStatusReason) -> None:
        """Revoke the e-card `credential_id` with `reason`, signed by `actor`'s controller (the
        card's issuer)."""
        ...

    def successor_of(self, predecessor: str) -> SuccessionOnChain | None:
        """The direct successor of the holder address `predecessor`, ``None`` when none."""
        ...

    def is_successor_of(self, holder: str, candidate: str) -> bool:
        """Whether `candidate` succeeds `holder`, directly or through later successions."""
        ...

    def record_succession(
        self, *, actor: str, card_issuer: bytes, predecessor: str, successor: str
    ) -> RecordedSuccession:
        """Record that `successor` succeeds `predecessor`, signed by `actor`'s controller, a
        controller of the card issuer entity `card_issuer`; settled (sent again while the chain
        shows no successor of `predecessor`)."""
        ...
