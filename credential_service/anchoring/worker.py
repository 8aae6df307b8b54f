"""The anchoring worker process: ``python -m credential_service.anchoring.worker`` (or
``hrss worker``).

Reads `Settings` and `AnchoringSettings` (``HRSS_*`` / ``HRSS_ANCHORING_*``), connects the
database (already migrated by the service) and the chain nodes, takes its anchoring account
from the keystore entry ``anchoring/<worker name>`` (created on first start, made an anchoring
account of the configured organisation when it is not one yet), and runs the batcher until
SIGTERM or SIGINT. Start several with different worker names against one PostgreSQL database.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from types import FrameType

from pydantic import ValidationError
from sqlalchemy import Engine

from credential_service.anchoring.batcher import Batcher, BatchPolicy, FaultPoints
from credential_service.anchoring.chain import NodeAnchorLedger
from credential_service.chain import ledger_errors
from credential_service.core.config import AnchoringSettings, Settings
from credential_service.core.serving import restore_recursion_limit
from credential_service.errors import (
    ConfigurationError,
    LedgerRejected,
    LedgerUnavailable,
    ServiceError,
)
from credential_service.keystore import FileKeystore
from credential_service.observability import configure_logging, register_secret
from credential_service.persistence import create_database_engine
from credential_service.services.ledger import organisation_ledger_id
from node_adapter import (
    Chain,
    ChainError,
    ChainUnavailable,
    Deployment,
    Signer,
    TrustRegistryClient,
)
from wallet_sdk import Curve

__all__ = ["AnchoringWorker", "main"]

log = logging.getLogger("credential_service.anchoring.worker")

_FUNDING_WEI = 10**18


def anchoring_key_name(worker_name: str) -> str:
    return f"anchoring/{worker_name}"


def policy_from(settings: AnchoringSettings) -> BatchPolicy:
    return BatchPolicy(
        max_leaves=settings.batch_size,
        max_age=timedelta(seconds=settings.max_age_seconds),
        lease=timedelta(seconds=settings.lease_seconds),
        backoff_cap=timedelta(seconds=settings.backoff_cap_seconds),
        confirmations=settings.confirmations,
        rollback_window=settings.rollback_window_blocks,
    )


@dataclass
class AnchoringWorker:
    """A configured batcher and what it holds open."""

    batcher: Batcher
    engine: Engine
    poll_interval: float

    @classmethod
    def open(cls, settings: Settings, anchoring: AnchoringSettings) -> AnchoringWorker:
        """Connect everything. Raises `ConfigurationError` when the chain or the deployment is
        not configured or the chain does not hold the deployment's registries,
        `LedgerUnavailable` when no chain node answers, `KeystoreError` when the keystore
        cannot be opened."""
        if not settings.chain_rpc_urls:
            raise ConfigurationError("the anchoring worker needs HRSS_CHAIN_RPC_URLS")
        if settings.deployment_path is None or not settings.deployment_path.exists():
            raise ConfigurationError(
                "the anchoring worker needs HRSS_DEPLOYMENT_PATH (written by the service)"
            )
        try:
            chain = Chain.from_urls(list(settings.chain_rpc_urls))
            deployment = Deployment.load(settings.deployment_path)
        except ChainError as err:
            raise ConfigurationError(f"cannot set up the chain: {err}") from err
        # Not through `credential_service.chain`: it makes every failure but a revert
        # `LedgerUnavailable` (worth a retry), while only an outage is; code that does not match
        # the deployment is a configuration error that retrying cannot mend.
        try:
            deployment.check_code(chain)
        except ChainUnavailable as err:
            raise LedgerUnavailable(f"no chain node answers: {err}") from err
        except ChainError as err:  # another chain, or one reset since: retrying cannot help
            raise ConfigurationError(
                f"{err}: {settings.deployment_path} describes the registries of another "
                "chain (for `make run`: stop it, then rm -rf var)"
            ) from err
        keystore = FileKeystore.open(
            settings.keystore_path,
            settings.passphrase,
            cipher=settings.crypto_profile.algorithms.keystore_cipher,
        )
        signer = Signer.from_key(
            keystore.ensure(
                anchoring_key_name(anchoring.worker_name), Curve.SECP256K1
            ).private_bytes()
        )
        _ensure_anchoring_account(
            chain=chain,
            deployment=deployment,
            keystore=keystore,
            signer=signer,
            credit_code=anchoring.entity_credit_code or settings.ministry_credit_code,
        )
        engine = create_database_engine(settings.database_url)
        batcher = Batcher(
            engine=engine,
            ledger=NodeAnchorLedger(
                chain=chain, registry_address=deployment.anchor_registry, signer=signer
            ),
            owner=anchoring.worker_name,
            policy=policy_from(anchoring),
            faults=FaultPoints.parse(anchoring.faults),
        )
        log.info(
            "anchoring worker %s: account %s, registry %s",
            anchoring.worker_name,
            signer.address,
            deployment.anchor_registry,
        )
        return cls(batcher=batcher, engine=engine, poll_interval=anchoring.poll_interval_seconds)

    def run(self, stop: threading.Event) -> None:
        self.batcher.run_forever(stop, poll_interval=self.poll_interval)

    def close(self) -> None:
        self.engine.dispose()


def _ensure_anchoring_account(
    *,
    chain: Chain,
    deployment: Deployment,
    keystore: FileKeystore,
    signer: Signer,
    credit_code: str,
) -> None:
    """Make `signer` an anchoring account of the organisation `credit_code` (whose controller
    key the service custodies) and give it gas on a chain that charges gas. Best effort: when
    the chain is down the batcher's anchoring attempts wait and retry anyway."""
    trust = TrustRegistryClient(chain, deployment.trust_registry)
    entity = organisation_ledger_id(credit_code)
    try:
        with ledger_errors("set up the anchoring account"):
            current, _ = trust.active_anchoring_entity(signer.address)
            if current is None:
                # The key name under which NodeTrustLedger custodies an organisation's
                # controller.
                controller_key = f"controller/{credit_code}"
                if controller_key not in keystore:
                    log.warning(
                        "%s is no anchoring account and %s's controller key is not in the keystore",
                        signer.address,
                        credit_code,
                    )
                    return
                controller = Signer.from_key(keystore.secret(controller_key))
                _fund(chain, keystore, controller.address)
                trust.set_anchoring_account(
                    controller, id=entity, account=signer.address, enabled=True
                )
                log.info("made %s an anchoring account of %s", signer.address, credit_code)
            _fund(chain, keystore, signer.address)
    except (LedgerRejected, LedgerUnavailable) as err:
        log.warning("could not check the anchoring account now: %s", err)


