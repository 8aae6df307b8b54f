"""A credential with the e-card of its holder, on the embedded chain: one ``vp+jwt`` enveloping
a skill certificate and the e-card, each showing only what the verifier asked; the e-card of
another holder, a lost card, a missing card and an undisclosed claim are refused with a named
check; "is the person named X" is answered from the disclosed name alone."""

from __future__ import annotations

from typing import Any

import pytest

from node_adapter import CredentialStatus, Kind
from tests.unit.wallet_sdk.credentials.world import SKILL_SUBJECT, DemoIssuer, TrustWorld
from wallet_sdk.credentials import (
    VP_JWT_TYP,
    CardStatusReason,
    IssuedCredential,
    PresentationError,
    present_vc_jwt,
    select_sd_jwt,
)
from wallet_sdk.credentials.card_proof import (
    CARD_CHECK,
    DISCLOSURE_CHECK,
    SAME_HOLDER_CHECK,
    card_nonce,
    present_card,
    present_with_card,
    verify_with_card,
)
from wallet_sdk.errors import VerificationError
from wallet_sdk.jose import Curve, Jwk

PERSON = {"name": "王小明", "idNumber": "110105199003071239"}
CARD: dict[str, Any] = {
    **PERSON,
    "cardNumber": "B11223344",
    "issuingRegion": "110105",
    "validFrom": "2026-01-01",
    "validUntil": "2036-01-01",
}
SKILL = {**SKILL_SUBJECT, **PERSON}
AUDIENCE = "https://hr.example/hiring"
NONCE = "verifier-nonce-1"


@pytest.fixture(scope="module")
def card_centre(world: TrustWorld) -> DemoIssuer:
    return world.add_issuer(
        "bound-card-centre",
        province="beijing",
        region=110000,
        types=["SocialSecurityCard"],
        kind=Kind.CARD_ISSUER,
    )


def _held(
    world: TrustWorld, assessor: DemoIssuer, centre: DemoIssuer, card_holder: Jwk | None = None
) -> tuple[Jwk, IssuedCredential, IssuedCredential]:
    """A holder key, a skill certificate bound to it (every claim disclosable) and an e-card
    bound to `card_holder` (default the same key)."""
    holder = Jwk.generate(Curve.ED25519)
    skill = world.issue(
        assessor,
        "VocationalSkillCertificate",
        SKILL,
        sd=True,
        holder_key=holder,
        disclosable=list(SKILL),
    )
    card = world.issue(
        centre, "SocialSecurityCard", CARD, sd=True, holder_key=card_holder or holder
    )
    return holder, skill, card


def _present(world: TrustWorld, holder: Jwk, skill: str, card: str, **choice: Any) -> str:
    return present_with_card(
        skill, card, holder_key=holder, nonce=NONCE, audience=AUDIENCE, issued_at=world.now(),
        **choice,
    )  # fmt: skip


def test_one_presentation_shows_the_credential_and_the_card_of_one_holder(
    world: TrustWorld, assessor: DemoIssuer, card_centre: DemoIssuer
) -> None:
    holder, skill, card = _held(world, assessor, card_centre)
    presentation = _present(
        world,
        holder,
        skill.token,
        card.token,
        disclose=["level", "occupationName"],
        card_disclose=["name"],
    )
    assert "~" not in presentation  # one vp+jwt, the two SD-JWTs enveloped in it
    bound = verify_with_card(
        world.verifier(),
        presentation,
        nonce=NONCE,
        audience=AUDIENCE,
        require=["level", "occupationName"],
        expected_name="王小明",
    )
    assert bound.report.format == VP_JWT_TYP
    assert bound.credential.credential_id == skill.credential_id
    assert bound.card.credential_id == card.credential_id
    assert bound.card.issuer_id == card_centre.entity_id
    assert bound.holder_thumbprint == holder.thumbprint()
    # only what was asked: no ID number, no name on the certificate, nothing else of the card
    assert dict(bound.credential.subject) == {"level": 3, "occupationName": "电工"}
    assert dict(bound.card.claims) == {"name": "王小明"}
    assert bound.name_matches is True
    # the answer to "is this 李四?" is no, from the same presentation
    other = verify_with_card(
        world.verifier(), presentation, nonce=NONCE, audience=AUDIENCE, expected_name="李四"
    )
    assert other.name_matches is False
    # a name written with spaces around is still the name
    spaced = verify_with_card(
        world.verifier(), presentation, nonce=NONCE, audience=AUDIENCE, expected_name=" 王小明 "
    )
    assert spaced.name_matches is True
    assert (
        verify_with_card(world.verifier(), presentation, nonce=NONCE, audience=AUDIENCE)
    ).name_matches is None


