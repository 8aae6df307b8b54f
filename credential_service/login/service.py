"""QR login with the e-card (电子社保卡扫码登录): the service shows a signed challenge; the
cardholder's wallet answers it with a proof of its e-card and its holder key
(`wallet_sdk.login`); the service issues a short-lived token whose subject is the person's
pairwise pseudonym for the relying service.

1. The answer's holder-key signature, audience and time (`verify_login_response`).
2. The challenge it answers: known, unexpired.
3. The e-card proof (`verify_card_proof`): a ``SocialSecurityCard`` of an accredited card
   issuer, active now on ``StatusRegistry`` (a lost card is suspended, a cancelled or replaced
   one revoked), bound by its key binding JWT to this challenge and holder key
   (`login_card_nonce`) and to this service.
4. The card is the person's one active e-card at this service's card desk (`CardHolding`),
   which knows the person by a keyed commitment of the ID number.
5. The token's ``sub`` is `PairwiseSubjects.subject` of that commitment and the relying service:
   the same for the person whatever card or phone they log in with, another for another
   relying service, and never the ID number or card number.

A challenge is answered once: the first valid answer marks it used in one conditional
``UPDATE``, so a replayed answer (or a second answer to the same QR) fails even under
concurrency. An answer after the challenge's ``exp`` fails.

Who relies on the login: a challenge asked for anonymously logs in to this service itself
(the token's audience is the service's API, it carries the cardholder's scopes and ``holder``,
the holder address the consent and contract routes act for). A challenge asked for by an
organisation (a relying service, e.g. a data user's portal) logs in to that organisation: the
token's audience is the organisation's ``urn:hrss:entity:`` id, it carries no scope at this
service and no holder address, and only that organisation (holding the ``poll_secret``)
collects it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass, field

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from credential_service.cards.models import CardHolding
from credential_service.consent.service import ConsentSigner
from credential_service.errors import (
    ClientAuthenticationFailed,
    ErrorCode,
    Forbidden,
    NotAuthenticated,
)
from credential_service.keystore import FileKeystore
from credential_service.login.models import (
    CardholderTokenPublic,
    LoginChallenge,
    LoginChallengePublic,
)
from credential_service.models import Organisation
from credential_service.services.tokens import JwtRejected, ServiceTokenKey, TokenPolicy
from wallet_sdk.consent import WALLET_AUDIENCE
from wallet_sdk.credentials import CredentialVerifier, issuer_uri
from wallet_sdk.credentials.card_proof import CARD_CHECK, verify_card_proof
from wallet_sdk.errors import VerificationError
from wallet_sdk.jose import Curve
from wallet_sdk.login import LoginResponse, verify_login_response
from wallet_sdk.qr import QrPayloadType, encode_qr_payload

__all__ = [
    "CARDHOLDER_SCOPES",
    "CARDHOLDER_TOKEN_TYPE",
    "Cardholder",
    "PairwiseSubjects",
    "RelyingParty",
    "authenticate_cardholder_token",
    "collect_login_token",
    "complete_login",
    "create_login_challenge",
]

CARDHOLDER_TOKEN_TYPE = "hrss-cardholder+jwt"
CARDHOLDER_SCOPES = frozenset({"me:read", "consents:grant", "consents:withdraw"})
CHALLENGE_LIFETIME = 120
CARDHOLDER_TOKEN_LIFETIME = 300
PAIRWISE_SECRET = "service/login-pairwise-subject"
"""Keystore name of the secret under which pairwise pseudonyms are computed."""
_PAIRWISE_TAG = b"hrss-pairwise-subject/1"


@dataclass(frozen=True)
class Cardholder:
    """The cardholder behind a cardholder token: their pairwise pseudonym at this service
    (``subject``) and the holder address of the wallet they logged in with (``address``, the
    pseudonymous holder of their consents)."""

    address: str
    scopes: frozenset[str]
    subject: str


@dataclass(frozen=True)
class RelyingParty:
    """Who a login is for: its identifier (the token's audience, one input of the pairwise
    pseudonym) and, for an organisation, its name (shown in the QR)."""

    identifier: str
    name: str | None = None

    @classmethod
    def organisation(cls, organisation: Organisation) -> RelyingParty:
        """An organisation relying on the login, named by its ``TrustRegistry`` id."""
        entity = bytes.fromhex(organisation.ledger_id.removeprefix("0x"))
        return cls(identifier=issuer_uri(entity), name=organisation.name)


@dataclass(frozen=True)
class PairwiseSubjects:
    """The pairwise pseudonyms of persons per relying service: HMAC-SHA256 under a service
    secret of the person's keyed commitment (`person_commitment`, kept by the card desk per
    card) and the relying party's identifier. Nobody without the secret can link two relying
    parties' pseudonyms or compute one from an ID number."""

    secret: bytes = field(repr=False)

    @classmethod
    def from_keystore(cls, keystore: FileKeystore) -> PairwiseSubjects:
        """Raises ``KeystoreError`` when the keystore cannot be written."""
        return cls(secret=keystore.ensure(PAIRWISE_SECRET, Curve.ED25519).private_bytes())

    def subject(self, person: str, relying_party: str) -> str:
        """The pseudonym (64 hex) of `person` at `relying_party`."""
        material = b"\0".join((_PAIRWISE_TAG, person.encode(), relying_party.encode()))
        return hmac.new(self.secret, material, hashlib.sha256).hexdigest()


