"""`CardLedger` over ``node_adapter``: a `CredentialRuntime`'s chain, registry clients and
custodied controller accounts.

Errors of ``node_adapter`` are translated at the boundary (`credential_service.chain`);
writes settle through the credentials domain's `write_settled`.
"""

from __future__ import annotations

from credential_service.cards.ledger import RecordedSuccession, SuccessionOnChain
from credential_service.chain import guarded
from credential_service.credentials.chain import write_settled
from credential_service.credentials.runtime import CredentialRuntime
from node_adapter import CredentialStatus
from wallet_sdk.credentials import CardStatusReason

__all__ = ["NodeCardLedger"]


class NodeCardLedger:
    """`CardLedger` over a `CredentialRuntime`'s chain and registry clients, read at each call
    (its confirmations and settle timeout may be set after it is built)."""

    def __init__(self, runtime: CredentialRuntime) -> None:
        self._runtime = runtime

    def revoke_card(self, *, actor: str, credential_id: bytes, reason: CardStatusReason) -> None:
        runtime = self._runtime
        controller = runtime.controller(actor)
        write_settled(
            runtime,
            "revoke the replaced e-card",
            lambda: runtime.clients.status_registry.set_status(
                controller,
                credential_id=credential_id,
                status=CredentialStatus.REVOKED,
                reason=reason,
            ),
        )

    def successor_of(self, predecessor: str) -> SuccessionOnChain | None:
        registry = self._runtime.clients.consent_registry
        found = guarded("read a holder succession", lambda: registry.successor_of(predecessor))
        return None if found is None else SuccessionOnChain(successor=found.successor, at=found.at)

    def is_successor_of(self, holder: str, candidate: str) -> bool:
        registry = self._runtime.clients.consent_registry
        return guarded(
            "read a holder succession", lambda: registry.is_successor_of(holder, candidate)
        )

    def record_succession(
        self, *, actor: str, card_issuer: bytes, predecessor: str, successor: str
    ) -> RecordedSuccession:
        runtime = self._runtime
        registry = runtime.clients.consent_registry
        controller = runtime.controller(actor)
        receipt = write_settled(
            runtime,
            "record the holder succession",
            lambda: registry.record_succession(
                controller,
                card_issuer=card_issuer,
                predecessor=predecessor,
                successor=successor,
            ),
            landed=lambda: registry.successor_of(predecessor) is not None,
        )
        block_time = guarded(
            "read a block", lambda: runtime.chain.block(receipt.block_number).timestamp
        )
        return RecordedSuccession(block_time=block_time, tx_hash=receipt.tx_hash)
