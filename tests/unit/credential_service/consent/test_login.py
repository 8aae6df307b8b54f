"""Cardholder tokens and login challenges with the e-card, without HTTP: e-cards issued on the
embedded chain of the credential tests, the card desk's holdings in the database."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from sqlmodel import Session, select

from credential_service.cards.models import CardHolding
from credential_service.consent.service import ConsentSigner
from credential_service.errors import ClientAuthenticationFailed, Forbidden, NotAuthenticated
from credential_service.login.models import CardholderTokenPublic, LoginChallenge
from credential_service.login.service import (
    PairwiseSubjects,
    authenticate_cardholder_token,
    collect_login_token,
    complete_login,
    create_login_challenge,
)
from credential_service.models import Organisation
from credential_service.services.tokens import (
    ServiceTokenKey,
    TokenPolicy,
    authenticate_access_token,
)
from tests.fixtures.cards import person_card_subject
from tests.unit.credential_service.consent.conftest import NOW
from tests.unit.wallet_sdk.credentials.world import DemoIssuer, TrustWorld
from wallet_sdk.credentials import VC_SD_JWT_TYP
from wallet_sdk.jose import Curve, Jwk, read_unverified_header
from wallet_sdk.wallet import Wallet

POLICY = TokenPolicy(
    issuer="https://hrss.example",
    token_endpoint="https://hrss.example/v1/auth/token",
    access_token_lifetime=timedelta(minutes=5),
    assertion_max_lifetime=timedelta(minutes=5),
    leeway=timedelta(seconds=30),
)
KEY = ServiceTokenKey(Jwk.generate(Curve.ED25519))
PAIRWISE = PairwiseSubjects(secret=b"pairwise test secret, 32 bytes.!")
PERSON = "ab" * 32  # the card desk's keyed commitment of the person


@pytest.fixture
def card_wallet(
    session: Session,
    world: TrustWorld,
    card_centre: DemoIssuer,
    make_org: Callable[..., Organisation],
    tmp_path: Path,
) -> Wallet:
    """A wallet holding an e-card of `PERSON`, the card desk's active card of that person."""
    wallet = Wallet.create(tmp_path / "w", "pass", scrypt_n=2**10)
    card = world.issue(
        card_centre,
        "SocialSecurityCard",
        person_card_subject(1, "张三"),
        sd=True,
        holder_key=wallet.credential_key,
    )
    wallet.receive_credential(card.token, format=VC_SD_JWT_TYP, now=NOW)
    centre = make_org(kind="card_issuer")
    assert centre.id is not None
    session.add(
        CardHolding(
            person=PERSON,
            credential_id="0x" + card.credential_id.hex(),
            organisation_id=centre.id,
            activated_at=NOW,
        )
    )
    session.commit()
    return wallet


def _complete(
    session: Session, signer: ConsentSigner, trust: TrustWorld, answer: str, now: int
) -> CardholderTokenPublic:
    return complete_login(
        session=session,
        policy=POLICY,
        token_key=KEY,
        signer=signer,
        verifier=trust.verifier(),
        pairwise=PAIRWISE,
        response=answer,
        now=now,
    )


def _login(session: Session, signer: ConsentSigner, wallet: Wallet, *, now: int):  # type: ignore[no-untyped-def]
    challenge = create_login_challenge(session=session, signer=signer, now=now)
    answer = wallet.answer_login(
        challenge.qr,
        trusted_keys={signer.issuer: [signer.key.public()]},
        audience="urn:hrss:wallet",
        now=now,
    )
    return challenge, answer


def test_cardholder_token_is_not_an_organisation_token(
    session: Session,
    signer: ConsentSigner,
    world: TrustWorld,
    card_wallet: Wallet,
) -> None:
    wallet = card_wallet
    now = int(time.time())  # tokens are judged by the real clock
    _, answer = _login(session, signer, wallet, now=now)
    issued = _complete(session, signer, world, answer, now)
    cardholder = authenticate_cardholder_token(
        policy=POLICY, token_key=KEY, token=issued.access_token
    )
    assert cardholder.address == wallet.address and "me:read" in cardholder.scopes
    assert cardholder.subject == PAIRWISE.subject(PERSON, POLICY.audience) == issued.subject
    with pytest.raises(NotAuthenticated):
        authenticate_access_token(
            session=session, policy=POLICY, token_key=KEY, token=issued.access_token
        )
    org_like = jwt.encode(
        jwt.decode(issued.access_token, options={"verify_signature": False}),
        KEY.key.private_key,
        algorithm="EdDSA",
        headers={"typ": "at+jwt", "kid": KEY.kid},
    )
    for token in (org_like, "not.a.token"):
        with pytest.raises(NotAuthenticated):
            authenticate_cardholder_token(policy=POLICY, token_key=KEY, token=token)


