"""E-card proofs: a cardholder proves who they are with their electronic social security card.

Every citizen action (QR login, an employee's signature on a labour contract, a consent
grant) carries an SD-JWT presentation of the holder's ``SocialSecurityCard`` with a key binding
JWT bound to what the action is about: `card_nonce` makes the nonce from the action's purpose
and the digest of the record acted on, so a proof made for one record or purpose never serves
for another. The holder discloses only the claims the relying party asks for.

`verify_card_proof` runs the whole credential pipeline (issuer accredited for the e-card type,
which on chain only card issuers can be; key valid; status active as of the time given; key
binding to the nonce and audience) and returns the `CardIdentity` it proves: the card, its
issuer, the holder key the card is bound to and the disclosed claims.

Identities named in advance (the employee of a contract, the subject of a consent request) are
kept as salted commitments (`identity_commitment`), never in clear: the disclosed claims of a
proof are compared with a commitment by `matches_commitment`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from wallet_sdk.credentials._model import canonical_json
from wallet_sdk.credentials.holder import present_sd_jwt
from wallet_sdk.credentials.social_security_card import SOCIAL_SECURITY_CARD, validate_citizen_id
from wallet_sdk.credentials.verifier import (
    CredentialVerificationError,
    CredentialVerifier,
    PresentationReport,
)
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.jose import Jwk, b64url_decode, b64url_encode

__all__ = [
    "CARD_CHECK",
    "CardIdentity",
    "card_nonce",
    "identity_commitment",
    "matches_commitment",
    "new_commitment_salt",
    "present_card",
    "verify_card_proof",
]

CARD_CHECK = "card"
"""The check name of what `verify_card_proof` adds to the credential pipeline's checks."""

_NONCE_TAG = "hrss-card-proof/1"
_COMMITMENT_TAG = "hrss-card-identity/1"
_SALT_BYTES = 16


@dataclass(frozen=True, slots=True)
class CardIdentity:
    """Who an e-card proof shows: the card, its issuer, the holder key and what was disclosed."""

    credential_id: bytes
    issuer_id: bytes
    holder_key: Jwk
    claims: Mapping[str, Any]
    """The disclosed ``credentialSubject`` claims (``name``, ``idNumber``, ...)."""
    as_of: int
    report: PresentationReport = field(repr=False)

    @property
    def holder_thumbprint(self) -> bytes:
        """RFC 7638 thumbprint of the key the card is bound to."""
        return self.holder_key.thumbprint()


def card_nonce(purpose: str, digest: bytes | str) -> str:
    """The key binding nonce of an e-card proof about `digest` (the record acted on, or a
    verifier's challenge) for `purpose` (e.g. ``login``, ``contract-signature``,
    ``consent-grant``): base64url(SHA-256(tag, purpose, digest)). Raises `FormatError`."""
    if not purpose or not purpose.isascii() or "\n" in purpose:
        raise FormatError("a card proof purpose is a non-empty ASCII word")
    raw = digest.encode("utf-8") if isinstance(digest, str) else digest
    if not raw:
        raise FormatError("a card proof is about a non-empty digest or challenge")
    material = b"\n".join((_NONCE_TAG.encode(), purpose.encode(), raw))
    return b64url_encode(hashlib.sha256(material).digest())


def present_card(
    card: str,
    *,
    holder_key: Jwk,
    disclose: Collection[str],
    nonce: str,
    audience: str,
    issued_at: int,
) -> str:
    """An SD-JWT presentation of the e-card `card` disclosing `disclose` (claim names of the
    card subject; nothing when empty), bound to `nonce` and `audience` by a key binding JWT
    signed with `holder_key`. Raises `PresentationError`."""
    return present_sd_jwt(
        card,
        disclose=disclose,
        holder_key=holder_key,
        nonce=nonce,
        audience=audience,
        issued_at=issued_at,
    )


def verify_card_proof(
    verifier: CredentialVerifier,
    presentation: str,
    *,
    nonce: str,
    audience: str,
    as_of: int | None = None,
    presented_at: int | None = None,
    require: Collection[str] = (),
) -> CardIdentity:
    """The identity an e-card presentation proves, or `VerificationError` naming the failed
    check.

    The whole credential pipeline runs with the card's status as of `as_of` (default the
    verifier's now) and the key binding's freshness judged at `presented_at` (default now; for
    a proof kept as evidence, the time the chain witnessed it). The credential must be a
    ``SocialSecurityCard`` (check `CARD_CHECK`) disclosing every claim in `require`."""
    if not isinstance(presentation, str) or "~" not in presentation:
        raise VerificationError(CARD_CHECK, "an e-card proof is an SD-JWT presentation")
    try:
        report = verifier.verify_presentation(
            presentation,
            nonce=nonce,
            audience=audience,
            as_of=as_of,
            presented_at=presented_at,
        )
    except CredentialVerificationError as err:
        raise VerificationError(err.check, err.message) from err
    if len(report.credentials) != 1:
        raise VerificationError(CARD_CHECK, "an e-card proof presents exactly one credential")
    credential_report = report.credentials[0]
    credential = credential_report.credential
    if credential is None or credential.credential_type != SOCIAL_SECURITY_CARD:
        shown = None if credential is None else credential.credential_type
        raise VerificationError(CARD_CHECK, f"the credential presented is {shown}, not an e-card")
    if credential.holder_key is None:
        raise VerificationError(CARD_CHECK, "the e-card names no holder key")
    missing = [name for name in require if name not in credential.subject]
    if missing:
        raise VerificationError(
            CARD_CHECK, "the e-card proof does not disclose " + ", ".join(missing)
        )
    return CardIdentity(
        credential_id=credential.credential_id,
        issuer_id=credential.issuer_id,
        holder_key=credential.holder_key,
        claims=dict(credential.subject),
        as_of=credential_report.as_of,
        report=report,
    )


def new_commitment_salt() -> str:
    """A fresh 128-bit salt for `identity_commitment`, base64url."""
    return b64url_encode(secrets.token_bytes(_SALT_BYTES))


def identity_commitment(claims: Mapping[str, str], salt: str) -> str:
    """A salted commitment to an identity named in advance (e.g. ``{"name": ..., "idNumber":
    ...}``): hex SHA-256 of the canonical JSON of the claims, the salt and a domain tag. An
    ``idNumber`` must be a valid GB 11643 number. Raises `FormatError`."""
    if not claims:
        raise FormatError("an identity commitment names at least one claim")
    for name, value in claims.items():
        if not isinstance(value, str) or not value:
            raise FormatError(f"identity claim {name} must be a non-empty string")
    if "idNumber" in claims:
        validate_citizen_id(claims["idNumber"])
    try:
        salt_bytes = b64url_decode(salt)
    except (FormatError, ValueError) as err:
        raise FormatError("the commitment salt is not base64url") from err
    if len(salt_bytes) < _SALT_BYTES:
        raise FormatError(f"the commitment salt must be at least {_SALT_BYTES} bytes")
    material = canonical_json({"tag": _COMMITMENT_TAG, "salt": salt, "claims": dict(claims)})
    return hashlib.sha256(material).hexdigest()


def matches_commitment(
    identity: CardIdentity, commitment: str, salt: str, names: Collection[str]
) -> bool:
    """Whether the claims `names` disclosed by `identity` are the ones `commitment` commits to
    with `salt` (False when any of them was not disclosed)."""
    try:
        claims = {name: identity.claims[name] for name in names}
        expected = identity_commitment(claims, salt)
    except (KeyError, FormatError):
        return False
    return hmac.compare_digest(expected, commitment.lower())
