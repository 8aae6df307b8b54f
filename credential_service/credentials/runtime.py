"""What credential issuance and verification need from a running service: the chain and its
registries, the keystore, the credential types, and a chain-state cache that follows new
blocks so verification makes no RPC call per credential."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING

from credential_service.credentials.chain import NodeCredentialLedger, NodeCredentialTypeLedger
from credential_service.credentials.ledger import CredentialLedger, CredentialTypeLedger
from credential_service.errors import ConfigurationError
from credential_service.keystore import FileKeystore
from node_adapter import Chain, ChainError, Deployment, RegistryClients, Signer, TxReceipt
from wallet_sdk.credentials import (
    CachedTrustState,
    CredentialTypeRegistry,
    CredentialVerifier,
    DirectTrustView,
    StatusRegistryRef,
    TrustStateError,
    default_registry,
)
from wallet_sdk.jose import Curve
from wallet_sdk.merkle import HashAlgorithm

if TYPE_CHECKING:
    from credential_service.context import ServiceContext

log = logging.getLogger(__name__)

FILE_HEAD_SECRET = "training-file-head"
"""Keystore name of the key under which training file heads are kept pseudonymous."""

DEFAULT_FOLLOW_INTERVAL = 1.0
"""Seconds between reads of new blocks: about one QBFT block time."""


@dataclass
class CredentialRuntime:
    """Chain handles and caches shared by every credential request of one service."""

    chain: Chain
    deployment: Deployment
    keystore: FileKeystore
    types: CredentialTypeRegistry
    trust_state: CachedTrustState
    direct: DirectTrustView
    clients: RegistryClients
    verifier: CredentialVerifier = field(init=False)
    ledger: CredentialLedger = field(init=False)
    """The domain's port to the chain (`NodeCredentialLedger` over this runtime)."""
    confirmations: int = 0
    """Blocks a status registration or change must lie under the head before it counts as
    written (``Settings.chain_confirmations``); see ``Chain.settle``."""
    settle_timeout: float = 60.0
    signing_curve: Curve = Curve.ED25519
    """Curve of the issuers' new credential-signing keys (the profile's: SM2 in national)."""
    hash_algorithm: HashAlgorithm = HashAlgorithm.SHA256
    """Hash of the digests registered and anchored for new credentials (the profile's: SM3
    in national, named in each credential's header)."""

    def __post_init__(self) -> None:
        self.verifier = CredentialVerifier(self.trust_state, types=self.types)
        self.ledger = NodeCredentialLedger(self)

    @classmethod
    def open(
        cls,
        *,
        chain: Chain,
        deployment: Deployment,
        keystore: FileKeystore,
        types: CredentialTypeRegistry | None = None,
        follow_interval: float | None = DEFAULT_FOLLOW_INTERVAL,
    ) -> CredentialRuntime:
        """Load the chain state from the registries' events and (unless `follow_interval` is
        ``None``) keep following new blocks. Raises ``ConfigurationError`` when the chain
        cannot be read."""
        try:
            state = CachedTrustState.from_chain(chain, deployment)
            clients = deployment.clients(chain)
        except (TrustStateError, ChainError) as err:
            raise ConfigurationError(f"cannot load the credential trust state: {err}") from err
        if follow_interval is not None:
            state.follow(interval=follow_interval)
        return cls(
            chain=chain,
            deployment=deployment,
            keystore=keystore,
            types=types if types is not None else default_registry(),
            trust_state=state,
            direct=DirectTrustView(chain, deployment),
            clients=clients,
        )

    @classmethod
    def from_service(
        cls, context: ServiceContext, *, follow_interval: float | None = DEFAULT_FOLLOW_INTERVAL
    ) -> CredentialRuntime:
        """Build from a running service's ledger (chain and deployment) and keystore; the
        credential types published at run time are read through from the database.

        Raises ``ConfigurationError`` when the chain cannot be read."""
        from credential_service.credentials.type_registry import stored_type

        chain, deployment = context.registry_chain()
        types = CredentialTypeRegistry(
            default_registry(), resolve=partial(stored_type, context.engine)
        )
        runtime = cls.open(
            chain=chain,
            deployment=deployment,
            keystore=context.keystore,
            types=types,
            follow_interval=follow_interval,
        )
        runtime.confirmations = context.settings.chain_confirmations
        runtime.settle_timeout = context.settings.chain_settle_seconds
        runtime.signing_curve = context.settings.crypto_profile.algorithms.signing_curve
        runtime.hash_algorithm = context.settings.crypto_profile.algorithms.hash_algorithm
        return runtime

    @property
    def status_registry(self) -> StatusRegistryRef:
        return StatusRegistryRef(self.deployment.chain_id, self.deployment.status_registry)

    def saw_confirmed(self, receipt: TxReceipt) -> None:
        """Read your own writes: the service's transaction in `receipt` is mined, so the chain
        state reads up to its block now (through `CachedTrustState.catch_up`, the follower's
        own path) and the next verification sees it. A failed read is logged, not raised: the
        write stands, and the follower catches up on its next tick."""
        try:
            self.trust_state.catch_up(receipt.block_number)
        except TrustStateError as err:
            log.warning("chain state not caught up to block %s: %s", receipt.block_number, err)

    def saw_chain_write(self) -> None:
        """Read your own writes for a write whose receipt the caller does not hold (e.g. an
        organisation's status change, sent through the ledger): the state reads up to the
        current head, which includes the write. Logged, not raised, like `saw_confirmed`."""
        try:
            self.trust_state.catch_up(self.chain.block_number())
        except (TrustStateError, ChainError) as err:
            log.warning("chain state not caught up to the head: %s", err)

    def file_head_secret(self) -> bytes:
        """The key of the training files' pseudonymous head keys (`file_head_key`), made on
        first use and kept in the keystore (``training-file-head``). Raises `KeystoreError`."""
        return self.keystore.ensure(FILE_HEAD_SECRET, Curve.ED25519).private_bytes()

    def controller(self, credit_code: str) -> Signer:
        """The custodied controller account of an organisation (``controller/<code>``)."""
        return Signer.from_key(self.keystore.secret(f"controller/{credit_code}"))

    def type_ledger(self, publisher: str) -> CredentialTypeLedger:
        """The credential types' ledger, publishing as `publisher`'s controller (the Ministry's)
        with this runtime's confirmations and settle timeout."""
        return NodeCredentialTypeLedger(
            chain=self.chain,
            trust=self.clients.trust_registry,
            publisher=self.controller(publisher),
            confirmations=self.confirmations,
            timeout=self.settle_timeout,
        )

    def close(self) -> None:
        self.trust_state.stop()