def _fund(chain: Chain, keystore: FileKeystore, address: str) -> None:
    if chain.balance(address) > 0:
        return
    if "service/deployer" not in keystore:
        return
    deployer = Signer.from_key(keystore.secret("service/deployer"))
    if chain.balance(deployer.address) > _FUNDING_WEI:
        chain.send_value(deployer, address, _FUNDING_WEI)


def main(argv: list[str] | None = None) -> int:
    """Run one worker until SIGTERM/SIGINT. Exit status 2 on a configuration error."""
    try:
        settings = Settings()
        anchoring = AnchoringSettings()
    except ValidationError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        return 2
    restore_recursion_limit()  # the chain libraries raised it on import
    # the API's logging: one redacting JSON object a line, the passphrase known as a secret
    configure_logging(level=settings.log_level, json_format=settings.log_json)
    if settings.keystore_passphrase is not None:
        register_secret(settings.keystore_passphrase.get_secret_value())
    worker: AnchoringWorker | None = None
    stop = threading.Event()

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current step", signum)
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    delay = 0.5
    while worker is None and not stop.is_set():
        try:
            worker = AnchoringWorker.open(settings, anchoring)
        except LedgerUnavailable as err:
            log.warning("chain unavailable at start (%s); retrying in %.1f s", err, delay)
            stop.wait(delay)
            delay = min(delay * 2, 30.0)
        except ServiceError as err:
            print(f"{err.code}: {err.message}", file=sys.stderr)
            return 2
    if worker is None:
        return 0
    log.info("anchoring worker %s ready", anchoring.worker_name)
    started = time.monotonic()
    try:
        worker.run(stop)
    finally:
        worker.close()
        log.info("stopped after %.1f s", time.monotonic() - started)
    return 0


if __name__ == "__main__":
    sys.exit(main())
