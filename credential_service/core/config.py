"""Service settings: the only module that reads the environment.

Every setting is read from an ``HRSS_``-prefixed variable; the database URL also answers to the
conventional ``DATABASE_URL``. Secrets have no default outside dev mode: building ``Settings``
raises ``pydantic.ValidationError`` when one is missing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Self

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from credential_service.crypto_profile import CryptoProfile

DEV_KEYSTORE_PASSPHRASE = "hrss-dev-only-insecure-passphrase"


class DatabaseSettings(BaseSettings):
    """The database alone: enough for ``hrss audit verify``."""

    model_config = SettingsConfigDict(
        env_prefix="HRSS_", extra="ignore", frozen=True, populate_by_name=True
    )

    database_url: str = Field(
        default="sqlite:///var/hrss.db",
        validation_alias=AliasChoices("HRSS_DATABASE_URL", "DATABASE_URL", "database_url"),
    )
    """SQLAlchemy URL: ``sqlite:///path`` (default, WAL) or ``postgresql+psycopg://...``."""


class Settings(DatabaseSettings):
    """Configuration of one service process."""

    dev_mode: bool = False
    """Dev mode allows the in-process chain and a fixed keystore passphrase; never in production."""

    chain_rpc_urls: Annotated[tuple[str, ...], NoDecode] = ()
    """JSON-RPC URLs of chain nodes, comma separated, tried in order. Empty means the in-process
    chain, which only dev mode allows."""

    deployment_path: Path | None = None
    """JSON file of the deployed registry addresses (``node_adapter.Deployment``). When it is
    missing the service deploys the registries and writes it."""

    chain_startup_wait_seconds: float = Field(default=300.0, ge=0, le=86_400)
    """How long a starting process waits for an unreachable chain (retrying with backoff)
    before it gives up. A process that starts during an outage serves once a node answers,
    instead of exiting (which makes ``uvicorn --workers N`` stop altogether)."""

    chain_confirmations: int = Field(default=0, ge=0, le=1_000)
    """Blocks a relayed consent grant or withdrawal must lie under the head before the service
    answers and records it (re-sending it if a reorg or the pool drops it meanwhile). 0 (the
    default, for automining development chains): as soon as it is mined. Production: e.g. 2."""

    chain_settle_seconds: float = Field(default=60.0, gt=0, le=3_600)
    """How long a relay waits for its transaction to be mined and reach the depth before the
    request fails with ``chain_unavailable`` (a halted chain)."""

    keystore_path: Path = Path("var/service.keystore")
    """Encrypted file keystore of the service's own keys and organisations' controller keys."""

    keystore_passphrase: SecretStr | None = None

    crypto_profile: CryptoProfile = CryptoProfile.INTERNATIONAL
    """``international`` or ``national`` (SM2 keys, SM3 trees and digests, SM4 seals; see
    `credential_service.crypto_profile`). Verification accepts both profiles' artefacts."""

    issuer_url: str = "http://localhost:8000"
    """Public base URL of the service: issuer of access tokens; ``{issuer_url}/v1/auth/token``
    is the token endpoint and the audience client assertions must name."""

    access_token_lifetime_seconds: int = Field(default=300, ge=30, le=3600)
    client_assertion_max_lifetime_seconds: int = Field(default=300, ge=30, le=3600)
    clock_skew_seconds: int = Field(default=30, ge=0, le=300)
    max_body_bytes: int = Field(default=1_048_576, ge=1024)

    idempotency_key_ttl_seconds: int = Field(default=86_400, ge=60, le=30 * 86_400)
    """How long an ``Idempotency-Key`` of ``POST /v1/credentials`` is remembered (with the
    answer it got, signed credentials included); expired keys are pruned lazily."""

    ministry_credit_code: str = "11100000000013127D"
    ministry_name: str = "Ministry of Human Resources and Social Security"
    ministry_region: int = Field(default=100000, ge=100000, le=999999)

    # --- observability and hardening (credential_service.observability, api.hardening) ---
    log_level: str = Field(default="INFO", pattern=r"^(?i:debug|info|warning|error|critical)$")
    log_json: bool = True
    """One JSON object a log line (request id included); secrets and personal data redacted."""
    access_log: bool = True
    """One log line per request (method, route template, status, duration, request id)."""
    metrics_enabled: bool = True
    """Serve ``GET /metrics`` (Prometheus text format); keep it off the public listener."""
    rate_limit_per_second: float | None = Field(default=None, ge=0)
    """Sustained requests a second per authenticated client and process; 0 turns it off.
    Unset: 100, or off in dev mode."""
    rate_limit_burst: int = Field(default=200, ge=1)
    anonymous_rate_limit_per_second: float | None = Field(default=None, ge=0)
    """Sustained requests a second per peer address without a valid token; 0 turns it off.
    Unset: 20, or off in dev mode."""
    anonymous_rate_limit_burst: int = Field(default=40, ge=1)
    cors_allow_origins: Annotated[tuple[str, ...], NoDecode] = ()
    """Origins allowed to call the API from a browser, comma separated. Empty: CORS off."""

    @field_validator("cors_allow_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(o.strip() for o in value.split(",") if o.strip())
        return value

    # --- end of observability and hardening ---

    @model_validator(mode="before")
    @classmethod
    def _split_urls(cls, data: object) -> object:
        if isinstance(data, dict):
            urls = data.get("chain_rpc_urls")
            if isinstance(urls, str):
                data = {
                    **data,
                    "chain_rpc_urls": tuple(u.strip() for u in urls.split(",") if u.strip()),
                }
        return data

    @model_validator(mode="after")
    def _require_secrets_outside_dev(self) -> Self:
        if not self.dev_mode:
            if self.keystore_passphrase is None:
                raise ValueError("HRSS_KEYSTORE_PASSPHRASE is required outside dev mode")
            if not self.chain_rpc_urls:
                raise ValueError("HRSS_CHAIN_RPC_URLS is required outside dev mode")
        return self

    @property
    def token_endpoint(self) -> str:
        return f"{self.issuer_url.rstrip('/')}/v1/auth/token"

    @property
    def passphrase(self) -> str:
        """The keystore passphrase; the fixed dev passphrase in dev mode when none is set."""
        if self.keystore_passphrase is not None:
            return self.keystore_passphrase.get_secret_value()
        return DEV_KEYSTORE_PASSPHRASE


class AnchoringSettings(BaseSettings):
    """The anchoring worker (``HRSS_ANCHORING_*``); the rest comes from `Settings`."""

    model_config = SettingsConfigDict(env_prefix="HRSS_ANCHORING_", extra="ignore", frozen=True)

    worker_name: str = Field(default="anchoring-1", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    """Lease owner name, and the keystore entry ``anchoring/<name>`` of its anchoring account.
    Give every worker its own; a restarted worker resumes its own leases at once."""
    entity_credit_code: str | None = None
    """Organisation whose anchoring account the worker's account becomes when it is not one yet
    (its controller key must be in the keystore). Default: the Ministry."""
    batch_size: int = Field(default=100_000, ge=1, le=4_294_967_295)
    max_age_seconds: float = Field(default=2.0, ge=0)
    poll_interval_seconds: float = Field(default=0.2, gt=0)
    lease_seconds: float = Field(default=120.0, gt=0)
    backoff_cap_seconds: float = Field(default=30.0, gt=0)
    confirmations: int = Field(default=0, ge=0)
    rollback_window_blocks: int = Field(default=64, ge=0)
    faults: str | None = None
    """Test hook: ``point=pause|crash,...`` (see ``credential_service.anchoring.batcher``)."""


def describe_settings_error(err: ValidationError) -> str:
    """One line per problem of a settings `ValidationError`, naming the ``HRSS_*`` variable to
    set, for people rather than for pydantic's debug output."""
    lines = []
    for problem in err.errors():
        message = str(problem["msg"]).removeprefix("Value error, ")
        location = [str(part) for part in problem.get("loc", ()) if part != "__root__"]
        if location:
            message = f"HRSS_{location[0].upper()}: {message}"
        lines.append(message)
    return "; ".join(lines)
