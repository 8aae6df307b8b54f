"""The port through which domain services write the trust registry on chain.

``credential_service.chain.NodeTrustLedger`` implements it over ``node_adapter``. Controller
accounts are custodied by the service and named by the organisation's credit code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from eth_hash.auto import keccak

from credential_service.jwk import OrganisationPublicKey
from credential_service.models import OrganisationKind, OrganisationStatus


def organisation_ledger_id(credit_code: str) -> bytes:
    """On-chain id of an organisation: keccak256(b"hrss:org:" + unified social credit code)."""
    return keccak(b"hrss:org:" + credit_code.encode("ascii"))


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
        valid_from: datetime,
        valid_until: datetime | None,
    ) -> None: ...

    def is_reachable(self) -> bool: ...