def test_the_card_of_another_holder_is_refused_as_such(
    world: TrustWorld, assessor: DemoIssuer, card_centre: DemoIssuer
) -> None:
    someone_else = Jwk.generate(Curve.ED25519)
    holder, skill, card = _held(world, assessor, card_centre, card_holder=someone_else)
    presentation = _present(world, holder, skill.token, card.token, card_disclose=["name"])
    with pytest.raises(VerificationError) as caught:
        verify_with_card(world.verifier(), presentation, nonce=NONCE, audience=AUDIENCE)
    assert caught.value.check == SAME_HOLDER_CHECK
    assert "another holder key" in str(caught.value)
    # signed by the card's holder instead, the certificate is the one bound elsewhere
    by_card_holder = _present(world, someone_else, skill.token, card.token)
    with pytest.raises(VerificationError) as caught:
        verify_with_card(world.verifier(), by_card_holder, nonce=NONCE, audience=AUDIENCE)
    assert caught.value.check == SAME_HOLDER_CHECK


def test_a_presentation_without_the_card_or_with_two_cards_is_refused(
    world: TrustWorld, assessor: DemoIssuer, card_centre: DemoIssuer
) -> None:
    holder, skill, card = _held(world, assessor, card_centre)
    # the card alone, as an SD-JWT with key binding: not a credential with the card
    alone = present_card(
        card.token, holder_key=holder, disclose=["name"], nonce=NONCE, audience=AUDIENCE,
        issued_at=world.now(),
    )  # fmt: skip
    with pytest.raises(VerificationError) as caught:
        verify_with_card(world.verifier(), alone, nonce=NONCE, audience=AUDIENCE)
    assert caught.value.check == CARD_CHECK
    # the certificate twice, no card
    twice = present_vc_jwt(
        [select_sd_jwt(skill.token, disclose=[])] * 2,
        holder_key=holder,
        nonce=NONCE,
        audience=AUDIENCE,
        issued_at=world.now(),
    )
    with pytest.raises(VerificationError, match="0 e-card") as caught:
        verify_with_card(world.verifier(), twice, nonce=NONCE, audience=AUDIENCE)
    assert caught.value.check == CARD_CHECK


def test_what_the_verifier_asks_must_be_disclosed(
    world: TrustWorld, assessor: DemoIssuer, card_centre: DemoIssuer
) -> None:
    holder, skill, card = _held(world, assessor, card_centre)
    presentation = _present(world, holder, skill.token, card.token, disclose=["level"])
    with pytest.raises(VerificationError, match="does not disclose occupationName") as caught:
        verify_with_card(
            world.verifier(),
            presentation,
            nonce=NONCE,
            audience=AUDIENCE,
            require=["level", "occupationName"],
        )
    assert caught.value.check == DISCLOSURE_CHECK
    # "is the person named X" needs the name from the card, and nothing else
    with pytest.raises(VerificationError, match="does not disclose name") as caught:
        verify_with_card(
            world.verifier(), presentation, nonce=NONCE, audience=AUDIENCE, expected_name="王小明"
        )
    assert caught.value.check == CARD_CHECK


def test_the_pipeline_runs_for_both_a_lost_card_proves_nothing(
    world: TrustWorld, assessor: DemoIssuer, card_centre: DemoIssuer
) -> None:
    holder, skill, card = _held(world, assessor, card_centre)
    presentation = _present(world, holder, skill.token, card.token, card_disclose=["name"])
    with pytest.raises(VerificationError) as caught:
        verify_with_card(world.verifier(), presentation, nonce="another", audience=AUDIENCE)
    assert caught.value.check == "holder_binding"
    world.chain.mine(1)
    world.set_status(card_centre, card, CredentialStatus.SUSPENDED, CardStatusReason.LOST)
    with pytest.raises(VerificationError) as caught:
        verify_with_card(world.verifier(), presentation, nonce=NONCE, audience=AUDIENCE)
    assert caught.value.check == "status"


def test_a_vc_jwt_credential_is_shown_whole_with_the_card(
    world: TrustWorld, assessor: DemoIssuer, card_centre: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    skill = world.issue(assessor, "VocationalSkillCertificate", SKILL, holder_key=holder)
    card = world.issue(card_centre, "SocialSecurityCard", CARD, sd=True, holder_key=holder)
    with pytest.raises(PresentationError, match="shown whole"):
        _present(world, holder, skill.token, card.token, disclose=["level"])
    with pytest.raises(PresentationError, match="e-card is a vc\\+sd-jwt"):
        _present(world, holder, skill.token, skill.token)
    presentation = _present(world, holder, skill.token, card.token, card_disclose=["name"])
    bound = verify_with_card(world.verifier(), presentation, nonce=NONCE, audience=AUDIENCE)
    assert bound.credential.subject["idNumber"] == PERSON["idNumber"]
    assert dict(bound.card.claims) == {"name": "王小明"}


def test_card_nonce_for_issuance_differs_from_other_purposes() -> None:
    from wallet_sdk.credentials.card_proof import ISSUANCE_PURPOSE

    assert card_nonce(ISSUANCE_PURPOSE, "c-1") != card_nonce("login", "c-1")
