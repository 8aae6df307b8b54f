"""E-card activation: the wallet's proof that it holds the credential key the card binds.

A card issuer asks the service for a one-time activation code after its own real-name check;
the wallet redeems the code with a self-issued compact JWS (``typ`` ``hrss-card-activation+jwt``)
signed by its credential key, the public key in ``cnf.jwk``: Ed25519 (``EdDSA``), or SM2
(``SM2SM3``) for a wallet in the national profile (`wallet_sdk.profile.HOLDER_ALGORITHMS`)::

    {"iss": "urn:hrss:wallet", "aud": "urn:hrss:card-activation", "code": "<activation code>",
     "iat": ..., "exp": ..., "cnf": {"jwk": {...}}}

The e-card is then bound to that key. `verify_activation_proof` checks the signature, key,
audience and time; that a code is single-use and unexpired is the service's job.

The wallet also names its holder address (the pseudonymous holder of its consents on
``ConsentRegistry``) and proves it holds that secp256k1 key: ``holder`` is
``{"jwk": <public secp256k1 JWK>, "proof": <ES256K compact JWS, typ hrss-card-holder+jwt, of
{"code", "cnf" (RFC 7638 thumbprint of the credential key), "iat"}>}``. The card desk keeps the
address so that, when the person's card moves to a new phone, it can record the holder
succession (old address → new address) on chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from wallet_sdk.consent import address_of_public_key
from wallet_sdk.errors import FormatError, VerificationError, WalletError
from wallet_sdk.jcs import canonical_json
from wallet_sdk.jose import Curve, Jwk, JwsAlgorithm, b64url_decode, sign_compact, verify_compact
from wallet_sdk.nesting import load_json
from wallet_sdk.profile import HOLDER_ALGORITHMS

__all__ = [
    "ACTIVATION_PROOF_AUDIENCE",
    "ACTIVATION_PROOF_TYP",
    "HOLDER_PROOF_TYP",
    "ActivationProof",
    "create_activation_proof",
    "verify_activation_proof",
]

ACTIVATION_PROOF_TYP = "hrss-card-activation+jwt"
ACTIVATION_PROOF_AUDIENCE = "urn:hrss:card-activation"
HOLDER_PROOF_TYP = "hrss-card-holder+jwt"
_ISSUER = "urn:hrss:wallet"
_MAX_LIFETIME = 300


@dataclass(frozen=True, slots=True)
class ActivationProof:
    """A verified activation proof: the code redeemed and the key the card is to be bound to."""

    code: str
    holder_key: Jwk
    issued_at: int
    holder_address: str | None = None
    """The wallet's holder address (checksummed), when the proof names and proves it."""


def create_activation_proof(
    code: str,
    *,
    key: Jwk,
    now: int,
    lifetime_seconds: int = 120,
    holder_key: Jwk | None = None,
) -> str:
    """Sign `code` with the wallet's private credential `key` (Ed25519 or SM2); with
    `holder_key` (the wallet's private secp256k1 holder key) also name and prove the holder
    address.

    Raises `FormatError` when the code is empty, the key is not a private Ed25519 or SM2 key,
    the holder key not a private secp256k1 key, or the lifetime is out of range (1 to 300 s)."""
    if not isinstance(code, str) or not code:
        raise FormatError("an activation code is a non-empty string")
    if key.algorithm not in HOLDER_ALGORITHMS or not key.has_private:
        raise FormatError("activation needs the wallet's private Ed25519 or SM2 credential key")
    if not 0 < lifetime_seconds <= _MAX_LIFETIME:
        raise FormatError(f"lifetime must be between 1 and {_MAX_LIFETIME} s")
    if holder_key is not None and (
        holder_key.curve is not Curve.SECP256K1 or not holder_key.has_private
    ):
        raise FormatError("the holder proof needs the wallet's private secp256k1 holder key")
    claims: dict[str, object] = {
        "iss": _ISSUER,
        "aud": ACTIVATION_PROOF_AUDIENCE,
        "code": code,
        "iat": now,
        "exp": now + lifetime_seconds,
        "cnf": {"jwk": key.public().with_kid(None).public_jwk()},
    }
    if holder_key is not None:
        bound = {"code": code, "cnf": key.thumbprint_b64(), "iat": now}
        claims["holder"] = {
            "jwk": holder_key.public().with_kid(None).public_jwk(),
            "proof": sign_compact(
                canonical_json(bound),
                holder_key,
                headers={"typ": HOLDER_PROOF_TYP},
                include_kid=False,
            ),
        }
    return sign_compact(
        canonical_json(claims), key, headers={"typ": ACTIVATION_PROOF_TYP}, include_kid=False
    )