def _failed(
    message: str, code: ErrorCode = ErrorCode.LOGIN_FAILED, detail: object = None
) -> ClientAuthenticationFailed:
    return ClientAuthenticationFailed(message, code=code, detail=detail)


def create_login_challenge(
    *,
    session: Session,
    signer: ConsentSigner,
    now: int,
    relying_party: RelyingParty | None = None,
) -> LoginChallengePublic:
    """A new challenge, as a signed ``login_challenge`` QR payload valid for two minutes, to
    log in to `relying_party` (an organisation; default this service itself)."""
    # Challenges are created without authentication: forget the long-expired ones as we go.
    session.exec(delete(LoginChallenge).where(col(LoginChallenge.expires_at) < now - 3600))
    challenge_id = uuid.uuid4().hex
    nonce = secrets.token_urlsafe(24)
    poll_secret = secrets.token_urlsafe(24)
    body: dict[str, object] = {"challenge_id": challenge_id}
    if relying_party is not None:
        body["relying_party"] = {"id": relying_party.identifier, "name": relying_party.name}
    qr = encode_qr_payload(
        type=QrPayloadType.LOGIN_CHALLENGE,
        issuer=signer.issuer,
        audience=WALLET_AUDIENCE,
        issued_at=now,
        expires_at=now + CHALLENGE_LIFETIME,
        body=body,
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
            relying_party=None if relying_party is None else relying_party.identifier,
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
    *,
    policy: TokenPolicy,
    token_key: ServiceTokenKey,
    subject: str,
    holder: str,
    relying_party: str | None,
    now: int,
    jti: str,
) -> CardholderTokenPublic:
    """The cardholder token of the person `subject` issued at ``now`` for `relying_party`
    (``None``: this service, with the cardholder's scopes and `holder` address): the same
    claims give the same signed part (``header.payload``), which `collect_login_token` relies
    on; the signature differs from one signing to the next under SM2."""
    claims: dict[str, object] = {
        "iss": policy.issuer,
        "sub": subject,
        "aud": policy.audience if relying_party is None else relying_party,
        "role": "cardholder",
        "iat": now,
        "exp": now + CARDHOLDER_TOKEN_LIFETIME,
        "jti": jti,
    }
    if relying_party is None:
        claims["scope"] = " ".join(sorted(CARDHOLDER_SCOPES))
        claims["holder"] = holder
    token = token_key.sign(
        claims,
        typ=CARDHOLDER_TOKEN_TYPE,
    )
    return CardholderTokenPublic(
        access_token=token,
        expires_in=CARDHOLDER_TOKEN_LIFETIME,
        subject=subject,
        holder=holder if relying_party is None else None,
    )


def _card_person(
    *, session: Session, verifier: CredentialVerifier, answer: LoginResponse, audience: str
) -> str:
    """Steps 3 and 4: the person (keyed commitment) whose active e-card the answer proves."""
    try:
        identity = verify_card_proof(
            verifier, answer.card, nonce=answer.card_nonce, audience=audience
        )
    except VerificationError as err:
        if err.check == "status":
            raise Forbidden(
                f"the e-card is not active: {err.message}",
                code=ErrorCode.CARD_NOT_ACTIVE,
                detail={"check": err.check},
            ) from err
        if err.check == CARD_CHECK:
            raise _card_required(err.message) from err
        raise _failed(
            f"the e-card proof does not verify ({err.check})", detail={"check": err.check}
        ) from err
    card = "0x" + identity.credential_id.hex()
    holding = session.exec(
        select(CardHolding).where(col(CardHolding.credential_id) == card)
    ).first()
    if holding is None:
        raise Forbidden(
            "the e-card is not its holder's active card at this service",
            code=ErrorCode.CARD_NOT_ACTIVE,
            detail={"check": "card_holding"},
        )
    return holding.person