def test_challenge_is_answered_once_and_collected_once(
    session: Session,
    signer: ConsentSigner,
    world: TrustWorld,
    card_wallet: Wallet,
) -> None:
    wallet, now = card_wallet, int(time.time())
    challenge, answer = _login(session, signer, wallet, now=now)
    assert (
        collect_login_token(
            session=session,
            policy=POLICY,
            token_key=KEY,
            challenge_id=challenge.challenge_id,
            poll_secret=challenge.poll_secret,
            now=now,
        )
        is None
    )
    issued = _complete(session, signer, world, answer, now)
    row = session.get(LoginChallenge, challenge.challenge_id)
    assert row is not None and issued.access_token not in repr(row.model_dump())
    signed_part = issued.access_token.rsplit(".", 1)[0]
    assert row.pending_token_sha256 == hashlib.sha256(signed_part.encode()).hexdigest()
    with pytest.raises(ClientAuthenticationFailed) as caught:
        _complete(session, signer, world, answer, now)
    assert caught.value.code == "login_challenge_replayed"
    collected = collect_login_token(
        session=session,
        policy=POLICY,
        token_key=KEY,
        challenge_id=challenge.challenge_id,
        poll_secret=challenge.poll_secret,
        now=now,
    )
    assert collected is not None and collected.holder == wallet.address
    assert collected.subject == issued.subject
    assert collected.access_token == issued.access_token  # the wallet's token, signed again
    session.refresh(row)
    assert row.pending_token_sha256 is None
    with pytest.raises(NotAuthenticated):
        collect_login_token(
            session=session,
            policy=POLICY,
            token_key=KEY,
            challenge_id=challenge.challenge_id,
            poll_secret=challenge.poll_secret,
            now=now,
        )


def test_expired_challenge_fails(
    session: Session,
    signer: ConsentSigner,
    world: TrustWorld,
    card_wallet: Wallet,
) -> None:
    wallet = card_wallet
    challenge, _ = _login(session, signer, wallet, now=int(time.time()))
    late = wallet.answer_login(
        challenge.qr,
        trusted_keys={signer.issuer: [signer.key.public()]},
        audience="urn:hrss:wallet",
        now=challenge.expires_at - 5,
    )
    with pytest.raises(ClientAuthenticationFailed) as caught:
        _complete(session, signer, world, late, challenge.expires_at + 60)
    assert caught.value.code == "login_challenge_expired"


def test_a_card_not_the_persons_active_one_gets_no_token(
    session: Session,
    signer: ConsentSigner,
    world: TrustWorld,
    card_wallet: Wallet,
) -> None:
    """The card verifies on chain, but the card desk holds another card for its person (or
    none: a card issued without activation here): refused before any token is made."""
    for holding in session.exec(select(CardHolding)).all():
        holding.credential_id = "0x" + "00" * 32
        session.add(holding)
    session.commit()
    now = int(time.time())
    challenge, answer = _login(session, signer, card_wallet, now=now)
    with pytest.raises(Forbidden) as caught:
        _complete(session, signer, world, answer, now)
    assert caught.value.code == "card_not_active"
    assert caught.value.detail == {"check": "card_holding"}
    row = session.get(LoginChallenge, challenge.challenge_id)
    assert row is not None and row.used_at is None


def test_pairwise_subjects_are_per_person_and_relying_party() -> None:
    one, other = PairwiseSubjects(secret=b"1" * 32), PairwiseSubjects(secret=b"2" * 32)
    subject = one.subject(PERSON, "https://hrss.example/v1")
    assert subject == one.subject(PERSON, "https://hrss.example/v1")
    assert subject != one.subject(PERSON, "urn:hrss:entity:0x" + "11" * 32)
    assert subject != one.subject("cd" * 32, "https://hrss.example/v1")
    assert subject != other.subject(PERSON, "https://hrss.example/v1")
    assert len(subject) == 64 and PERSON not in subject


def test_an_sm2_token_key_signs_cardholder_tokens_collected_once(
    session: Session,
    signer: ConsentSigner,
    world: TrustWorld,
    card_wallet: Wallet,
) -> None:
    """The national profile's token key: SM2 signatures are randomised, so the screen gets
    the wallet's claims under a fresh signature, and only while the signed part matches."""
    sm2 = ServiceTokenKey(Jwk.generate(Curve.SM2))
    now = int(time.time())
    challenge, answer = _login(session, signer, card_wallet, now=now)
    issued = complete_login(
        session=session,
        policy=POLICY,
        token_key=sm2,
        signer=signer,
        verifier=world.verifier(),
        pairwise=PAIRWISE,
        response=answer,
        now=now,
    )
    assert read_unverified_header(issued.access_token)["alg"] == "SM2SM3"
    assert authenticate_cardholder_token(
        policy=POLICY, token_key=sm2, token=issued.access_token
    ).address == (card_wallet.address)
    with pytest.raises(NotAuthenticated):  # the international key does not take it
        authenticate_cardholder_token(policy=POLICY, token_key=KEY, token=issued.access_token)
    collected = collect_login_token(
        session=session,
        policy=POLICY,
        token_key=sm2,
        challenge_id=challenge.challenge_id,
        poll_secret=challenge.poll_secret,
        now=now,
    )
    assert collected is not None and collected.access_token != issued.access_token
    assert collected.access_token.rsplit(".", 1)[0] == issued.access_token.rsplit(".", 1)[0]
    assert authenticate_cardholder_token(policy=POLICY, token_key=sm2, token=collected.access_token)
