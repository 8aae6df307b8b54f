"""Everything a running service holds: settings, database engine, keystore, chain ledger and
its own token-signing key. The HTTP app and the demo bootstrap share one."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlmodel import Session, select

from credential_service.core.config import Settings
from credential_service.errors import ConfigurationError, LedgerUnavailable
from credential_service.keystore import FileKeystore
from credential_service.models import Organisation
from credential_service.persistence import SealingSecrets, create_database_engine, migrate
from credential_service.services.ledger import TrustLedger
from credential_service.services.organisations import ensure_ministry
from credential_service.services.tokens import ServiceTokenKey, TokenPolicy
from wallet_sdk import Curve

if TYPE_CHECKING:
    from node_adapter import Chain, Deployment

TOKEN_SIGNING_KEY = "service/token-signing"
IDEMPOTENCY_SEALING_KEY = "service/idempotency-sealing"

log = logging.getLogger("credential_service.context")


@dataclass
class ServiceContext:
    settings: Settings
    engine: Engine
    keystore: FileKeystore
    ledger: TrustLedger
    token_key: ServiceTokenKey
    token_policy: TokenPolicy
    idempotency_secret: bytes
    """Seals stored answers of idempotent requests (with each request's key)."""

    @classmethod
    def open(cls, settings: Settings, *, chain: Chain | None = None) -> ServiceContext:
        """Migrate the database, unlock the keystore, connect the chain (deploying the
        registries if needed) and make sure the Ministry exists.

        Raises ``KeystoreError``, ``ConfigurationError``, ``LedgerUnavailable``,
        ``LedgerRejected``.
        """
        from credential_service.services.chain import NodeTrustLedger

        engine = create_database_engine(settings.database_url)
        try:
            keystore = FileKeystore.open(
                settings.keystore_path,
                settings.passphrase,
                cipher=settings.crypto_profile.algorithms.keystore_cipher,
            )
            migrate(engine, sealing=sealing_secrets(keystore))
            ledger = NodeTrustLedger.connect(settings=settings, keystore=keystore, chain=chain)
        except BaseException:
            engine.dispose()
            raise
        with Session(engine) as session:
            if ledger.freshly_deployed and session.exec(select(Organisation.id)).first():
                # A new registry deployment (e.g. a fresh in-process chain) under a database
                # that mirrors an older one: every organisation here would be missing on chain.
                engine.dispose()
                raise ConfigurationError(
                    "the database mirrors another registry deployment; set "
                    "HRSS_DEPLOYMENT_PATH to that deployment or start from an empty database"
                )
            ensure_ministry(
                session=session,
                ledger=ledger,
                credit_code=settings.ministry_credit_code,
                name=settings.ministry_name,
                region=settings.ministry_region,
                now=datetime.now(UTC),
            )
        _publish_builtin_types(engine, ledger, settings)
        return cls(
            settings=settings,
            engine=engine,
            keystore=keystore,
            ledger=ledger,
            token_key=ServiceTokenKey(
                keystore.ensure(TOKEN_SIGNING_KEY, settings.crypto_profile.algorithms.signing_curve)
            ),
            token_policy=TokenPolicy(
                issuer=settings.issuer_url,
                token_endpoint=settings.token_endpoint,
                access_token_lifetime=timedelta(seconds=settings.access_token_lifetime_seconds),
                assertion_max_lifetime=timedelta(
                    seconds=settings.client_assertion_max_lifetime_seconds
                ),
                leeway=timedelta(seconds=settings.clock_skew_seconds),
            ),
            idempotency_secret=keystore.ensure(
                IDEMPOTENCY_SEALING_KEY, Curve.ED25519
            ).private_bytes(),
        )

    @classmethod
    def open_waiting_for_chain(
        cls, settings: Settings, *, sleep: Callable[[float], None] = time.sleep
    ) -> ServiceContext:
        """`open`, retried with backoff (0.5 s doubling to 15 s) while no chain node answers,
        for at most ``settings.chain_startup_wait_seconds``.

        Raises what `open` raises; ``LedgerUnavailable`` once the wait is over.
        """
        deadline = time.monotonic() + settings.chain_startup_wait_seconds
        delay = 0.5
        while True:
            try:
                return cls.open(settings)
            except LedgerUnavailable as err:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                log.warning("chain unreachable at startup (%s); retrying in %.1f s", err, delay)
                sleep(min(delay, left))
                delay = min(delay * 2, 15.0)

    def registry_chain(self) -> tuple[Chain, Deployment]:
        """The chain the ledger writes to, and where its registries are deployed on it: the
        ledger's own deployment, else the configured deployment file.

        Raises ``ConfigurationError`` when the ledger is not over a chain node or the
        deployment cannot be found."""
        from credential_service.services.chain import NodeTrustLedger

        ledger = self.ledger
        if not isinstance(ledger, NodeTrustLedger):
            raise ConfigurationError("the registry deployment is not known")
        deployment = ledger.deployment
        path = self.settings.deployment_path
        if deployment is None and path is not None and path.exists():
            deployment = Deployment.load(path)
        if deployment is None:
            raise ConfigurationError("the registry deployment is not known")
        return ledger.chain, deployment

    def close(self) -> None:
        self.engine.dispose()


def _publish_builtin_types(engine: Engine, ledger: TrustLedger, settings: Settings) -> None:
    """The built-in credential types, published by the Ministry like any type (digest on
    chain, schema in the database) when a service first opens on a deployment."""
    from credential_service.credentials.chain import NodeCredentialTypeLedger
    from credential_service.credentials.type_registry import publish_builtin_types
    from credential_service.services.chain import NodeTrustLedger

    if not isinstance(ledger, NodeTrustLedger) or ledger.deployment is None:
        return
    # Like the service's other startup writes (the Ministry's own), it waits for inclusion,
    # not for confirmations.
    types = NodeCredentialTypeLedger(
        chain=ledger.chain,
        trust=ledger.registry,
        publisher=ledger.controller_signer(credit_code=settings.ministry_credit_code),
        confirmations=0,
        timeout=settings.chain_settle_seconds,
    )
    publish_builtin_types(
        engine=engine, ledger=types, ministry_credit_code=settings.ministry_credit_code
    )


def sealing_secrets(keystore: FileKeystore) -> SealingSecrets:
    """The secrets that seal personal data at rest, from the keystore (created on first
    use): the labour key-terms secret (documents too) and the consent sealing secret."""
    from credential_service.consent.service import CONSENT_SEALING_KEY
    from credential_service.labour.service import KEY_TERMS_SECRET

    return SealingSecrets(
        labour=keystore.ensure(KEY_TERMS_SECRET, Curve.ED25519).private_bytes(),
        consent=keystore.ensure(CONSENT_SEALING_KEY, Curve.ED25519).private_bytes(),
    )
