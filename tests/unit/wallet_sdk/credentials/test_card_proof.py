"""E-card proofs on the embedded chain: a presentation of the holder's e-card bound to a purpose
and a record, the identity it proves, and salted commitments to identities named in advance."""

from __future__ import annotations

from typing import Any

import pytest

from node_adapter import CredentialStatus, EntityStatus, Kind
from tests.unit.wallet_sdk.credentials.world import DIPLOMA_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk.credentials import CardStatusReason
from wallet_sdk.credentials.card_proof import (
    CARD_CHECK,
    ISSUER_ACTIVE_CHECK,
    card_nonce,
    identity_commitment,
    matches_commitment,
    new_commitment_salt,
    present_card,
    verify_card_proof,
)
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jose import Curve, Jwk

SUBJECT: dict[str, Any] = {
    "name": "张三",
    "idNumber": "11010519491231002X",
    "cardNumber": "A12345678",
    "issuingRegion": "110105",
    "validFrom": "2026-01-01",
    "validUntil": "2036-01-01",
}
AUDIENCE = "https://hrss.example/labour"


def _card(world: TrustWorld, centre: DemoIssuer, holder: Jwk) -> Any:
    return world.issue(centre, "SocialSecurityCard", SUBJECT, sd=True, holder_key=holder)


def test_a_card_proof_shows_the_disclosed_identity_of_the_card_holder(
    world: TrustWorld, card_centre: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(world, card_centre, holder)
    nonce = card_nonce("contract-signature", bytes(32))
    proof = present_card(
        card.token,
        holder_key=holder,
        disclose=["name", "idNumber"],
        nonce=nonce,
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    identity = verify_card_proof(
        world.verifier(), proof, nonce=nonce, audience=AUDIENCE, require=["name", "idNumber"]
    )
    assert identity.credential_id == card.credential_id
    assert identity.issuer_id == card_centre.entity_id
    assert identity.holder_thumbprint == holder.thumbprint()
    assert dict(identity.claims) == {"name": "张三", "idNumber": "11010519491231002X"}


def test_a_proof_for_another_record_or_purpose_is_refused(
    world: TrustWorld, card_centre: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(world, card_centre, holder)
    nonce = card_nonce("contract-signature", bytes(32))
    proof = present_card(
        card.token,
        holder_key=holder,
        disclose=[],
        nonce=nonce,
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    for other in (
        card_nonce("consent-grant", bytes(32)),
        card_nonce("contract-signature", b"\1" * 32),
    ):
        with pytest.raises(VerificationError) as caught:
            verify_card_proof(world.verifier(), proof, nonce=other, audience=AUDIENCE)
        assert caught.value.check == "holder_binding"


def test_a_credential_other_than_the_card_is_not_an_identity_proof(
    world: TrustWorld, school: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    other = world.issue(
        school, "TechnicalSchoolDiploma", DIPLOMA_SUBJECT, sd=True, holder_key=holder
    )
    nonce = card_nonce("login", "challenge-1")
    proof = present_card(
        other.token,
        holder_key=holder,
        disclose=[],
        nonce=nonce,
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    with pytest.raises(VerificationError) as caught:
        verify_card_proof(world.verifier(), proof, nonce=nonce, audience=AUDIENCE)
    assert caught.value.check == CARD_CHECK


def test_a_required_claim_left_undisclosed_is_refused(
    world: TrustWorld, card_centre: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(world, card_centre, holder)
    nonce = card_nonce("login", "challenge-2")
    proof = present_card(
        card.token,
        holder_key=holder,
        disclose=["name"],
        nonce=nonce,
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    with pytest.raises(VerificationError, match="does not disclose idNumber") as caught:
        verify_card_proof(
            world.verifier(), proof, nonce=nonce, audience=AUDIENCE, require=["idNumber"]
        )
    assert caught.value.check == CARD_CHECK


def test_a_lost_card_proves_nothing_from_the_time_it_was_reported(
    world: TrustWorld, card_centre: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(world, card_centre, holder)
    before = world.now()
    world.chain.mine(2)
    world.set_status(card_centre, card, CredentialStatus.SUSPENDED, CardStatusReason.LOST)
    nonce = card_nonce("contract-signature", bytes(32))
    proof = present_card(
        card.token,
        holder_key=holder,
        disclose=[],
        nonce=nonce,
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    with pytest.raises(VerificationError) as caught:
        verify_card_proof(world.verifier(), proof, nonce=nonce, audience=AUDIENCE)
    assert caught.value.check == "status"
    # A proof kept as evidence from before the loss still shows who acted then.
    identity = verify_card_proof(
        world.verifier(),
        proof,
        nonce=nonce,
        audience=AUDIENCE,
        as_of=before,
        presented_at=world.now(),
    )
    assert identity.credential_id == card.credential_id


def test_commitments_bind_the_named_identity_under_a_salt(
    world: TrustWorld, card_centre: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(world, card_centre, holder)
    nonce = card_nonce("consent-grant", bytes(32))
    proof = present_card(
        card.token,
        holder_key=holder,
        disclose=["name", "idNumber"],
        nonce=nonce,
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    identity = verify_card_proof(world.verifier(), proof, nonce=nonce, audience=AUDIENCE)
    salt = new_commitment_salt()
    named = identity_commitment({"name": "张三", "idNumber": "11010519491231002X"}, salt)
    assert matches_commitment(identity, named, salt, ["name", "idNumber"])
    other = identity_commitment({"name": "李四", "idNumber": "11010519491231002X"}, salt)
    assert not matches_commitment(identity, other, salt, ["name", "idNumber"])
    assert not matches_commitment(identity, named, new_commitment_salt(), ["name", "idNumber"])
    assert not matches_commitment(identity, named, salt, ["name", "idNumber", "cardNumber"])
    with pytest.raises(FormatError, match="check digit"):
        identity_commitment({"idNumber": "110105194912310021"}, salt)
    with pytest.raises(FormatError, match="at least 16 bytes"):
        identity_commitment({"idNumber": "11010519491231002X"}, "c2hvcnQ")


def test_a_card_of_an_issuer_suspended_since_proves_nothing(world: TrustWorld) -> None:
    # The pipeline judges the issuer's accreditation at the card's issue time; a card proof
    # speaks for a person only while the card issuer still may (failed before: the proof of a
    # card whose issuer was suspended after issuing it verified).
    centre = world.add_issuer(
        "suspended-centre",
        province="beijing",
        region=110000,
        types=["SocialSecurityCard"],
        kind=Kind.CARD_ISSUER,
    )
    holder = Jwk.generate(Curve.ED25519)
    card = _card(world, centre, holder)
    before = world.now()
    world.chain.mine(2)
    world.set_issuer_status(centre, EntityStatus.SUSPENDED)
    nonce = card_nonce("login", "challenge-3")
    proof = present_card(
        card.token, holder_key=holder, disclose=[], nonce=nonce, audience=AUDIENCE,
        issued_at=world.now(),
    )  # fmt: skip
    with pytest.raises(VerificationError) as caught:
        verify_card_proof(world.verifier(), proof, nonce=nonce, audience=AUDIENCE)
    assert caught.value.check == ISSUER_ACTIVE_CHECK
    identity = verify_card_proof(
        world.verifier(), proof, nonce=nonce, audience=AUDIENCE, as_of=before,
        presented_at=world.now(),
    )  # fmt: skip
    assert identity.issuer_id == centre.entity_id
