"""QR login (电子社保卡扫码登录): the wallet's signed answer to a login challenge.

The service shows a ``login_challenge`` QR payload (`wallet_sdk.qr`). The wallet answers with a
self-issued compact JWS (``typ`` ``hrss-login+jwt``, ES256K) signed by the holder's secp256k1
key, in the spirit of OpenID SIOPv2: the public key travels in the ``sub_jwk`` claim and ``sub``
must be the Ethereum address of that key, so the answer proves possession of the key behind
the holder's on-chain consents. ``card`` is the cardholder's e-card proof
(`wallet_sdk.credentials.card_proof`): an SD-JWT presentation of the ``SocialSecurityCard``,
disclosing nothing, whose key binding JWT (signed by the credential key the card is bound to)
carries `login_card_nonce` of the challenge nonce and this holder address, and the service as
audience. The two keys thus vouch for each other: the card proof serves this challenge and this
holder key only, and the holder key signs over the card proof::

    {"iss": "urn:hrss:wallet", "sub": "0xHolder...", "aud": "<challenge issuer>",
     "nonce": "<challenge nonce>", "iat": ..., "exp": ..., "sub_jwk": {...},
     "card": "<issuer JWT>~~<KB-JWT>"}

`verify_login_response` checks the signature, key, address, audience and time, and that an
e-card proof is there; verifying the card against the chain (`verify_card_proof` with
`login_card_nonce`) and remembering which challenge nonces were answered (single use) is the
service's job.
"""

from __future__ import annotations

from dataclasses import dataclass

from wallet_sdk.consent import address_of_public_key
from wallet_sdk.credentials.card_proof import CARD_CHECK, card_nonce, present_card
from wallet_sdk.errors import FormatError, VerificationError, WalletError
from wallet_sdk.jcs import canonical_json
from wallet_sdk.jose import (
    Curve,
    Jwk,
    JwsAlgorithm,
    b64url_decode,
    sign_compact,
    verify_compact,
)
from wallet_sdk.nesting import load_json
from wallet_sdk.qr import QrPayload, QrPayloadType

__all__ = [
    "LOGIN_RESPONSE_ISSUER",
    "LOGIN_RESPONSE_TYP",
    "LoginResponse",
    "create_login_response",
    "login_card_nonce",
    "verify_login_response",
]

LOGIN_RESPONSE_TYP = "hrss-login+jwt"
LOGIN_RESPONSE_ISSUER = "urn:hrss:wallet"
_MAX_LIFETIME = 300
_LOGIN_PURPOSE = "login"
_MAX_CARD_PROOF = 6144


@dataclass(frozen=True, slots=True)
class LoginResponse:
    """A verified login answer: who (``address``) answered which challenge (``nonce``)."""

    address: str
    audience: str
    nonce: str
    issued_at: int
    expires_at: int
    card: str
    """The e-card proof, not yet verified: for `verify_card_proof` with `login_card_nonce`."""

    @property
    def card_nonce(self) -> str:
        """The key binding nonce the e-card proof must carry."""
        return login_card_nonce(self.nonce, self.address)


def login_card_nonce(challenge_nonce: str, address: str) -> str:
    """The key binding nonce of the e-card proof in a login answer: `card_nonce` for purpose
    ``login`` about the challenge's nonce and the answering holder address (so a proof made
    for one challenge, or one holder key, serves no other). Raises `FormatError`."""
    return card_nonce(_LOGIN_PURPOSE, f"{challenge_nonce}\n{address.lower()}")


