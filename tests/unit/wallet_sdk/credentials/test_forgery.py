"""Forgeries the verifier must refuse (security issue #11, items 2 and 3).

Each test is an attack that verified on the code before key purposes, content commitments and
chain time: a credential signed with an organisation's client-authentication key, another
token under a registered credential id, and credentials backdated to before the issuer's type
was withdrawn or its key revoked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from node_adapter import KeyPurpose
from tests.unit.wallet_sdk.credentials.world import (
    DIPLOMA_SUBJECT,
    SKILL_SUBJECT,
    DemoIssuer,
    TrustWorld,
)
from wallet_sdk.credentials import (
    CredentialVerificationError,
    CredentialVerifier,
    IssuedCredential,
    issue_sd_jwt,
    issue_vc_jwt,
)
from wallet_sdk.jose import Curve, Jwk

DIPLOMA = "TechnicalSchoolDiploma"
MakeVerifier = Callable[..., CredentialVerifier]


def _issuer(world: TrustWorld, name: str) -> DemoIssuer:
    return world.add_issuer(name, province="beijing", region=110101, types=[DIPLOMA])


def _refused(verifier: CredentialVerifier, token: str) -> CredentialVerificationError:
    with pytest.raises(CredentialVerificationError) as err:
        verifier.verify_credential(token)
    return err.value


# -- key purpose ---------------------------------------------------------------------------------


@pytest.mark.parametrize("purpose", [KeyPurpose.CLIENT_AUTHENTICATION, KeyPurpose.DOCUMENT_SIGNING])
def test_a_credential_signed_with_a_key_of_another_purpose_is_refused(
    world: TrustWorld, make_verifier: MakeVerifier, purpose: KeyPurpose
) -> None:
    issuer = _issuer(world, f"key-purpose-{purpose.name}")
    other_key = Jwk.generate(Curve.ED25519)
    world.register_key(issuer, other_key, purpose=purpose)  # held by the organisation itself
    forged = world.issue(issuer, DIPLOMA, DIPLOMA_SUBJECT, key=other_key)
    error = _refused(make_verifier(), forged.token)
    assert error.check == "key_valid"
    name = purpose.name.lower().replace("_", " ")
    assert error.message == f"kid names a key registered for {name}, not for credential signing"


def test_a_credential_signing_key_still_verifies(
    world: TrustWorld, make_verifier: MakeVerifier
) -> None:
    issuer = _issuer(world, "key-purpose-credential-signing")
    issued = world.issue(issuer, DIPLOMA, DIPLOMA_SUBJECT)
    assert make_verifier().verify_credential(issued.token).passed


# -- content commitment ------------------------------------------------------------------------


def _same_id(world: TrustWorld, issuer: DemoIssuer, genuine: IssuedCredential, **kw: Any) -> str:
    return issue_vc_jwt(
        credential_type=world.types.get(DIPLOMA),
        subject={**DIPLOMA_SUBJECT, "name": "李四"},
        issuer_id=issuer.entity_id,
        key=issuer.key,
        status_registry=world.status_registry,
        issued_at=world.now(),
        credential_id=genuine.credential_id,
        **kw,
    ).token


def test_another_token_under_a_registered_credential_id_is_refused(
    world: TrustWorld, make_verifier: MakeVerifier
) -> None:
    # Even signed with the issuer's own credential-signing key: the id is bound on chain to
    # the content registered under it, and to nothing else.
    issuer = _issuer(world, "id-reuse")
    genuine = world.issue(issuer, DIPLOMA, DIPLOMA_SUBJECT)
    other = _same_id(world, issuer, genuine)
    verifier = make_verifier()
    assert verifier.verify_credential(genuine.token).passed
    error = _refused(verifier, other)
    assert error.check == "registration"
    assert error.message.startswith("credential id is registered with other content (digest ")


def test_an_sd_jwt_under_a_registered_id_is_refused(
    world: TrustWorld, make_verifier: MakeVerifier
) -> None:
    issuer = world.add_issuer(
        "id-reuse-sd", province="beijing", region=110101, types=["VocationalSkillCertificate"]
    )
    holder = Jwk.generate(Curve.ED25519)
    first = world.issue(
        issuer, "VocationalSkillCertificate", SKILL_SUBJECT, sd=True, holder_key=holder
    )
    other = issue_sd_jwt(
        credential_type=world.types.get("VocationalSkillCertificate"),
        subject={**SKILL_SUBJECT, "level": 1},
        issuer_id=issuer.entity_id,
        key=issuer.key,
        status_registry=world.status_registry,
        issued_at=world.now(),
        holder_key=holder,
        credential_id=first.credential_id,
    )
    verifier = make_verifier()
    assert verifier.verify_credential(first.token).passed
    assert _refused(verifier, other.token).check == "registration"


# -- chain time --------------------------------------------------------------------------------


def test_backdated_to_before_the_type_was_withdrawn_is_refused(
    world: TrustWorld, make_verifier: MakeVerifier
) -> None:
    issuer = _issuer(world, "withdrawn-type")
    world.chain.mine(1)
    before_withdrawal = world.now()
    world.clients.trust_registry.set_credential_type(
        world.province_signers["beijing"],
        id=issuer.entity_id,
        credential_type=world.types.get(DIPLOMA).type_id,
        allowed=False,
    )
    backdated = world.issue(issuer, DIPLOMA, DIPLOMA_SUBJECT, issued_at=before_withdrawal)
    error = _refused(make_verifier(), backdated.token)
    assert error.check == "issuer_accredited"
    assert error.message.endswith(f"was not accredited for {DIPLOMA} at {world.now()}")


def test_backdated_to_before_the_key_was_revoked_is_refused(
    world: TrustWorld, make_verifier: MakeVerifier
) -> None:
    issuer = _issuer(world, "revoked-key")
    world.chain.mine(1)
    before_compromise = world.now()
    world.clients.trust_registry.revoke_key(
        issuer.controller, key_id=issuer.key.thumbprint(), revoked_at=before_compromise + 1
    )
    world.chain.mine(1)
    backdated = world.issue(issuer, DIPLOMA, DIPLOMA_SUBJECT, issued_at=before_compromise)
    error = _refused(make_verifier(), backdated.token)
    assert error.check == "key_valid"
    assert error.message == (
        f"key revoked from {before_compromise + 1} (compromise); registered at {world.now()}"
    )


def test_an_issue_time_earlier_than_the_chain_witnessed_beyond_the_tolerance_is_refused(
    world: TrustWorld, make_verifier: MakeVerifier
) -> None:
    issuer = _issuer(world, "backdated-far")
    claimed = world.now() - 301
    backdated = world.issue(issuer, DIPLOMA, DIPLOMA_SUBJECT, issued_at=claimed)
    registered = world.now()
    error = _refused(make_verifier(issue_time_tolerance=300), backdated.token)
    assert error.check == "registration"
    assert error.message == (
        f"claims issue time {claimed}, {registered - claimed} s before the chain witnessed its "
        f"registration at {registered} (tolerance 300 s)"
    )
    # Within the tolerance the same credential verifies (issuance signs, then registers).
    tolerant = make_verifier(issue_time_tolerance=registered - claimed)
    assert tolerant.verify_credential(backdated.token).passed


def test_an_issue_time_after_the_registration_is_refused(
    world: TrustWorld, make_verifier: MakeVerifier
) -> None:
    issuer = _issuer(world, "postdated")
    claimed = world.now() + 3600
    postdated = world.issue(issuer, DIPLOMA, DIPLOMA_SUBJECT, issued_at=claimed)
    error = _refused(make_verifier(), postdated.token)
    assert error.check == "registration"
    assert error.message == (
        f"claims issue time {claimed}, after the chain registered it at {world.now()}"
    )
