"""`ConsentLedger` over ``node_adapter``: the service's relayer account sends holder-signed
grants and withdrawals to ``ConsentRegistry`` and pays their gas.

Errors of ``node_adapter`` are translated at the boundary (`credential_service.chain`).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable

from credential_service.chain import guarded
from credential_service.consent.ledger import ChainTime, RelayedTx
from node_adapter import (
    Chain,
    ConsentOnChain,
    ConsentRegistryClient,
    Signer,
    TxReceipt,
)
from wallet_sdk.consent import GrantTerms, RegistryDomain

__all__ = ["NodeConsentLedger"]


class NodeConsentLedger:
    """``ConsentLedger`` over a ``node_adapter.Chain``; `relayer` pays the gas.

    A relay returns only once its transaction is `confirmations` blocks deep (0, the default
    for automining development chains: as soon as it is mined). Until then the ledger keeps the
    signed grant or withdrawal: when a reorg removes its transaction, or the node drops it from
    the pool, it sends it again, unless the chain shows the holder's nonce used already (then
    nothing is sent twice and the relay fails with ``LedgerUnavailable``). A chain that does not
    reach the depth within `settle_timeout` seconds also gives ``LedgerUnavailable``.
    """

    def __init__(
        self,
        *,
        chain: Chain,
        registry: ConsentRegistryClient,
        relayer: Signer,
        confirmations: int = 0,
        settle_timeout: float = 60.0,
        resends: int = 3,
    ) -> None:
        self._chain = chain
        self._registry = registry
        self._relayer = relayer
        self._confirmations = confirmations
        self._settle_timeout = settle_timeout
        self._resends = resends
        self._lock = threading.Lock()
        self._domain = RegistryDomain(chain_id=chain.chain_id, address=registry.address)

    @property
    def domain(self) -> RegistryDomain:
        return self._domain

    def latest(self) -> ChainTime:
        block = guarded("read the latest block", lambda: self._chain.block("latest"))
        return ChainTime(block_number=block.number, block_time=block.timestamp)

    def _relayed(
        self, what: str, send: Callable[[], TxReceipt], *, landed: Callable[[], bool]
    ) -> RelayedTx:
        # One relay at a time: the relayer's nonce and the order of grants stay simple.
        with self._lock:
            receipt = self._settled(what, send, landed=landed)
        number = receipt.block_number
        block = guarded("read a block", lambda: self._chain.block(number))
        return RelayedTx(
            tx_hash=receipt.tx_hash,
            block_number=number,
            block_time=block.timestamp,
            confirmations=self._confirmations,
        )

    def _settled(
        self, what: str, send: Callable[[], TxReceipt], *, landed: Callable[[], bool]
    ) -> TxReceipt:
        return guarded(
            what,
            functools.partial(
                self._chain.settle,
                send,
                landed=landed,
                confirmations=self._confirmations,
                timeout=self._settle_timeout,
                resends=self._resends,
            ),
        )

    def grant(self, *, terms: GrantTerms, signature: bytes) -> RelayedTx:
        return self._relayed(
            "relay a consent grant",
            lambda: self._registry.grant(self._relayer, terms, signature),
            landed=lambda: self._registry.nonce_used(terms.holder, terms.nonce),
        )

    def withdraw(self, *, consent_id: bytes, nonce: int, signature: bytes) -> RelayedTx:
        return self._relayed(
            "relay a consent withdrawal",
            lambda: self._registry.withdraw(self._relayer, consent_id, nonce, signature),
            landed=lambda: self._withdrawn(consent_id),
        )

    def _withdrawn(self, consent_id: bytes) -> bool:
        record = self._registry.consent_of(consent_id, block=self._chain.block_number())
        return record is not None and record.withdrawn_at != 0

    def consent_of(self, *, consent_id: bytes, block: int) -> ConsentOnChain | None:
        return guarded("read a consent", lambda: self._registry.consent_of(consent_id, block=block))

    def is_valid(
        self, *, consent_id: bytes, grantee: bytes, purpose_hash: bytes, at: int, block: int
    ) -> bool:
        return guarded(
            "check a consent",
            lambda: self._registry.is_valid(
                consent_id=consent_id,
                grantee=grantee,
                purpose_hash=purpose_hash,
                at=at,
                block=block,
            ),
        )

    def nonce_used(self, *, holder: str, nonce: int) -> bool:
        return guarded("read a nonce", lambda: self._registry.nonce_used(holder, nonce))
