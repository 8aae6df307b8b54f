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

A credential with the e-card of its holder (`present_with_card`, `verify_with_card`): one
``vp+jwt`` signed by the holder key, enveloping the credential and the e-card, each SD-JWT
showing only the claims chosen; both must be bound (``cnf``) to that one key (check
`SAME_HOLDER_CHECK`). The verifier may ask whether the person is named X (`expected_name`)
with nothing disclosed from the card but the name.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from wallet_sdk.credentials._model import (
    ENVELOPED_VC_TYPE,
    VC_JWT_TYP,
    VC_SD_JWT_TYP,
    VP_JWT_TYP,
    VP_SD_JWT_TYP,
    canonical_json,
    credential_media_type,
    unenvelope,
)
from wallet_sdk.credentials._sd_jwt import disclosure_paths
from wallet_sdk.credentials.holder import (
    PresentationError,
    present_sd_jwt,
    present_vc_jwt,
    select_sd_jwt,
)
from wallet_sdk.credentials.social_security_card import SOCIAL_SECURITY_CARD, validate_citizen_id
from wallet_sdk.credentials.trust_state import TrustStateError, TrustView
from wallet_sdk.credentials.verifier import (
    CredentialReport,
    CredentialVerifier,
    PresentationReport,
    VerifiedCredential,
)
from wallet_sdk.errors import FormatError, VerificationError, WalletError
from wallet_sdk.jose import Jwk, b64url_decode, b64url_encode, read_unverified_payload
from wallet_sdk.nesting import load_json

__all__ = [
    "CARD_CHECK",
    "DISCLOSURE_CHECK",
    "ISSUANCE_PURPOSE",
    "ISSUER_ACTIVE_CHECK",
    "SAME_HOLDER_CHECK",
    "CardBoundCredential",
    "CardIdentity",
    "card_nonce",
    "check_card_bound",
    "held_card_claims",
    "identity_commitment",
    "matches_commitment",
    "new_commitment_salt",
    "present_card",
    "present_with_card",
    "verify_card_proof",
    "verify_with_card",
]

CARD_CHECK = "card"
"""The check name of what `verify_card_proof` adds to the credential pipeline's checks."""
ISSUER_ACTIVE_CHECK = "issuer_active"
"""The check that the card issuer is still active as of the time a card proof is judged at."""

SAME_HOLDER_CHECK = "same_holder"
"""The check that a credential and the e-card presented with it are bound to one holder key."""
DISCLOSURE_CHECK = "disclosure"
"""The check that a credential presented with the e-card discloses the claims asked for."""
ISSUANCE_PURPOSE = "credential-issuance"
"""The `card_nonce` purpose of an e-card proof sent with a credential issuance request."""

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


def held_card_claims(card: str) -> dict[str, Any] | None:
    """The ``credentialSubject`` claims of an e-card as the wallet holds it (the issuer's
    SD-JWT with every disclosure), read without verifying it: what the holder may disclose.
    None when `card` is not a ``SocialSecurityCard`` SD-JWT. Raises nothing."""
    parts = card.split("~") if isinstance(card, str) else []
    segments = parts[0].split(".") if parts else []
    try:
        if len(parts) < 2 or len(segments) != 3:
            return None
        payload = load_json(b64url_decode(segments[1]), what="the e-card payload")
        types = payload.get("type") if isinstance(payload, dict) else None
        if not isinstance(types, list) or SOCIAL_SECURITY_CARD not in types:
            return None
        located = disclosure_paths(payload, [d for d in parts[1:] if d])
    except (FormatError, ValueError):
        return None
    claims: dict[str, Any] = {}
    for disclosure, path in located.items():
        if len(path) == 2 and path[0] == "credentialSubject":
            content = load_json(b64url_decode(disclosure), what="disclosure")
            claims[path[1]] = content[2]
    return claims


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
    report = verifier.verify_presentation(
        presentation,
        nonce=nonce,
        audience=audience,
        as_of=as_of,
        presented_at=presented_at,
        strict=False,
    )
    _raise_first_failure(report)
    if len(report.credentials) != 1:
        raise VerificationError(CARD_CHECK, "an e-card proof presents exactly one credential")
    return _card_identity(verifier.trust, report.credentials[0], report, require)


def _raise_first_failure(report: PresentationReport) -> None:
    """`VerificationError` naming the pipeline's first failed check, if any."""
    failure = report.first_failure
    if failure is not None:
        raise VerificationError(failure.name, failure.detail)
    if not report.passed:
        raise VerificationError("format", "nothing was verified")


