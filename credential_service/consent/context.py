"""What the consent and login routes need from a running service: the consent ledger (the
service's relayer account on ``ConsentRegistry``) and the key that signs QR payloads and
receipts."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from credential_service.consent.chain import NodeConsentLedger
from credential_service.consent.ledger import ConsentLedger
from credential_service.consent.service import (
    CONSENT_SEALING_KEY,
    CONSENT_SIGNING_KEY,
    ConsentSigner,
)
from node_adapter import Chain, Deployment, Signer
from wallet_sdk.jose import Curve

if TYPE_CHECKING:
    from credential_service.context import ServiceContext

__all__ = ["CONSENT_RELAYER_KEY", "ConsentContext"]

log = logging.getLogger(__name__)

CONSENT_RELAYER_KEY = "service/consent-relayer"
_RELAYER_FUNDING_WEI = 10**20


@dataclass(frozen=True)
class ConsentContext:
    ledger: ConsentLedger
    signer: ConsentSigner

    @classmethod
    def for_chain(
        cls,
        *,
        chain: Chain,
        deployment: Deployment,
        relayer: Signer,
        signer: ConsentSigner,
        confirmations: int = 0,
        settle_timeout: float = 60.0,
    ) -> ConsentContext:
        """A context on `deployment`'s ``ConsentRegistry``; `relayer` pays the gas; relays
        answer once `confirmations` blocks deep (see ``NodeConsentLedger``)."""
        registry = deployment.clients(chain).consent_registry
        return cls(
            ledger=NodeConsentLedger(
                chain=chain,
                registry=registry,
                relayer=relayer,
                confirmations=confirmations,
                settle_timeout=settle_timeout,
            ),
            signer=signer,
        )

    @classmethod
    def from_service(cls, context: ServiceContext) -> ConsentContext:
        """Build from a running service: its chain, its registry deployment (the ledger's
        ``deployment`` or the configured deployment file) and keys from its keystore
        (created on first use; the relayer is funded on development chains).

        Raises ``ConfigurationError`` when the deployment cannot be found.
        """
        chain, deployment = context.registry_chain()
        keystore = context.keystore
        relayer = Signer.from_key(
            keystore.ensure(CONSENT_RELAYER_KEY, Curve.SECP256K1).private_bytes()
        )
        if not chain.fund_if_empty(relayer.address, _RELAYER_FUNDING_WEI):
            log.info("no development account to fund the consent relayer; assuming zero gas")
        signer = ConsentSigner(
            issuer=context.settings.issuer_url,
            key=keystore.ensure(
                CONSENT_SIGNING_KEY, context.settings.crypto_profile.algorithms.signing_curve
            ),
            sealing_secret=keystore.ensure(CONSENT_SEALING_KEY, Curve.ED25519).private_bytes(),
            seal_algorithm=context.settings.crypto_profile.algorithms.seal_algorithm,
        )
        return cls.for_chain(
            chain=chain,
            deployment=deployment,
            relayer=relayer,
            signer=signer,
            confirmations=context.settings.chain_confirmations,
            settle_timeout=context.settings.chain_settle_seconds,
        )
