"""The verifier caches issuer key material only: a key the chain revokes, ends or replaces is
refused by a verifier that has already used it (the trust view is asked every time)."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import pytest

from tests.unit.wallet_sdk.credentials.world import SKILL_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk.credentials import (
    CachedTrustState,
    CredentialVerificationError,
    CredentialVerifier,
    present_sd_jwt,
)
from wallet_sdk.credentials.trust_state import RegisteredKey
from wallet_sdk.jose import Curve, Jwk

AUDIENCE = "https://rsj.gz.example/verify"
NONCE = "cache-nonce"


def _presentation(world: TrustWorld, issuer: DemoIssuer, *, issued_at: int) -> str:
    holder = Jwk.generate(Curve.ED25519)
    issued = world.issue(
        issuer,
        "VocationalSkillCertificate",
        SKILL_SUBJECT,
        sd=True,
        holder_key=holder,
        disclosable=["level", "occupationCode"],
        issued_at=issued_at,
    )
    return present_sd_jwt(
        issued.token,
        disclose=["level"],
        holder_key=holder,
        nonce=NONCE,
        audience=AUDIENCE,
        issued_at=int(time.time()),
    )


def _refused(verifier: CredentialVerifier, token: str, check: str, words: str) -> None:
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_presentation(token, nonce=NONCE, audience=AUDIENCE)
    assert err.value.check == check, err.value
    assert words in err.value.message, err.value.message


def _issuer(world: TrustWorld, name: str, region: int) -> DemoIssuer:
    return world.add_issuer(
        name, province="guangdong", region=region, types=["VocationalSkillCertificate"]
    )


def test_revoked_key_refused_after_it_was_cached(world: TrustWorld) -> None:
    issuer = _issuer(world, "cache-revoked", 440304)
    t0 = world.now()
    token = _presentation(world, issuer, issued_at=t0 + 2)
    state = world.cached_state()
    verifier = CredentialVerifier(state, types=world.types)
    # Twice, so the second run is answered from the warm key cache.
    for _ in range(2):
        assert verifier.verify_presentation(token, nonce=NONCE, audience=AUDIENCE).passed
    world.clients.trust_registry.revoke_key(
        issuer.controller, key_id=issuer.key.thumbprint(), revoked_at=t0 + 1
    )
    state.refresh()
    _refused(verifier, token, "key_valid", "revoked")


def test_rotated_key_refused_after_it_was_cached(world: TrustWorld) -> None:
    issuer = _issuer(world, "cache-rotated", 440305)
    t0 = world.now()
    token = _presentation(world, issuer, issued_at=t0 + 2)
    state = world.cached_state()
    verifier = CredentialVerifier(state, types=world.types)
    registered_at = world.now()  # the block that registered the credential
    assert verifier.verify_presentation(token, nonce=NONCE, audience=AUDIENCE).passed
    world.register_key(issuer, Jwk.generate(Curve.ED25519))
    # Ended from the very block that registered the credential: it no longer verifies.
    world.clients.trust_registry.end_key_validity(
        issuer.controller, key_id=issuer.key.thumbprint(), valid_until=registered_at
    )
    state.refresh()
    _refused(verifier, token, "key_valid", "rotated")


class _SwappedKeyView:
    """The cached state, except that `key` can answer other public bytes for the same id
    (what a rebuilt or different trust view could say): the verifier must use them."""

    def __init__(self, state: CachedTrustState) -> None:
        self._state = state
        self.public_key: bytes | None = None

    def key(self, key_id: bytes) -> RegisteredKey | None:
        record = self._state.key(key_id)
        if record is None or self.public_key is None:
            return record
        return dataclasses.replace(record, public_key=self.public_key)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state, name)


def test_key_cache_is_keyed_by_the_registered_bytes(world: TrustWorld) -> None:
    issuer = _issuer(world, "cache-swapped", 440306)
    token = _presentation(world, issuer, issued_at=world.now())
    view = _SwappedKeyView(world.cached_state())
    verifier = CredentialVerifier(view, types=world.types)  # type: ignore[arg-type]
    assert verifier.verify_presentation(token, nonce=NONCE, audience=AUDIENCE).passed
    view.public_key = Jwk.generate(Curve.ED25519).raw_public_key()
    _refused(verifier, token, "signature", "does not verify")
    view.public_key = b"\x01" * 31  # malformed: never handed to libsodium
    _refused(verifier, token, "key_valid", "malformed")
    view.public_key = None
    assert verifier.verify_presentation(token, nonce=NONCE, audience=AUDIENCE).passed
