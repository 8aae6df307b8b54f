"""QR login: the service shows a signed challenge; the cardholder's wallet answers it with the
holder key (`wallet_sdk.login`); the service issues a short-lived cardholder access token.

A challenge is answered once: the first valid answer marks it used in one conditional
``UPDATE``, so a replayed answer (or a second answer to the same QR) fails even under
concurrency. An answer after the challenge's ``exp`` fails.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from credential_service.consent.service import ConsentSigner
from credential_service.errors import ClientAuthenticationFailed, ErrorCode, NotAuthenticated
from credential_service.login.models import (
    CardholderTokenPublic,
    LoginChallenge,
    LoginChallengePublic,
)
from credential_service.services.tokens import JwtRejected, ServiceTokenKey, TokenPolicy
from wallet_sdk.consent import WALLET_AUDIENCE
from wallet_sdk.errors import VerificationError
from wallet_sdk.login import verify_login_response
from wallet_sdk.qr import QrPayloadType, encode_qr_payload

__all__ = [
    "CARDHOLDER_SCOPES",
    "CARDHOLDER_TOKEN_TYPE",
    "Cardholder",
    "authenticate_cardholder_token",
    "collect_login_token",
    "complete_login",
    "create_login_challenge",
]

CARDHOLDER_TOKEN_TYPE = "hrss-cardholder+jwt"
CARDHOLDER_SCOPES = frozenset({"me:read", "consents:grant", "consents:withdraw"})
CHALLENGE_LIFETIME = 120
CARDHOLDER_TOKEN_LIFETIME = 300


@dataclass(frozen=True)
class Cardholder:
    """The cardholder behind a cardholder token: their pseudonymous holder address."""

    address: str
    scopes: frozenset[str]


def _failed(message: str, code: ErrorCode = ErrorCode.LOGIN_FAILED) -> ClientAuthenticationFailed:
    return ClientAuthenticationFailed(message, code=code)


def create_login_challenge(
    *, session: Session, signer: ConsentSigner, now: int
) -> LoginChallengePublic:
    """A new challenge, as a signed ``login_challenge`` QR payload valid for two minutes."""
    # Challenges are created without authentication: forget the long-expired ones as we go.
    session.exec(delete(LoginChallenge).where(col(LoginChallenge.expires_at) < now - 3600))
    challenge_id = uuid.uuid4().hex
    nonce = secrets.token_urlsafe(24)
    poll_secret = secrets.token_urlsafe(24)
    qr = encode_qr_payload(
        type=QrPayloadType.LOGIN_CHALLENGE,
        issuer=signer.issuer,
        audience=WALLET_AUDIENCE,
        issued_at=now,
        expires_at=now + CHALLENGE_LIFETIME,
        body={"challenge_id": challenge_id},
        key=signer.key,
        nonce=nonce,
    )
    session.add(
        LoginChallenge(
            challenge_id=challenge_id,
            nonce=nonce,
            poll_secret_hash=_sha256(poll_secret),
            created_at=now,
            expires_at=now + CHALLENGE_LIFETIME,
        )
    )
    session.commit()
    return LoginChallengePublic(
        challenge_id=challenge_id,
        qr=qr,
        expires_at=now + CHALLENGE_LIFETIME,
        poll_secret=poll_secret,
    )


def _issue_token(
    *, policy: TokenPolicy, token_key: ServiceTokenKey, holder: str, now: int, jti: str
) -> CardholderTokenPublic:
    """The cardholder token of ``holder`` issued at ``now``: the same claims give the same
    signed part (``header.payload``), which `collect_login_token` relies on; the signature
    differs from one signing to the next under SM2."""
    token = token_key.sign(
        {
            "iss": policy.issuer,
            "sub": holder,
            "aud": policy.audience,
            "role": "cardholder",
            "scope": " ".join(sorted(CARDHOLDER_SCOPES)),
            "iat": now,
            "exp": now + CARDHOLDER_TOKEN_LIFETIME,
            "jti": jti,
        },
        typ=CARDHOLDER_TOKEN_TYPE,
    )
    return CardholderTokenPublic(
        access_token=token, expires_in=CARDHOLDER_TOKEN_LIFETIME, holder=holder
    )


def _signed_part_sha256(token: str) -> str:
    """SHA-256 of a token's ``header.payload``: what `collect_login_token` compares."""
    return _sha256(token.rsplit(".", 1)[0])


