"""`CredentialLedger` and `CredentialTypeLedger` over ``node_adapter``: the runtime's chain,
registry clients and custodied controller accounts.

Errors of ``node_adapter`` are translated at the boundary (`credential_service.chain`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING

from credential_service.chain import guarded
from credential_service.credentials.ledger import FileEntry, PublishedSchema, SigningKeyOnChain
from credential_service.credentials.models import CredentialState
from node_adapter import (
    Chain,
    CredentialStatus,
    FileAdvance,
    KeyAlgorithm,
    KeyPurpose,
    RegistryClients,
    Signer,
    TrustRegistryClient,
    TxReceipt,
)
from wallet_sdk.credentials import IssuedCredential
from wallet_sdk.jose import Jwk

if TYPE_CHECKING:
    from credential_service.credentials.runtime import CredentialRuntime

__all__ = ["NodeCredentialLedger", "NodeCredentialTypeLedger", "write_settled"]

_TO_CHAIN_STATUS = {
    CredentialState.ACTIVE: CredentialStatus.ACTIVE,
    CredentialState.SUSPENDED: CredentialStatus.SUSPENDED,
    CredentialState.REVOKED: CredentialStatus.REVOKED,
}
_FROM_CHAIN_STATUS = {chain: ours for ours, chain in _TO_CHAIN_STATUS.items()}


def write_settled(
    runtime: CredentialRuntime,
    what: str,
    op: Callable[[], TxReceipt],
    *,
    landed: Callable[[], bool] | None = None,
) -> TxReceipt:
    """A chain transaction through `guarded`, kept until it is `runtime.confirmations` blocks
    deep and sent again if a reorg or the pool drops it meanwhile while `landed()` says its
    effect is not on chain (``Chain.settle``; without `landed`, a transaction that left the
    chain fails with ``LedgerUnavailable``). Once it is settled, the runtime's chain state
    reads up to its block, so this service's verifier knows at once what the service wrote."""
    receipt = guarded(
        what,
        partial(
            runtime.chain.settle,
            op,
            landed=landed,
            confirmations=runtime.confirmations,
            timeout=runtime.settle_timeout,
        ),
    )
    runtime.saw_confirmed(receipt)
    return receipt


def _registered(runtime: CredentialRuntime, credential_ids: list[bytes]) -> bool:
    """Whether the registration of `credential_ids` in ``StatusRegistry`` took effect (one
    transaction registers them all or none, so the first one tells)."""
    return runtime.clients.status_registry.issuer_of(credential_ids[0]) is not None


