"""``TrustLedger`` over ``node_adapter``: the service's custodied controller accounts writing
``TrustRegistry``.

Each organisation's controller is a secp256k1 key the service keeps in its keystore under
``controller/<credit code>``; the deployer (``service/deployer``) deploys the registries when
no deployment file exists and, on chains with gas, funds new controllers.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from pathlib import Path

from credential_service.chain import guarded
from credential_service.core.config import Settings
from credential_service.errors import ConfigurationError
from credential_service.jwk import OrganisationPublicKey
from credential_service.keystore import FileKeystore
from credential_service.models import (
    KeyPurpose,
    OrganisationKind,
    OrganisationStatus,
)
from credential_service.services.ledger import KeyOnChain, organisation_ledger_id
from node_adapter import (
    Chain,
    ChainError,
    Deployment,
    EntityStatus,
    Kind,
    Signer,
    TrustRegistryClient,
    deploy_registries,
)
from node_adapter import ConfigurationError as ChainConfigurationError
from node_adapter import KeyAlgorithm as ChainKeyAlgorithm
from node_adapter import KeyPurpose as ChainKeyPurpose
from wallet_sdk import Curve

log = logging.getLogger(__name__)

_KINDS = {
    OrganisationKind.MINISTRY: Kind.MINISTRY,
    OrganisationKind.PROVINCE: Kind.PROVINCE,
    OrganisationKind.ISSUER: Kind.ISSUER,
    OrganisationKind.EMPLOYER: Kind.EMPLOYER,
    OrganisationKind.DATA_USER: Kind.DATA_USER,
    OrganisationKind.COURT: Kind.COURT,
    OrganisationKind.CARD_ISSUER: Kind.CARD_ISSUER,
}
_STATUSES = {
    OrganisationStatus.ACTIVE: EntityStatus.ACTIVE,
    OrganisationStatus.SUSPENDED: EntityStatus.SUSPENDED,
    OrganisationStatus.REVOKED: EntityStatus.REVOKED,
}
_PURPOSES = {
    KeyPurpose.CLIENT_AUTHENTICATION: ChainKeyPurpose.CLIENT_AUTHENTICATION,
    KeyPurpose.DOCUMENT_SIGNING: ChainKeyPurpose.DOCUMENT_SIGNING,
}
_FROM_CHAIN_PURPOSES = {chain: ours for ours, chain in _PURPOSES.items()}
_CONTROLLER_FUNDING_WEI = 10**18
DEPLOYER_KEY = "service/deployer"


def _controller_key_name(credit_code: str) -> str:
    return f"controller/{credit_code}"


def _check_deployment(chain: Chain, deployment: Deployment, path: Path) -> None:
    """Raises ``ConfigurationError`` when ``chain`` does not hold ``deployment`` (saved at
    ``path``); ``node_adapter`` errors reading the chain pass through."""
    try:
        deployment.check_code(chain)
    except ChainConfigurationError as err:
        raise ConfigurationError(
            f"{err}: {path} describes the registries of another chain. Point "
            "HRSS_DEPLOYMENT_PATH at this chain's deployment, or start afresh with an empty "
            "database and no deployment file (for `make run`: stop it, then rm -rf var)",
            detail={"deployment_path": str(path)},
        ) from err


class NodeTrustLedger:
    """``TrustLedger`` over a ``node_adapter.Chain`` and a deployed ``TrustRegistry``."""

    def __init__(
        self,
        *,
        chain: Chain,
        keystore: FileKeystore,
        deployer: Signer,
        registry: TrustRegistryClient | None = None,
    ) -> None:
        self._chain = chain
        self._keystore = keystore
        self._deployer = deployer
        self._registry = registry
        self._deployment: Deployment | None = None
        self.freshly_deployed = False
        self._lock = threading.RLock()

    @property
    def chain(self) -> Chain:
        return self._chain

    @property
    def deployment(self) -> Deployment | None:
        """Addresses of the registries this ledger writes (``None`` before ``connect``)."""
        return self._deployment

    @property
    def registry(self) -> TrustRegistryClient:
        if self._registry is None:
            raise ConfigurationError("the trust registry is not deployed")
        return self._registry

    @classmethod
    def connect(
        cls, *, settings: Settings, keystore: FileKeystore, chain: Chain | None = None
    ) -> NodeTrustLedger:
        """Connect to the chain (``chain``, else the configured URLs, else in dev mode the
        in-process EVM), and load the registry deployment or deploy it with the Ministry
        as root.

        Raises ``ConfigurationError`` when no chain is configured outside dev mode or when the
        chain does not hold the registries of the saved deployment (a chain reset since), and
        ``LedgerUnavailable`` / ``LedgerRejected`` when connecting or deploying fails.
        """
        if chain is None:
            if settings.chain_rpc_urls:
                chain = guarded("connect", lambda: Chain.from_urls(list(settings.chain_rpc_urls)))
            elif settings.dev_mode:
                chain = Chain.embedded()
            else:
                raise ConfigurationError("no chain RPC URL configured")
        deployer = Signer.from_key(keystore.ensure(DEPLOYER_KEY, Curve.SECP256K1).private_bytes())
        ledger = cls(chain=chain, keystore=keystore, deployer=deployer)
        ledger._fund_deployer()
        ministry = settings.ministry_credit_code
        ministry_controller = ledger.controller_address(credit_code=ministry)
        path = settings.deployment_path
        if path is not None and path.exists():
            deployment = guarded("load the deployment", lambda: Deployment.load(path))
            guarded("check the deployment", lambda: _check_deployment(chain, deployment, path))
        else:
            deployment = guarded(
                "deploy the registries",
                lambda: deploy_registries(
                    chain,
                    deployer=deployer,
                    ministry_id=organisation_ledger_id(ministry),
                    ministry_region=settings.ministry_region,
                    ministry_controller=ministry_controller,
                ),
            )
            ledger.freshly_deployed = True
            if path is not None:
                deployment.save(path)
        ledger._deployment = deployment
        ledger._registry = guarded(
            "open the trust registry", lambda: deployment.clients(chain).trust_registry
        )
        return ledger

    def _fund_deployer(self) -> None:
        # Development chains pay gas: give the deployer a balance from a dev account. On a
        # zero-gas permissioned network there is no dev account and nothing to do.
        funded = guarded(
            "fund the deployer",
            lambda: self._chain.fund_if_empty(self._deployer.address, 10**21),
        )
        if not funded:
            log.info("no development account to fund the deployer; assuming a zero-gas chain")

    def _signer(self, credit_code: str) -> Signer:
        return Signer.from_key(self._keystore.secret(_controller_key_name(credit_code)))

    def controller_signer(self, *, credit_code: str) -> Signer:
        """The custodied controller account of an organisation. Raises ``KeystoreError``."""
        return self._signer(credit_code)

    def controller_address(self, *, credit_code: str) -> str:
        name = _controller_key_name(credit_code)
        with self._lock:
            if name in self._keystore:
                return self._signer(credit_code).address
            key = self._keystore.generate(name, Curve.SECP256K1)
            signer = Signer.from_key(key.private_bytes())
            deployer_balance = guarded(
                "read a balance", lambda: self._chain.balance(self._deployer.address)
            )
            if deployer_balance > _CONTROLLER_FUNDING_WEI:
                guarded(
                    "fund a controller",
                    lambda: self._chain.send_value(
                        self._deployer, signer.address, _CONTROLLER_FUNDING_WEI
                    ),
                )
            return signer.address

    def entity_status(self, *, credit_code: str) -> OrganisationStatus | None:
        entity = guarded(
            "read an entity", lambda: self.registry.entity(organisation_ledger_id(credit_code))
        )
        if entity is None:
            return None
        reverse = {v: k for k, v in _STATUSES.items()}
        return reverse.get(entity.status)

    def accredit(
        self,
        *,
        accreditor: str,
        credit_code: str,
        kind: OrganisationKind,
        region: int,
        controller: str,
    ) -> None:
        with self._lock:
            signer = self._signer(accreditor)
            guarded(
                "accredit",
                lambda: self.registry.accredit(
                    signer,
                    id=organisation_ledger_id(credit_code),
                    kind=_KINDS[kind],
                    region=region,
                    parent=organisation_ledger_id(accreditor),
                    controllers=[controller],
                ),
            )

    def set_status(
        self, *, accreditor: str, credit_code: str, status: OrganisationStatus, reason: int
    ) -> None:
        with self._lock:
            signer = self._signer(accreditor)
            guarded(
                "change an entity's status",
                lambda: self.registry.set_entity_status(
                    signer,
                    id=organisation_ledger_id(credit_code),
                    status=_STATUSES[status],
                    reason=reason,
                ),
            )

    def register_key(
        self,
        *,
        credit_code: str,
        key: OrganisationPublicKey,
        purpose: KeyPurpose,
        valid_from: datetime | None,
        valid_until: datetime | None,
    ) -> None:
        with self._lock:
            signer = self._signer(credit_code)
            existing = guarded("read a key", lambda: self.registry.get_key(key.key_id_bytes))
            if existing is not None and existing.entity_id == organisation_ledger_id(credit_code):
                return  # registered by an earlier attempt whose database write was lost
            guarded(
                "register a key",
                lambda: self.registry.register_key(
                    signer,
                    id=organisation_ledger_id(credit_code),
                    key_id=key.key_id_bytes,
                    alg=ChainKeyAlgorithm(key.curve.registry_code),
                    purpose=_PURPOSES[purpose],
                    public_key=key.raw_public_key,
                    valid_from=int(valid_from.timestamp()) if valid_from else 0,
                    valid_until=int(valid_until.timestamp()) if valid_until else 0,
                ),
            )

    def key_on_chain(self, *, key_id: bytes) -> KeyOnChain | None:
        record = guarded("read a key", lambda: self.registry.get_key(key_id))
        if record is None:
            return None
        return KeyOnChain(
            entity_id=record.entity_id,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            revoked_at=record.revoked_at,
            purpose=_FROM_CHAIN_PURPOSES.get(record.purpose),
        )

    def end_key_validity(self, *, actor: str, key_id: bytes, valid_until: int) -> None:
        with self._lock:
            signer = self._signer(actor)
            guarded(
                "end a key's validity",
                lambda: self.registry.end_key_validity(
                    signer, key_id=key_id, valid_until=valid_until
                ),
            )

    def revoke_key(self, *, actor: str, key_id: bytes, revoked_at: int) -> None:
        with self._lock:
            signer = self._signer(actor)
            guarded(
                "revoke a key",
                lambda: self.registry.revoke_key(signer, key_id=key_id, revoked_at=revoked_at),
            )

    def is_reachable(self) -> bool:
        try:
            self._chain.block_number()
        except ChainError:
            return False
        return True

    def holds_deployment(self) -> bool:
        """Whether the chain still holds the registries this ledger writes, their compiled
        code at their addresses (a chain reset under a running service removes them). False
        as well when the chain cannot be read."""
        deployment = self._deployment
        if deployment is None:
            return False
        try:
            return deployment.registries_without_code(self._chain) == ()
        except ChainError:
            return False
