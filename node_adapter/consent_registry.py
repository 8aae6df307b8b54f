"""Typed client of `ConsentRegistry`; the EIP-712 data a cardholder's wallet signs and the
stored consent are defined in `node_adapter.consent_format`."""

from __future__ import annotations

from dataclasses import dataclass

from ._client import ContractClient, address, bytes32, uint
from .chain import BlockId, TxReceipt
from .consent_format import (
    ConsentGrant,
    ConsentOnChain,
    TypedData,
    consent_id,
    consent_typed_data,
    withdrawal_typed_data,
)
from .signer import Signer

__all__ = ["ConsentRegistryClient", "HolderSuccession"]


@dataclass(frozen=True)
class HolderSuccession:
    """A recorded holder succession: `successor` is the new wallet address of the person who
    held `predecessor`, since block time `at`."""

    predecessor: str
    successor: str
    at: int


class ConsentRegistryClient(ContractClient):
    """`ConsentRegistry`. The holder signs (EIP-712, in the wallet); anyone relays, so the
    cardholder needs no gas. Writes raise `TransactionReverted` on a bad signature, a used
    nonce, an inactive grantee."""

    contract_name = "ConsentRegistry"

    def consent_typed_data(self, grant: ConsentGrant) -> TypedData:
        """`consent_typed_data` for this registry."""
        return consent_typed_data(grant, self.chain.chain_id, self.address)

    def withdrawal_typed_data(self, consent_id_: bytes, nonce: int) -> TypedData:
        """`withdrawal_typed_data` for this registry."""
        return withdrawal_typed_data(
            bytes32("consent_id", consent_id_),
            uint("nonce", nonce, 256),
            self.chain.chain_id,
            self.address,
        )

    def consent_id(self, grant: ConsentGrant) -> bytes:
        """`consent_id` for this registry."""
        return consent_id(grant, self.chain.chain_id, self.address)

    def hash_grant(self, grant: ConsentGrant) -> bytes:
        """The consent id as the contract computes it (an `eth_call`)."""
        return bytes(self._call("hashGrant", [grant.as_tuple()]))

    def domain_separator(self) -> bytes:
        """The contract's EIP-712 domain separator."""
        return bytes(self._call("DOMAIN_SEPARATOR"))

    def grant(self, signer: Signer, grant: ConsentGrant, signature: bytes) -> TxReceipt:
        """Relay a holder-signed grant; `signer` pays the gas."""
        return self._transact(signer, "grant", [grant.as_tuple(), bytes(signature)])

    def withdraw(
        self, signer: Signer, consent_id: bytes, nonce: int, signature: bytes
    ) -> TxReceipt:
        """Relay a withdrawal signed by the holder or a successor of the holder (see
        `record_succession`), effective from the block time."""
        return self._transact(
            signer,
            "withdraw",
            [bytes32("consent_id", consent_id), uint("nonce", nonce, 256), bytes(signature)],
        )

    def is_valid(
        self,
        *,
        consent_id: bytes,
        grantee: bytes,
        purpose_hash: bytes,
        at: int,
        block: BlockId = "latest",
    ) -> bool:
        """Whether the consent lets `grantee` use the data for `purpose_hash` at time `at`."""
        return bool(
            self._call(
                "isValid",
                [
                    bytes32("consent_id", consent_id),
                    bytes32("grantee", grantee),
                    bytes32("purpose_hash", purpose_hash),
                    uint("at", at, 64),
                ],
                block,
            )
        )

    def consent_of(self, consent_id: bytes, *, block: BlockId = "latest") -> ConsentOnChain | None:
        """The stored consent, `None` when never granted."""
        values = self._call("consentOf", [bytes32("consent_id", consent_id)], block)
        holder, grantee, purpose, scope, not_before, not_after, withdrawn_at = values
        if int(str(holder), 16) == 0:
            return None
        return ConsentOnChain(
            holder=str(holder),
            grantee=bytes(grantee),
            purpose_hash=bytes(purpose),
            scope_hash=bytes(scope),
            not_before=int(not_before),
            not_after=int(not_after),
            withdrawn_at=int(withdrawn_at),
        )

    def record_succession(
        self, signer: Signer, *, card_issuer: bytes, predecessor: str, successor: str
    ) -> TxReceipt:
        """Record that `successor` succeeds `predecessor` (a person's new phone); `signer` is a
        controller of `card_issuer`, an active card issuer. Reverts (`TransactionReverted`)
        with `NotController`, `NotCardIssuer`, `EntityNotActive`, `SuccessorExists`,
        `SuccessionCycle` or `ZeroAddress`."""
        return self._transact(
            signer,
            "recordSuccession",
            [
                bytes32("card_issuer", card_issuer),
                address("predecessor", predecessor),
                address("successor", successor),
            ],
        )

    def successor_of(self, holder: str, *, block: BlockId = "latest") -> HolderSuccession | None:
        """The direct successor of `holder`, `None` when none was recorded."""
        successor, at = self._call("successorOf", [address("holder", holder)], block)
        if int(str(successor), 16) == 0:
            return None
        return HolderSuccession(
            predecessor=address("holder", holder), successor=str(successor), at=int(at)
        )

    def is_successor_of(self, holder: str, candidate: str, *, block: BlockId = "latest") -> bool:
        """Whether `candidate` succeeds `holder`, directly or through later successions."""
        return bool(
            self._call(
                "isSuccessorOf",
                [address("holder", holder), address("candidate", candidate)],
                block,
            )
        )

    def nonce_used(self, holder: str, nonce: int, *, block: BlockId = "latest") -> bool:
        """Whether `holder` has used `nonce` (grant or withdrawal)."""
        return bool(
            self._call("nonceUsed", [address("holder", holder), uint("nonce", nonce, 256)], block)
        )