class NodeCredentialLedger:
    """`CredentialLedger` over a `CredentialRuntime`'s chain and registry clients, read at
    each call (its confirmations and settle timeout may be set after it is built)."""

    def __init__(self, runtime: CredentialRuntime) -> None:
        self._runtime = runtime

    def head_time(self) -> int:
        return guarded("read the chain head", lambda: self._runtime.chain.block().timestamp)

    def is_accredited_for(self, *, issuer: bytes, type_id: bytes, at: int) -> bool:
        return guarded(
            "read an accreditation",
            partial(self._runtime.direct.is_accredited_for, issuer, type_id, at),
        )

    def signing_key(self, key_id: bytes) -> SigningKeyOnChain | None:
        trust = self._runtime.clients.trust_registry
        record = guarded("read a key", lambda: trust.get_key(key_id))
        if record is None:
            return None
        return SigningKeyOnChain(
            valid_from=record.valid_from,
            revoked_at=record.revoked_at,
            for_credential_signing=record.purpose is KeyPurpose.CREDENTIAL_SIGNING,
        )

    def _send(
        self,
        what: str,
        actor: str,
        send: Callable[[Signer, RegistryClients], TxReceipt],
        *,
        landed: Callable[[], bool] | None = None,
    ) -> None:
        """`send` a transaction signed by `actor`'s controller, settled (`write_settled`)."""
        runtime = self._runtime
        signer = runtime.controller(actor)
        write_settled(runtime, what, lambda: send(signer, runtime.clients), landed=landed)

    def register_signing_key(
        self, *, issuer: str, entity: bytes, key: Jwk, valid_from: int
    ) -> None:
        self._send(
            "register a signing key",
            issuer,
            lambda signer, clients: clients.trust_registry.register_key(
                signer,
                id=entity,
                key_id=key.thumbprint(),
                alg=KeyAlgorithm(key.curve.registry_code),
                purpose=KeyPurpose.CREDENTIAL_SIGNING,
                public_key=key.raw_public_key(),
                valid_from=valid_from,
            ),
        )

    def end_key_validity(self, *, actor: str, key_id: bytes, valid_until: int) -> None:
        self._send(
            "end a key's validity",
            actor,
            lambda signer, clients: clients.trust_registry.end_key_validity(
                signer, key_id=key_id, valid_until=valid_until
            ),
        )

    def revoke_key(self, *, actor: str, key_id: bytes, revoked_at: int) -> None:
        self._send(
            "revoke a key",
            actor,
            lambda signer, clients: clients.trust_registry.revoke_key(
                signer, key_id=key_id, revoked_at=revoked_at
            ),
        )

    def set_credential_type(
        self, *, actor: str, entity: bytes, type_id: bytes, allowed: bool
    ) -> None:
        self._send(
            "set a credential type",
            actor,
            lambda signer, clients: clients.trust_registry.set_credential_type(
                signer, id=entity, credential_type=type_id, allowed=allowed
            ),
        )

    def file_head(self, file_key: bytes) -> tuple[int, bytes]:
        head = guarded(
            "read a training file head",
            partial(self._runtime.clients.status_registry.file_head, file_key),
        )
        return head.length, head.digest

    def register(
        self,
        *,
        issuer: str,
        entity: bytes,
        credentials: Sequence[IssuedCredential],
        file_entries: Mapping[int, FileEntry],
    ) -> None:
        ids = [c.credential_id for c in credentials]
        digests = [c.digest for c in credentials]
        landed = partial(_registered, self._runtime, ids)
        if not file_entries:
            self._send(
                "register credential statuses",
                issuer,
                lambda signer, clients: clients.status_registry.register(
                    signer, issuer=entity, credential_ids=ids, digests=digests
                ),
                landed=landed,
            )
            return
        advances = [
            FileAdvance(index, entry.file_key, entry.link.sequence, entry.link.previous)
            for index, entry in file_entries.items()
        ]
        self._send(
            "register credential statuses and training file heads",
            issuer,
            lambda signer, clients: clients.status_registry.register_with_file_heads(
                signer, issuer=entity, credential_ids=ids, digests=digests, advances=advances
            ),
            landed=landed,
        )

    def current_status(self, credential_id: bytes) -> CredentialState | None:
        record = guarded(
            "read a credential's status",
            lambda: self._runtime.clients.status_registry.current_status(credential_id),
        )
        return _FROM_CHAIN_STATUS.get(record.status)

    def set_status(
        self, *, actor: str, credential_id: bytes, status: CredentialState, reason: int
    ) -> None:
        registry = self._runtime.clients.status_registry
        self._send(
            "change a credential's status",
            actor,
            lambda signer, clients: clients.status_registry.set_status(
                signer, credential_id=credential_id, status=_TO_CHAIN_STATUS[status], reason=reason
            ),
            landed=lambda: (
                registry.current_status(credential_id).status == _TO_CHAIN_STATUS[status]
            ),
        )


class NodeCredentialTypeLedger:
    """`CredentialTypeLedger` over `trust` on `chain`, publishing as `publisher`; a publication
    returns once `confirmations` blocks deep (waiting at most `timeout` seconds)."""

    def __init__(
        self,
        *,
        chain: Chain,
        trust: TrustRegistryClient,
        publisher: Signer,
        confirmations: int = 0,
        timeout: float = 60.0,
    ) -> None:
        self._chain = chain
        self._trust = trust
        self._publisher = publisher
        self._confirmations = confirmations
        self._timeout = timeout

    def published_schema(self, type_id: bytes) -> PublishedSchema | None:
        record = guarded(
            "read a credential type", lambda: self._trust.credential_type_schema(type_id)
        )
        if record is None:
            return None
        return PublishedSchema(schema_digest=record.schema_digest, published_at=record.published_at)

    def publish_schema(
        self, *, type_id: bytes, schema_digest: bytes, landed: Callable[[], bool]
    ) -> tuple[int, str]:
        receipt = guarded(
            "publish a credential type",
            partial(
                self._chain.settle,
                lambda: self._trust.publish_credential_type(
                    self._publisher, credential_type=type_id, schema_digest=schema_digest
                ),
                landed=landed,
                confirmations=self._confirmations,
                timeout=self._timeout,
            ),
        )
        block = guarded("read a block", lambda: self._chain.block(receipt.block_number))
        return block.timestamp, receipt.tx_hash