def create_login_response(
    challenge: QrPayload,
    *,
    key: Jwk,
    card: str,
    card_key: Jwk,
    now: int,
    lifetime_seconds: int = 120,
) -> str:
    """Answer a verified login challenge with the holder's secp256k1 `key` and a proof of the
    e-card `card` (the ``vc+sd-jwt`` as the wallet keeps it) signed by `card_key`, the
    credential key the card is bound to.

    Raises `FormatError` when the payload is not a login challenge, has expired, or the key is
    not a private secp256k1 key, and `PresentationError` when the card cannot be presented.
    """
    if challenge.type is not QrPayloadType.LOGIN_CHALLENGE:
        raise FormatError(f"QR payload is a {challenge.type}, not a login challenge")
    if now > challenge.expires_at:
        raise FormatError("the login challenge has expired")
    if key.curve is not Curve.SECP256K1 or not key.has_private:
        raise FormatError("login needs the holder's private secp256k1 key")
    if not 0 < lifetime_seconds <= _MAX_LIFETIME:
        raise FormatError(f"lifetime must be between 1 and {_MAX_LIFETIME} s")
    public = key.public().with_kid(None).public_jwk()
    address = address_of_public_key(key)
    proof = present_card(
        card,
        holder_key=card_key,
        disclose=(),
        nonce=login_card_nonce(challenge.nonce, address),
        audience=challenge.issuer,
        issued_at=now,
    )
    claims = {
        "iss": LOGIN_RESPONSE_ISSUER,
        "sub": address,
        "aud": challenge.issuer,
        "nonce": challenge.nonce,
        "iat": now,
        "exp": now + lifetime_seconds,
        "sub_jwk": public,
        "card": proof,
    }
    return sign_compact(
        canonical_json(claims), key, headers={"typ": LOGIN_RESPONSE_TYP}, include_kid=False
    )


def verify_login_response(
    token: str, *, audience: str, now: int, leeway: int = 30
) -> LoginResponse:
    """Verify a wallet's login answer.

    Checks, in order: 1. ``sub_jwk`` is a public secp256k1 key (``key``); 2. ``sub`` is its
    address (``subject``); 3. the ES256K signature under that key, ``typ`` pinned (JWS checks
    of `verify_compact`); 4. ``iss`` and ``aud`` (``issuer``, ``audience``); 5. ``iat`` and
    ``exp`` (``not_yet_valid``, ``expired``); 6. an e-card proof is there (``card``, the
    check name `CARD_CHECK` of `verify_card_proof`). Raises `VerificationError` naming the
    check. The e-card proof itself is verified against the chain by the caller.
    """
    try:
        segments = token.split(".")
        if len(segments) != 3:
            raise FormatError("not a compact JWS")
        unverified = load_json(b64url_decode(segments[1]), what="payload")
        if not isinstance(unverified, dict):
            raise FormatError("payload is not an object")
        sub_jwk = unverified.get("sub_jwk")
        if not isinstance(sub_jwk, dict) or "d" in sub_jwk:
            raise VerificationError("key", "sub_jwk must be a public JWK")
        key = Jwk.from_jwk(sub_jwk)
    except VerificationError:
        raise
    except (WalletError, ValueError, AttributeError) as err:
        raise VerificationError("format", f"unreadable login response: {err}") from err
    # 1. the key
    if key.curve is not Curve.SECP256K1:
        raise VerificationError("key", "a login response is signed with a secp256k1 key")
    # 2. the subject is that key's address
    address = address_of_public_key(key)
    if unverified.get("sub") != address:
        raise VerificationError("subject", "sub is not the address of sub_jwk")
    # 3. the signature, with the algorithm pinned to ES256K
    claims = verify_compact(
        token, key, algorithms=(JwsAlgorithm.ES256K,), typ=LOGIN_RESPONSE_TYP
    ).payload_json()
    # 4. issuer and audience
    if claims.get("iss") != LOGIN_RESPONSE_ISSUER:
        raise VerificationError("issuer", f"iss must be {LOGIN_RESPONSE_ISSUER!r}")
    if claims.get("aud") != audience:
        raise VerificationError("audience", f"the response is not for {audience!r}")
    nonce, iat, exp = claims.get("nonce"), claims.get("iat"), claims.get("exp")
    if not isinstance(nonce, str) or not nonce or type(iat) is not int or type(exp) is not int:
        raise VerificationError("format", "nonce, iat and exp are required")
    # 5. time
    if iat > now + leeway:
        raise VerificationError("not_yet_valid", "the response is issued in the future")
    if now > exp + leeway or exp - iat > _MAX_LIFETIME or exp <= iat:
        raise VerificationError("expired", "the login response has expired")
    # 6. the e-card proof (verified by the caller, against the chain)
    card = claims.get("card")
    if not isinstance(card, str) or "~" not in card or len(card) > _MAX_CARD_PROOF:
        raise VerificationError(CARD_CHECK, "the login answer carries no e-card proof")
    return LoginResponse(
        address=address, audience=audience, nonce=nonce, issued_at=iat, expires_at=exp, card=card
    )
