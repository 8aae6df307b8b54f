"""Fixtures for credential tests: one embedded chain per session with two provinces' issuers."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from node_adapter import Kind
from tests.unit.wallet_sdk.credentials.world import RECORD_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk.credentials import (
    CachedTrustState,
    CredentialType,
    CredentialVerifier,
    IssuedCredential,
    VerificationPolicy,
    issue_sd_jwt,
)
from wallet_sdk.jose import Curve, Jwk

ASSETS = Path(__file__).parents[3] / "assets" / "credentials"


@pytest.fixture(scope="session")
def world() -> TrustWorld:
    return TrustWorld.build()


@pytest.fixture(scope="session")
def card_centre(world: TrustWorld) -> DemoIssuer:
    """A card centre (card issuer) in Beijing, accredited for the e-card."""
    return world.add_issuer(
        "card-centre",
        province="beijing",
        region=110000,
        types=["SocialSecurityCard"],
        kind=Kind.CARD_ISSUER,
    )


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


@pytest.fixture(scope="session")
def record_type(world: TrustWorld, assessor: DemoIssuer) -> CredentialType:
    """The test type, registered and accredited to the assessor."""
    schema = json.loads((ASSETS / "resident-record.schema.json").read_text(encoding="utf-8"))
    term = schema["x-hrss-type"]
    if term in world.types:
        return world.types.get(term)
    record = world.types.register_schema(schema)
    world.clients.trust_registry.set_credential_type(
        world.province_signers[assessor.province],
        id=assessor.entity_id,
        credential_type=record.type_id,
        allowed=True,
    )
    return record


@pytest.fixture
def sd_holder() -> Jwk:
    """A P-256 holder key (the reference implementation's key binding check wants ES256)."""
    return Jwk.generate(Curve.P256)


@pytest.fixture
def issue_record(
    world: TrustWorld, assessor: DemoIssuer, record_type: CredentialType, sd_holder: Jwk
) -> Callable[..., IssuedCredential]:
    """Issues (and registers) a test-type SD-JWT for `sd_holder` with the given paths."""

    def make(disclosable: list[str], *, decoys: int = 2) -> IssuedCredential:
        issued = issue_sd_jwt(
            credential_type=record_type,
            subject=RECORD_SUBJECT,
            issuer_id=assessor.entity_id,
            key=assessor.key,
            status_registry=world.status_registry,
            issued_at=world.now(),
            holder_key=sd_holder,
            disclosable=disclosable,
            decoys=decoys,
        )
        world.register_status(assessor, issued)
        return issued

    return make
