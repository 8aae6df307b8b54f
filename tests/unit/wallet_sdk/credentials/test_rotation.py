"""Issuer key rotation and compromise, decided on chain "as of" the issue time."""

from __future__ import annotations

import pytest

from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, TrustWorld
from wallet_sdk.credentials import CredentialVerificationError, CredentialVerifier
from wallet_sdk.jose import Curve, Jwk


def test_rotation_keeps_old_credentials_valid_as_of_issue_time(
    world: TrustWorld, make_verifier
) -> None:  # type: ignore[no-untyped-def]
    issuer = world.add_issuer(
        "rotating-school", province="beijing", region=110102, types=["TechnicalSchoolDiploma"]
    )
    old_key = issuer.key
    before = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    new_key = Jwk.generate(Curve.ED25519)
    rotated_at = world.register_key(issuer, new_key)  # valid from its registration block
    world.clients.trust_registry.end_key_validity(
        issuer.controller, key_id=old_key.thumbprint(), valid_until=rotated_at
    )
    after_new = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, key=new_key)
    # Signed with the old key after the rotation, even claiming the old key's time: the chain
    # registered it after the old key's validity ended.
    after_old = world.issue(
        issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, key=old_key, issued_at=rotated_at - 1
    )
    verifier: CredentialVerifier = make_verifier()
    now = world.now()
    assert verifier.verify_credential(before.token, as_of=now).passed
    assert verifier.verify_credential(after_new.token, as_of=now).passed
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(after_old.token, as_of=now)
    assert err.value.check == "key_valid" and "rotated" in err.value.message


def test_compromised_key_revoked_from_a_time(world: TrustWorld, make_verifier) -> None:  # type: ignore[no-untyped-def]
    issuer = world.add_issuer(
        "compromised-school", province="beijing", region=110106, types=["TechnicalSchoolDiploma"]
    )
    good = world.issue(issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT)
    good_registered = world.now()
    world.chain.mine(3)
    forged_later = world.issue(
        issuer, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, issued_at=good_registered
    )
    # The compromise is discovered later and dated back to just after the good credential.
    world.clients.trust_registry.revoke_key(
        issuer.controller, key_id=issuer.key.thumbprint(), revoked_at=good_registered + 1
    )
    verifier: CredentialVerifier = make_verifier()
    now = world.now()
    assert verifier.verify_credential(good.token, as_of=now).passed
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(forged_later.token, as_of=now)
    assert err.value.check == "key_valid" and "revoked" in err.value.message
