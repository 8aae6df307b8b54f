"""Fixtures for credential tests: one embedded chain per session with two provinces' issuers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.unit.credentials.world import DemoIssuer, TrustWorld
from wallet_sdk.credentials import CachedTrustState, CredentialVerifier, VerificationPolicy
from wallet_sdk.jose import Curve


@pytest.fixture(scope="session")
def world() -> TrustWorld:
    return TrustWorld.build()


@pytest.fixture(scope="session")
def school(world: TrustWorld) -> DemoIssuer:
    """A technical school in Beijing (Dongcheng), accredited for diplomas and training records."""
    return world.add_issuer(
        "school",
        province="beijing",
        region=110105,
        types=["TechnicalSchoolDiploma", "TrainingRecord"],
    )


@pytest.fixture(scope="session")
def assessor(world: TrustWorld) -> DemoIssuer:
    """A skill assessment body in Shenzhen (Guangdong), P-256 key, skill certificates only."""
    return world.add_issuer(
        "assessor",
        province="guangdong",
        region=440300,
        types=["VocationalSkillCertificate", "TrainingRecord"],
        curve=Curve.P256,
    )


@pytest.fixture(scope="session")
def trust_state(world: TrustWorld, school: DemoIssuer, assessor: DemoIssuer) -> CachedTrustState:
    return world.cached_state()


@pytest.fixture
def verifier(world: TrustWorld, trust_state: CachedTrustState) -> CredentialVerifier:
    """A verifier over the cached state, refreshed to the chain head."""
    trust_state.refresh()
    return CredentialVerifier(trust_state, types=world.types)


@pytest.fixture
def make_verifier(
    world: TrustWorld, trust_state: CachedTrustState
) -> Callable[..., CredentialVerifier]:
    def make(**policy: Any) -> CredentialVerifier:
        trust_state.refresh()
        return CredentialVerifier(
            trust_state, types=world.types, policy=VerificationPolicy(**policy)
        )

    return make