def _card_required(message: str) -> ClientAuthenticationFailed:
    return ClientAuthenticationFailed(
        f"log in with the e-card: {message}", code=ErrorCode.CARD_REQUIRED
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
    verifier: CredentialVerifier,
    pairwise: PairwiseSubjects,
    response: str,
    now: int,
) -> CardholderTokenPublic:
    """Verify a wallet's answer and its e-card, use up its challenge, and issue a cardholder
    token for the challenge's relying party (also kept for the screen that showed the QR to
    collect once).

    Raises ``ClientAuthenticationFailed`` (401) with ``card_required`` (no e-card proof, or a
    credential other than the e-card), ``login_failed`` (answer or e-card proof does not
    verify, or no such challenge; ``detail.check`` names the e-card's failed check),
    ``login_challenge_expired`` or ``login_challenge_replayed``; ``Forbidden`` (403) with
    ``card_not_active`` when the e-card is lost (suspended), cancelled or replaced (revoked),
    or not its holder's active card at this service's card desk.
    """
    # 1. the answer: signature by the key whose address it claims, for us, fresh
    try:
        answer = verify_login_response(response, audience=signer.issuer, now=now)
    except VerificationError as err:
        if err.check == CARD_CHECK:
            raise _card_required(err.message) from err
        raise _failed(f"the login answer does not verify ({err.check})") from err
    # 2. the challenge it answers
    challenge = session.exec(
        select(LoginChallenge).where(col(LoginChallenge.nonce) == answer.nonce)
    ).first()
    if challenge is None:
        raise _failed("no such login challenge")
    if now > challenge.expires_at:
        raise _failed("the login challenge has expired", ErrorCode.LOGIN_CHALLENGE_EXPIRED)
    # 3, 4. the e-card: verified, active, the person's one active card here
    person = _card_person(session=session, verifier=verifier, answer=answer, audience=signer.issuer)
    # 5. the person's pseudonym at the relying party
    relying_party = challenge.relying_party
    subject = pairwise.subject(person, relying_party or policy.audience)
    # 6. once only: the conditional update succeeds for exactly one answer
    issued = _issue_token(
        policy=policy,
        token_key=token_key,
        subject=subject,
        holder=answer.address,
        relying_party=relying_party,
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
            subject=subject,
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
    expected, holder, subject, issued_at = (
        challenge.pending_token_sha256,
        challenge.holder,
        challenge.subject,
        challenge.used_at,
    )
    if expected is None or holder is None or subject is None or issued_at is None:
        raise NotAuthenticated()
    if now >= issued_at + CARDHOLDER_TOKEN_LIFETIME:
        raise NotAuthenticated()  # collected already, or the token has expired
    # the token the wallet got, signed again (the same claims and header; under SM2 another
    # signature); a changed key or policy fails closed
    issued = _issue_token(
        policy=policy,
        token_key=token_key,
        subject=subject,
        holder=holder,
        relying_party=challenge.relying_party,
        now=issued_at,
        jti=challenge_id,
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
    return issued.model_copy(update={"expires_in": issued_at + CARDHOLDER_TOKEN_LIFETIME - now})


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def authenticate_cardholder_token(
    *, policy: TokenPolicy, token_key: ServiceTokenKey, token: str
) -> Cardholder:
    """The cardholder behind a cardholder token for this service. Raises ``NotAuthenticated``
    for every failure alike (organisation tokens included: their ``typ`` differs; tokens for
    another relying party: their audience differs)."""
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
    subject, scope, holder = claims.get("sub"), claims.get("scope"), claims.get("holder")
    if (
        claims.get("role") != "cardholder"
        or not isinstance(subject, str)
        or not isinstance(scope, str)
        or not isinstance(holder, str)
    ):
        raise NotAuthenticated()
    return Cardholder(
        address=holder, scopes=frozenset(scope.split()) & CARDHOLDER_SCOPES, subject=subject
    )