def verify_activation_proof(token: str, *, now: int, leeway: int = 30) -> ActivationProof:
    """Verify a wallet's activation proof.

    Checks, in order: 1. ``cnf.jwk`` is a public Ed25519 or SM2 key (``key``); 2. the
    signature under that key in its one algorithm (``EdDSA`` or ``SM2SM3``, never the header's
    choice), ``typ`` pinned (``signature`` and the JWS checks of `verify_compact`);
    3. ``iss`` and ``aud`` (``issuer``, ``audience``); 4. ``code``, ``iat``, ``exp``
    (``format``, ``not_yet_valid``, ``expired``); 5. when the proof names a holder, its ES256K
    proof under that secp256k1 key, of this code, credential key and time (``holder``).
    Raises `VerificationError` naming the check.
    """
    try:
        segments = token.split(".")
        if len(segments) != 3:
            raise FormatError("not a compact JWS")
        unverified = load_json(b64url_decode(segments[1]), what="payload")
        if not isinstance(unverified, dict):
            raise FormatError("payload is not an object")
        cnf = unverified.get("cnf")
        jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
        if not isinstance(jwk, dict) or "d" in jwk:
            raise VerificationError("key", "cnf.jwk must be a public JWK")
        key = Jwk.from_jwk(jwk)
    except VerificationError:
        raise
    except (WalletError, ValueError, AttributeError) as err:
        raise VerificationError("format", f"unreadable activation proof: {err}") from err
    # 1. the key: a wallet's credential key
    if key.algorithm not in HOLDER_ALGORITHMS:
        raise VerificationError("key", "an activation proof is signed with an Ed25519 or SM2 key")
    # 2. the signature, algorithm pinned to the key's
    claims = verify_compact(
        token, key, algorithms=(key.algorithm,), typ=ACTIVATION_PROOF_TYP
    ).payload_json()
    # 3. issuer and audience
    if claims.get("iss") != _ISSUER:
        raise VerificationError("issuer", f"iss must be {_ISSUER!r}")
    if claims.get("aud") != ACTIVATION_PROOF_AUDIENCE:
        raise VerificationError("audience", f"aud must be {ACTIVATION_PROOF_AUDIENCE!r}")
    code, iat, exp = claims.get("code"), claims.get("iat"), claims.get("exp")
    if not isinstance(code, str) or not code or type(iat) is not int or type(exp) is not int:
        raise VerificationError("format", "code, iat and exp are required")
    # 4. time
    if iat > now + leeway:
        raise VerificationError("not_yet_valid", "the proof is issued in the future")
    if now > exp + leeway or exp - iat > _MAX_LIFETIME or exp <= iat:
        raise VerificationError("expired", "the activation proof has expired")
    # 5. the holder address, proven by its key
    holder = claims.get("holder")
    holder_address = None if holder is None else _holder_address(holder, code, key, iat)
    return ActivationProof(
        code=code, holder_key=key.public(), issued_at=iat, holder_address=holder_address
    )


def _holder_address(holder: object, code: str, key: Jwk, iat: int) -> str:
    try:
        if not isinstance(holder, dict) or not isinstance(holder.get("proof"), str):
            raise FormatError("holder must be an object with a jwk and a proof")
        jwk = holder.get("jwk")
        if not isinstance(jwk, dict) or "d" in jwk:
            raise FormatError("holder.jwk must be a public JWK")
        holder_key = Jwk.from_jwk(jwk)
    except (WalletError, ValueError) as err:
        raise VerificationError("holder", f"unreadable holder proof: {err}") from err
    if holder_key.curve is not Curve.SECP256K1:
        raise VerificationError("holder", "the holder key is a secp256k1 key")
    try:
        bound = verify_compact(
            holder["proof"], holder_key, algorithms=(JwsAlgorithm.ES256K,), typ=HOLDER_PROOF_TYP
        ).payload_json()
    except VerificationError as err:
        raise VerificationError("holder", f"the holder proof does not verify: {err}") from err
    if bound != {"code": code, "cnf": key.thumbprint_b64(), "iat": iat}:
        raise VerificationError("holder", "the holder proof is for another activation")
    return address_of_public_key(holder_key)
