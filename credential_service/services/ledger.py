"""The port through which domain services write the trust registry on chain.

``credential_service.services.chain.NodeTrustLedger`` implements it over ``node_adapter``.
Controller accounts are custodied by the service and named by the organisation's credit code.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from eth_hash.auto import keccak

from credential_service.jwk import OrganisationPublicKey
from credential_service.models import KeyPurpose, OrganisationKind, OrganisationStatus


def organisation_ledger_id(credit_code: str) -> bytes:
    """On-chain id of an organisation: keccak256(b"hrss:org:" + unified social credit code)."""
    return keccak(b"hrss:org:" + credit_code.encode("ascii"))


def chain_time(value: datetime) -> int:
    """A time as ``TrustRegistry`` stores it: whole unix seconds, rounded down."""
    return int(value.timestamp())


@dataclass(frozen=True)
class KeyOnChain:
    """A key as ``TrustRegistry`` holds it now. Times are unix seconds; ``valid_until`` and
    ``revoked_at`` are 0 when unset."""

    entity_id: bytes
    valid_from: int
    valid_until: int
    revoked_at: int
    purpose: KeyPurpose | None
    """``None`` for a purpose this service does not register (credential signing, anchoring)."""

    @property
    def ends_at(self) -> int | None:
        """The first second the key is no longer valid (the earlier of the end of its window
        and its revocation), ``None`` when open-ended."""
        ends = [t for t in (self.valid_until, self.revoked_at) if t]
        return min(ends) if ends else None

    def mirrored_until(self) -> datetime | None:
        """``ends_at`` as the database's ``organisation_key.valid_until``."""
        ends = self.ends_at
        return None if ends is None else datetime.fromtimestamp(ends, tz=UTC)


class TrustLedger(Protocol):
    """Writes and reads of ``TrustRegistry``.

    Every method raises ``LedgerUnavailable`` when no node answers and ``LedgerRejected`` when
    the contract reverts.
    """

    def controller_address(self, *, credit_code: str) -> str:
        """The controller account of the organisation, created (and funded where the chain
        needs gas) on first use."""
        ...

    def entity_status(self, *, credit_code: str) -> OrganisationStatus | None:
        """The organisation's status on chain; ``None`` when it was never accredited."""
        ...

    def accredit(
        self,
        *,
        accreditor: str,
        credit_code: str,
        kind: OrganisationKind,
        region: int,
        controller: str,
    ) -> None: ...

    def set_status(
        self, *, accreditor: str, credit_code: str, status: OrganisationStatus, reason: int
    ) -> None: ...

    def register_key(
        self,
        *,
        credit_code: str,
        key: OrganisationPublicKey,
        purpose: KeyPurpose,
        valid_from: datetime | None,
        valid_until: datetime | None,
    ) -> None:
        """Register ``key`` for ``purpose``, valid from ``valid_from`` (``None``: from the
        registration block; a time before that block is refused by the contract) until
        ``valid_until`` (``None``: open-ended)."""
        ...

    def key_on_chain(self, *, key_id: bytes) -> KeyOnChain | None:
        """The key ``key_id`` (32-byte RFC 7638 thumbprint) as the registry holds it, ``None``
        when it was never registered."""
        ...

    def end_key_validity(self, *, actor: str, key_id: bytes, valid_until: int) -> None:
        """Shorten a key's validity to ``valid_until`` (rotation), signed by the controller of
        ``actor`` (the key's organisation or its accreditor)."""
        ...

    def revoke_key(self, *, actor: str, key_id: bytes, revoked_at: int) -> None:
        """Revoke a key from ``revoked_at`` (compromise; may lie in the past), signed by the
        controller of ``actor`` (the key's organisation or its accreditor)."""
        ...

    def is_reachable(self) -> bool: ...

    def holds_deployment(self) -> bool:
        """Whether the chain holds the registries' code at the deployment's addresses."""
        ...