def complete_login(
    *,
    session: Session,
    policy: TokenPolicy,
    token_key: ServiceTokenKey,
    signer: ConsentSigner,
    response: str,
    now: int,
) -> CardholderTokenPublic:
    """Verify a wallet's answer, use up its challenge, and issue a cardholder token (also kept
    for the screen that showed the QR to collect once).

    Raises ``ClientAuthenticationFailed`` with ``login_failed`` (answer does not verify, or no
    such challenge), ``login_challenge_expired`` or ``login_challenge_replayed``.
    """
    # 1. the answer: signature by the key whose address it claims, for us, fresh
    try:
        answer = verify_login_response(response, audience=signer.issuer, now=now)
    except VerificationError as err:
        raise _failed(f"the login answer does not verify ({err.check})") from err
    # 2. the challenge it answers
    challenge = session.exec(
        select(LoginChallenge).where(col(LoginChallenge.nonce) == answer.nonce)
    ).first()
    if challenge is None:
        raise _failed("no such login challenge")
    if now > challenge.expires_at:
        raise _failed("the login challenge has expired", ErrorCode.LOGIN_CHALLENGE_EXPIRED)
    # 3. once only: the conditional update succeeds for exactly one answer
    issued = _issue_token(
        policy=policy,
        token_key=token_key,
        holder=answer.address,
        now=now,
        jti=challenge.challenge_id,
    )
    result = session.exec(
        update(LoginChallenge)
        .where(
            col(LoginChallenge.challenge_id) == challenge.challenge_id,
            col(LoginChallenge.used_at).is_(None),
        )
        .values(
            used_at=now,
            holder=answer.address,
            pending_token_sha256=_signed_part_sha256(issued.access_token),
        )
    )
    if result.rowcount != 1:
        session.rollback()
        raise _failed(
            "the login challenge was answered already", ErrorCode.LOGIN_CHALLENGE_REPLAYED
        )
    session.commit()
    return issued


def collect_login_token(
    *,
    session: Session,
    policy: TokenPolicy,
    token_key: ServiceTokenKey,
    challenge_id: str,
    poll_secret: str,
    now: int,
) -> CardholderTokenPublic | None:
    """For the screen that showed the QR: the token the wallet got, once the wallet has
    answered (``None`` while waiting). The token is handed out once; only its hash was kept.
    Raises ``NotAuthenticated`` for a wrong secret, an unknown or expired challenge, a token
    already collected or expired, or one that no longer hashes to the kept value."""
    challenge = session.get(LoginChallenge, challenge_id)
    if challenge is None or not hmac.compare_digest(
        challenge.poll_secret_hash, _sha256(poll_secret)
    ):
        raise NotAuthenticated()
    if challenge.used_at is None:
        if now > challenge.expires_at:
            raise NotAuthenticated()
        return None
    expected, holder, issued_at = (
        challenge.pending_token_sha256,
        challenge.holder,
        challenge.used_at,
    )
    if expected is None or holder is None or issued_at is None:
        raise NotAuthenticated()
    if now >= issued_at + CARDHOLDER_TOKEN_LIFETIME:
        raise NotAuthenticated()  # collected already, or the token has expired
    # the token the wallet got, signed again (the same claims and header; under SM2 another
    # signature); a changed key or policy fails closed
    issued = _issue_token(
        policy=policy, token_key=token_key, holder=holder, now=issued_at, jti=challenge_id
    )
    if not hmac.compare_digest(_signed_part_sha256(issued.access_token), expected):
        raise NotAuthenticated()
    result = session.exec(
        update(LoginChallenge)
        .where(
            col(LoginChallenge.challenge_id) == challenge_id,
            col(LoginChallenge.pending_token_sha256) == expected,
        )
        .values(pending_token_sha256=None)
    )
    if result.rowcount != 1:
        session.rollback()
        raise NotAuthenticated()
    session.commit()
    return CardholderTokenPublic(
        access_token=issued.access_token,
        expires_in=issued_at + CARDHOLDER_TOKEN_LIFETIME - now,
        holder=holder,
    )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def authenticate_cardholder_token(
    *, policy: TokenPolicy, token_key: ServiceTokenKey, token: str
) -> Cardholder:
    """The cardholder behind a cardholder token. Raises ``NotAuthenticated`` for every failure
    alike (organisation tokens included: their ``typ`` differs)."""
    try:
        claims = token_key.verify(
            token,
            typ=CARDHOLDER_TOKEN_TYPE,
            audience=policy.audience,
            issuer=policy.issuer,
            leeway=policy.leeway,
        )
    except JwtRejected as err:
        raise NotAuthenticated() from err
    subject, scope = claims.get("sub"), claims.get("scope")
    if (
        claims.get("role") != "cardholder"
        or not isinstance(subject, str)
        or not isinstance(scope, str)
    ):
        raise NotAuthenticated()
    return Cardholder(address=subject, scopes=frozenset(scope.split()) & CARDHOLDER_SCOPES)