def _card_identity(
    trust: TrustView,
    credential_report: CredentialReport,
    report: PresentationReport,
    require: Collection[str],
) -> CardIdentity:
    """The identity of a verified e-card's report, or `VerificationError`: `CARD_CHECK` when
    it is not an e-card, names no holder key or does not disclose every claim in `require`;
    `ISSUER_ACTIVE_CHECK` when its card issuer is not active as of the report's time (the
    pipeline judges accreditation at the card's issue time; a card proof speaks for a person
    only while its issuer may vouch for them)."""
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
    try:
        issuer_active = trust.entity_active_at(credential.issuer_id, credential_report.as_of)
    except TrustStateError as err:
        raise VerificationError(
            ISSUER_ACTIVE_CHECK, f"the card issuer's standing cannot be checked: {err}"
        ) from err
    if issuer_active is not True:
        raise VerificationError(
            ISSUER_ACTIVE_CHECK,
            f"card issuer 0x{credential.issuer_id.hex()} was not active at "
            f"{credential_report.as_of} (suspended or revoked)",
        )
    return CardIdentity(
        credential_id=credential.credential_id,
        issuer_id=credential.issuer_id,
        holder_key=credential.holder_key,
        claims=dict(credential.subject),
        as_of=credential_report.as_of,
        report=report,
    )


# ---------------------------------------------------------------- a credential with the e-card


@dataclass(frozen=True, slots=True)
class CardBoundCredential:
    """A credential and the e-card of its holder, verified from one presentation: the
    credential (its subject limited to what was disclosed), the card identity (likewise) and,
    when the verifier asked whether the person is named X, whether they are."""

    credential: VerifiedCredential
    card: CardIdentity
    name_matches: bool | None
    report: PresentationReport = field(repr=False)

    @property
    def holder_thumbprint(self) -> bytes:
        """RFC 7638 thumbprint of the one holder key both are bound to."""
        return self.card.holder_thumbprint


def present_with_card(
    credential: str,
    card: str,
    *,
    holder_key: Jwk,
    disclose: Collection[str] = (),
    card_disclose: Collection[str] = (),
    nonce: str,
    audience: str,
    issued_at: int,
) -> str:
    """One ``vp+jwt`` (VC-JOSE-COSE), signed by `holder_key` over the verifier's `nonce` and
    `audience`, enveloping `credential` and then the e-card `card`: an SD-JWT shows only the
    claims of `disclose` (the credential) or `card_disclose` (the card), nothing else; a
    ``vc+jwt`` credential is shown whole (`disclose` must then be empty).

    Raises `PresentationError` when a chosen claim has no disclosure, the card is not an
    SD-JWT, or the presentation cannot be signed."""
    if credential_media_type(card) != VC_SD_JWT_TYP:
        raise PresentationError("the e-card is a vc+sd-jwt credential")
    if credential_media_type(credential) == VC_SD_JWT_TYP:
        shown = select_sd_jwt(credential, disclose=disclose)
    elif disclose:
        raise PresentationError("a vc+jwt credential is shown whole: nothing to choose")
    else:
        shown = credential
    return present_vc_jwt(
        [shown, select_sd_jwt(card, disclose=card_disclose)],
        holder_key=holder_key,
        nonce=nonce,
        audience=audience,
        issued_at=issued_at,
    )


def verify_with_card(
    verifier: CredentialVerifier,
    presentation: str,
    *,
    nonce: str,
    audience: str,
    as_of: int | None = None,
    presented_at: int | None = None,
    require: Collection[str] = (),
    card_require: Collection[str] = (),
    expected_name: str | None = None,
) -> CardBoundCredential:
    """A credential and the e-card of the same holder from one presentation
    (`present_with_card`), or `VerificationError` naming the failed check.

    The whole pipeline runs for both (as `verify_card_proof` does for the card), then
    `check_card_bound`: see there for what else is checked and what `expected_name` does."""
    report = verifier.verify_presentation(
        presentation, nonce=nonce, audience=audience, as_of=as_of, presented_at=presented_at,
        strict=False,
    )  # fmt: skip
    return check_card_bound(
        report,
        presentation,
        trust=verifier.trust,
        require=require,
        card_require=card_require,
        expected_name=expected_name,
    )


