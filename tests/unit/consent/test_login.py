"""Cardholder tokens and login challenges, without HTTP."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from sqlmodel import Session

from credential_service.consent.service import ConsentSigner
from credential_service.errors import ClientAuthenticationFailed, NotAuthenticated
from credential_service.login.models import LoginChallenge
from credential_service.login.service import (
    authenticate_cardholder_token,
    collect_login_token,
    complete_login,
    create_login_challenge,
)
from credential_service.services.tokens import (
    ServiceTokenKey,
    TokenPolicy,
    authenticate_access_token,
)
from tests.unit.consent.conftest import NOW
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


def _login(session: Session, signer: ConsentSigner, wallet: Wallet, *, now: int = NOW):  # type: ignore[no-untyped-def]
    challenge = create_login_challenge(session=session, signer=signer, now=now)
    answer = wallet.answer_login(
        challenge.qr,
        trusted_keys={signer.issuer: [signer.key.public()]},
        audience="urn:hrss:wallet",
        now=now,
    )
    return challenge, answer


def test_cardholder_token_is_not_an_organisation_token(
    session: Session, signer: ConsentSigner, tmp_path: Path
) -> None:
    wallet = Wallet.create(tmp_path / "w", "pass", scrypt_n=2**10)
    now = int(time.time())  # tokens are judged by the real clock
    _, answer = _login(session, signer, wallet, now=now)
    issued = complete_login(
        session=session, policy=POLICY, token_key=KEY, signer=signer, response=answer, now=now
    )
    cardholder = authenticate_cardholder_token(
        policy=POLICY, token_key=KEY, token=issued.access_token
    )
    assert cardholder.address == wallet.address and "me:read" in cardholder.scopes
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
    session: Session, signer: ConsentSigner, tmp_path: Path
) -> None:
    wallet = Wallet.create(tmp_path / "w", "pass", scrypt_n=2**10)
    challenge, answer = _login(session, signer, wallet)
    assert (
        collect_login_token(
            session=session,
            policy=POLICY,
            token_key=KEY,
            challenge_id=challenge.challenge_id,
            poll_secret=challenge.poll_secret,
            now=NOW,
        )
        is None
    )
    issued = complete_login(
        session=session, policy=POLICY, token_key=KEY, signer=signer, response=answer, now=NOW
    )
    row = session.get(LoginChallenge, challenge.challenge_id)
    assert row is not None and issued.access_token not in repr(row.model_dump())
    signed_part = issued.access_token.rsplit(".", 1)[0]
    assert row.pending_token_sha256 == hashlib.sha256(signed_part.encode()).hexdigest()
    with pytest.raises(ClientAuthenticationFailed) as caught:
        complete_login(
            session=session, policy=POLICY, token_key=KEY, signer=signer, response=answer, now=NOW
        )
    assert caught.value.code == "login_challenge_replayed"
    collected = collect_login_token(
        session=session,
        policy=POLICY,
        token_key=KEY,
        challenge_id=challenge.challenge_id,
        poll_secret=challenge.poll_secret,
        now=NOW,
    )
    assert collected is not None and collected.holder == wallet.address
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
            now=NOW,
        )


def test_expired_challenge_fails(session: Session, signer: ConsentSigner, tmp_path: Path) -> None:
    wallet = Wallet.create(tmp_path / "w", "pass", scrypt_n=2**10)
    challenge, _ = _login(session, signer, wallet)
    late = wallet.answer_login(
        challenge.qr,
        trusted_keys={signer.issuer: [signer.key.public()]},
        audience="urn:hrss:wallet",
        now=challenge.expires_at - 5,
    )
    with pytest.raises(ClientAuthenticationFailed) as caught:
        complete_login(
            session=session,
            policy=POLICY,
            token_key=KEY,
            signer=signer,
            response=late,
            now=challenge.expires_at + 60,
        )
    assert caught.value.code == "login_challenge_expired"


def test_an_sm2_token_key_signs_cardholder_tokens_collected_once(
    session: Session, signer: ConsentSigner, tmp_path: Path
) -> None:
    """The national profile's token key: SM2 signatures are randomised, so the screen gets
    the wallet's claims under a fresh signature, and only while the signed part matches."""
    sm2 = ServiceTokenKey(Jwk.generate(Curve.SM2))
    wallet = Wallet.create(tmp_path / "w", "pass", scrypt_n=2**10)
    now = int(time.time())
    challenge, answer = _login(session, signer, wallet, now=now)
    issued = complete_login(
        session=session, policy=POLICY, token_key=sm2, signer=signer, response=answer, now=now
    )
    assert read_unverified_header(issued.access_token)["alg"] == "SM2SM3"
    assert authenticate_cardholder_token(
        policy=POLICY, token_key=sm2, token=issued.access_token
    ).address == (wallet.address)
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
