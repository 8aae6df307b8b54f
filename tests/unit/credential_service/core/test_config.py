"""Settings: the environment is read here only; secrets have no default outside dev mode."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from credential_service.core.config import DEV_KEYSTORE_PASSPHRASE, DatabaseSettings, Settings


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("HRSS_") or name == "DATABASE_URL":
            monkeypatch.delenv(name)


def test_production_requires_a_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRSS_CHAIN_RPC_URLS", "http://node-a:8545")
    with pytest.raises(ValidationError, match="HRSS_KEYSTORE_PASSPHRASE is required"):
        Settings()


def test_production_requires_a_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRSS_KEYSTORE_PASSPHRASE", "secret")
    with pytest.raises(ValidationError, match="HRSS_CHAIN_RPC_URLS is required"):
        Settings()


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRSS_KEYSTORE_PASSPHRASE", "secret")
    monkeypatch.setenv("HRSS_CHAIN_RPC_URLS", "http://a:8545, http://b:8545")
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("HRSS_ACCESS_TOKEN_LIFETIME_SECONDS", "120")
    monkeypatch.setenv("HRSS_MAX_BODY_BYTES", "4096")
    settings = Settings()
    assert settings.chain_rpc_urls == ("http://a:8545", "http://b:8545")
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.passphrase == "secret"
    assert settings.access_token_lifetime_seconds == 120 and settings.max_body_bytes == 4096
    assert "secret" not in repr(settings)


def test_hrss_database_url_wins_over_database_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://generic/db")
    monkeypatch.setenv("HRSS_DATABASE_URL", "sqlite:///specific.db")
    assert DatabaseSettings().database_url == "sqlite:///specific.db"


def test_dev_mode_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRSS_DEV_MODE", "true")
    settings = Settings()
    assert settings.chain_rpc_urls == () and settings.database_url.startswith("sqlite:///")
    assert settings.passphrase == DEV_KEYSTORE_PASSPHRASE
    assert settings.token_endpoint == "http://localhost:8000/v1/auth/token"


def test_lifetimes_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRSS_DEV_MODE", "1")
    monkeypatch.setenv("HRSS_ACCESS_TOKEN_LIFETIME_SECONDS", "86400")
    with pytest.raises(ValidationError):
        Settings()


def test_crypto_profile_defaults_to_international() -> None:
    from credential_service.crypto_profile import CryptoProfile

    assert Settings(dev_mode=True).crypto_profile is CryptoProfile.INTERNATIONAL


def test_national_crypto_profile_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    from credential_service.crypto_profile import CryptoProfile
    from credential_service.sealing import SealAlgorithm
    from wallet_sdk import HashAlgorithm
    from wallet_sdk.jose import Curve

    monkeypatch.setenv("HRSS_CRYPTO_PROFILE", "national")
    algorithms = Settings(dev_mode=True).crypto_profile.algorithms
    assert Settings(dev_mode=True).crypto_profile is CryptoProfile.NATIONAL
    assert algorithms.signing_curve is Curve.SM2
    assert algorithms.hash_algorithm is HashAlgorithm.SM3
    assert algorithms.seal_algorithm is SealAlgorithm.SM4_GCM


def test_unknown_crypto_profile_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HRSS_CRYPTO_PROFILE", "guomi")
    with pytest.raises(ValidationError, match="crypto_profile"):
        Settings(dev_mode=True)
