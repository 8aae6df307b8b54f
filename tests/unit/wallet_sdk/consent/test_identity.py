"""The data subject's e-card proof on a consent grant (`wallet_sdk.consent`), on the embedded
chain: the subject's proof verifies; another person's card, a grant without a proof, a proof
moved onto another grant or shown to another data user, and a lost card are each refused with
their check; the request's subject commitment opens only to the right ID number."""

from __future__ import annotations

import secrets
from typing import Any

import pytest

from node_adapter import CredentialStatus, Kind
from tests.unit.wallet_sdk.credentials.world import DemoIssuer, TrustWorld
from wallet_sdk.consent import (
    ConsentRequest,
    ConsentSubject,
    Controller,
    RegistryDomain,
    SignedConsent,
    present_identity_proof,
    sign_grant,
    verify_identity_proof,
)
from wallet_sdk.credentials import CardStatusReason
from wallet_sdk.credentials.card_proof import held_card_claims
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jose import Curve, Jwk

SUBJECT_ID = "11010519491231002X"
OTHER_ID = "110101199003074370"
REGISTRY = RegistryDomain(chain_id=1337, address="0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")


@pytest.fixture(scope="module")
def card_centre(world: TrustWorld) -> DemoIssuer:
    return world.add_issuer(
        "consent-card-centre",
        province="beijing",
        region=110000,
        types=["SocialSecurityCard"],
        kind=Kind.CARD_ISSUER,
    )


def _card(world: TrustWorld, centre: DemoIssuer, holder: Jwk, id_number: str) -> Any:
    subject = {
        "name": "张三",
        "idNumber": id_number,
        "cardNumber": "A12345678",
        "issuingRegion": "110105",
        "validFrom": "2026-01-01",
        "validUntil": "2036-01-01",
    }
    return world.issue(centre, "SocialSecurityCard", subject, sd=True, holder_key=holder)


def _request(world: TrustWorld, ledger_id: bytes | None = None) -> ConsentRequest:
    return ConsentRequest.new(
        controller=Controller(
            ledger_id=ledger_id or secrets.token_bytes(32),
            credit_code="91440300MA5F0XXXX1",
            name="Example Recruitment Co.",
            contact="privacy@example.cn",
        ),
        purposes=["recruitment"],
        data_categories=["identity"],
        duration_seconds=3600,
        legal_basis="pipl-art13-consent",
        registry=REGISTRY,
        now=world.now(),
        subject=ConsentSubject.for_id_number(SUBJECT_ID),
    )


def _grant(
    world: TrustWorld, request: ConsentRequest, card: Any, holder: Jwk, **kwargs: Any
) -> SignedConsent:
    signed = sign_grant(request, private_key=secrets.token_bytes(32), now=world.now())
    return present_identity_proof(
        card.token,
        holder_key=holder,
        consent=signed,
        controller=kwargs.get("controller", request.controller),
        issued_at=world.now(),
    )


@pytest.mark.parametrize("curve", [Curve.ED25519, Curve.SM2])  # either profile's wallet
def test_the_subjects_proof_verifies(
    world: TrustWorld, card_centre: DemoIssuer, curve: Curve
) -> None:
    holder = Jwk.generate(curve)
    card = _card(world, card_centre, holder, SUBJECT_ID)
    request = _request(world)
    signed = _grant(world, request, card, holder)
    identity = verify_identity_proof(signed, request, world.verifier())
    assert dict(identity.claims) == {"idNumber": SUBJECT_ID}  # nothing more is disclosed
    assert identity.credential_id == card.credential_id
    held = held_card_claims(card.token)
    assert held is not None and held["idNumber"] == SUBJECT_ID and held["name"] == "张三"
    assert held_card_claims("not-a-card~") is None


def test_another_persons_card_or_no_proof_is_not_the_subject(
    world: TrustWorld, card_centre: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    request = _request(world)
    other = _grant(world, request, _card(world, card_centre, holder, OTHER_ID), holder)
    for signed in (other, other.without_identity_proof()):
        with pytest.raises(VerificationError) as caught:
            verify_identity_proof(signed, request, world.verifier())
        assert caught.value.check == "subject"
    with pytest.raises(VerificationError, match="names no data subject") as caught:
        verify_identity_proof(other, ConsentRequest.from_json(
            {k: v for k, v in request.to_json().items() if k != "subject"}
        ), world.verifier())  # fmt: skip


def test_a_proof_serves_only_its_grant_and_its_data_user(
    world: TrustWorld, card_centre: DemoIssuer
) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(world, card_centre, holder, SUBJECT_ID)
    request = _request(world)
    first, second = _grant(world, request, card, holder), _grant(world, request, card, holder)
    moved = SignedConsent.from_json({**second.to_json(), "identity_proof": first.identity_proof})
    elsewhere = _grant(world, request, card, holder, controller=_request(world).controller)
    for signed in (moved, elsewhere):
        with pytest.raises(VerificationError) as caught:
            verify_identity_proof(signed, request, world.verifier())
        assert caught.value.check == "holder_binding"


def test_a_lost_card_proves_no_subject(world: TrustWorld, card_centre: DemoIssuer) -> None:
    holder = Jwk.generate(Curve.ED25519)
    card = _card(world, card_centre, holder, SUBJECT_ID)
    world.chain.mine(1)
    world.set_status(card_centre, card, CredentialStatus.SUSPENDED, CardStatusReason.LOST)
    request = _request(world)
    with pytest.raises(VerificationError) as caught:
        verify_identity_proof(_grant(world, request, card, holder), request, world.verifier())
    assert caught.value.check == "status"


def test_the_subject_commitment_opens_only_to_its_id_number() -> None:
    subject = ConsentSubject.for_id_number(SUBJECT_ID)
    assert subject.names(SUBJECT_ID) and not subject.names(OTHER_ID)
    assert not subject.names(SUBJECT_ID.lower()[:-1] + "9") and not subject.names(None)
    assert SUBJECT_ID not in str(subject.to_json())
    assert ConsentSubject.from_json(subject.to_json()) == subject
    other_salt = ConsentSubject.for_id_number(SUBJECT_ID)
    assert other_salt.commitment != subject.commitment
    with pytest.raises(FormatError, match="check digit"):
        ConsentSubject.for_id_number(SUBJECT_ID[:-1] + "9")
    with pytest.raises(FormatError, match="64 lowercase hex"):
        ConsentSubject.from_json({"commitment": "00", "salt": subject.salt})