def check_card_bound(
    report: PresentationReport,
    presentation: str,
    *,
    trust: TrustView,
    require: Collection[str] = (),
    card_require: Collection[str] = (),
    expected_name: str | None = None,
) -> CardBoundCredential:
    """What `report` (the verifier's report on `presentation`) proves about one holder, or
    `VerificationError` naming the failed check:

    1. `CARD_CHECK`: the presentation is one ``vp+jwt`` (or ``vp+sd-jwt``);
    2. `SAME_HOLDER_CHECK`: the credentials it envelopes name one holder key (``cnf``) -- read
       before the pipeline's verdict, so that the e-card of someone else is named as such and
       not as the failed key binding it also is;
    3. the pipeline's first failed check (``signature``, ``status``, ``holder_binding``...);
    4. `CARD_CHECK`: exactly one credential and one e-card, the card disclosing `card_require`
       (and ``name`` when `expected_name` is given);
    5. `SAME_HOLDER_CHECK` again on the verified keys;
    6. `DISCLOSURE_CHECK`: the credential discloses every claim in `require`.

    With `expected_name` the answer says whether the card's disclosed name is it
    (``name_matches``, Unicode NFC, surrounding spaces ignored); a different name is an
    answer, not a failure."""
    # 1. one presentation enveloping both
    if report.format not in (VP_JWT_TYP, VP_SD_JWT_TYP):
        raise VerificationError(
            CARD_CHECK, "a credential with the e-card is one vp+jwt enveloping both"
        )
    # 2. one holder, as the enveloped credentials name it
    if len(set(_named_holders(presentation))) > 1:
        raise VerificationError(
            SAME_HOLDER_CHECK, "the e-card is bound to another holder key than the credential"
        )
    # 3. the pipeline
    _raise_first_failure(report)
    # 4. one credential and one e-card
    cards = [c for c in report.credentials if _is_card(c)]
    others = [c for c in report.credentials if not _is_card(c)]
    if len(cards) != 1 or len(others) != 1:
        raise VerificationError(
            CARD_CHECK,
            f"expected one credential and one e-card, got {len(others)} credential(s) and "
            f"{len(cards)} e-card(s)",
        )
    wanted = [*card_require, *(["name"] if expected_name is not None else [])]
    card = _card_identity(trust, cards[0], report, list(dict.fromkeys(wanted)))
    credential = others[0].credential
    assert credential is not None  # a report that passed carries its credential
    # 5. one holder, verified
    if credential.holder_key is None or (
        credential.holder_key.thumbprint() != card.holder_thumbprint
    ):
        raise VerificationError(
            SAME_HOLDER_CHECK, "the credential is not bound to the e-card's holder key"
        )
    # 6. what the verifier asked of the credential
    missing = [name for name in require if name not in credential.subject]
    if missing:
        raise VerificationError(
            DISCLOSURE_CHECK, "the credential does not disclose " + ", ".join(missing)
        )
    name_matches = None
    if expected_name is not None:
        name_matches = _same_name(card.claims["name"], expected_name)
    return CardBoundCredential(
        credential=credential, card=card, name_matches=name_matches, report=report
    )


def _is_card(report: CredentialReport) -> bool:
    return report.credential is not None and (
        report.credential.credential_type == SOCIAL_SECURITY_CARD
    )


def _same_name(disclosed: object, expected: str) -> bool:
    if not isinstance(disclosed, str):
        return False
    a, b = (unicodedata.normalize("NFC", value).strip().encode() for value in (disclosed, expected))
    return hmac.compare_digest(a, b)


def _named_holders(presentation: str) -> list[bytes]:
    """The thumbprints of the holder keys (``cnf``) the credentials enveloped in a ``vp+jwt``
    name, unverified (used only to refuse); what cannot be read is left to the pipeline."""
    try:
        payload = read_unverified_payload(presentation.split("~", 1)[0])
        entries = payload.get("verifiableCredential")
        if not isinstance(entries, list):
            return []
        holders = []
        for entry in entries:
            _typ, token = unenvelope(entry, ENVELOPED_VC_TYPE, (VC_JWT_TYP, VC_SD_JWT_TYP))
            cnf = read_unverified_payload(token.split("~", 1)[0]).get("cnf")
            jwk = cnf.get("jwk") if isinstance(cnf, dict) else None
            if isinstance(jwk, dict):
                holders.append(Jwk.from_jwk(jwk).thumbprint())
        return holders
    except (WalletError, ValueError, AttributeError):
        return []


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
