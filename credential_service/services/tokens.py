"""OAuth2 client credentials with ``private_key_jwt`` (RFC 7523) and the service's own access
tokens.

A client proves possession of a key registered for it by signing an assertion; the service
answers with a short-lived access token signed by its own key: Ed25519 (``EdDSA``), or SM2
(``SM2SM3``) in the national profile. Algorithms are pinned on both sides: the client's by its
registered key, the service's by its own key. Every token, ours and the clients' assertions,
is signed and verified through `wallet_sdk.jose` (one JWS stack, SM2 included); this module
checks the JWT claims (RFC 7519) on top.

An access token names the client key it was obtained with (claim ``client_key``, the key's
RFC 7638 thumbprint); every request checks that key is still valid, so ending or revoking a
key also ends the tokens issued under it (at once in the worker that made the change, within
``OrganisationStandingCache.ttl`` in the others).
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from credential_service.errors import (
    ClientAuthenticationFailed,
    ErrorCode,
    InvalidScope,
    NotAuthenticated,
    TokenRequestError,
    UnsupportedGrantType,
)
from credential_service.jwk import parse_public_jwk
from credential_service.models import (
    AccessTokenPublic,
    KeyAlgorithm,
    KeyPurpose,
    Organisation,
    OrganisationKey,
    OrganisationKind,
    OrganisationStatus,
    PublicJwk,
    UsedAssertion,
    as_utc,
)
from credential_service.services.ledger import TrustLedger
from credential_service.services.organisations import (
    AccreditationStanding,
    accreditation_standing,
    find_organisation,
)
from wallet_sdk.errors import VerificationError
from wallet_sdk.jose import (
    Jwk,
    b64url_decode,
    read_unverified_header,
    read_unverified_payload,
    sign_compact,
    verify_compact,
)

GRANT_TYPE = "client_credentials"
CLIENT_ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ACCESS_TOKEN_TYPE = "at+jwt"
CLIENT_KEY_CLAIM = "client_key"
_CLIENT_AUTHENTICATION = KeyPurpose.CLIENT_AUTHENTICATION.value
_ALLOWED_ASSERTION_ALGS = frozenset(a.value for a in KeyAlgorithm)
_KEY_BEARING_HEADERS = ("jwk", "jku", "x5c", "x5u")

SCOPES_BY_ROLE: dict[OrganisationKind, frozenset[str]] = {
    OrganisationKind.MINISTRY: frozenset(
        {
            "organisations:read",
            "organisations:accredit",
            "organisations:status",
            "keys:write",
            "types:publish",
        }
    ),
    OrganisationKind.PROVINCE: frozenset(
        {"organisations:read", "organisations:accredit", "organisations:status", "keys:write"}
    ),
    OrganisationKind.ISSUER: frozenset(
        {"organisations:read", "keys:write", "credentials:issue", "credentials:status"}
    ),
    OrganisationKind.EMPLOYER: frozenset({"organisations:read", "keys:write", "contracts:write"}),
    OrganisationKind.DATA_USER: frozenset({"organisations:read", "keys:write", "consents:check"}),
    OrganisationKind.COURT: frozenset({"organisations:read", "keys:write", "evidence:verify"}),
    OrganisationKind.CARD_ISSUER: frozenset(
        {"organisations:read", "keys:write", "credentials:issue", "credentials:status"}
    ),
}


@dataclass(frozen=True)
class TokenPolicy:
    """Who we are and how long things live; built from ``Settings``."""

    issuer: str
    token_endpoint: str
    access_token_lifetime: timedelta
    assertion_max_lifetime: timedelta
    leeway: timedelta

    @property
    def audience(self) -> str:
        """Audience of the access tokens: the API under the issuer."""
        return f"{self.issuer.rstrip('/')}/v1"


@dataclass(frozen=True)
class ServiceTokenKey:
    """The service's token-signing key (Ed25519, or SM2 in the national profile) and its
    ``kid`` (RFC 7638 thumbprint). Its tokens verify under its own algorithm only."""

    key: Jwk
    """The private key."""

    def __post_init__(self) -> None:
        if not self.key.has_private:
            raise ValueError("a service token key needs its private part")

    @cached_property
    def kid(self) -> str:
        return self.key.thumbprint_b64()

    @property
    def algorithm(self) -> str:
        """The JOSE ``alg`` of every token this key signs (``EdDSA`` or ``SM2SM3``)."""
        return self.key.algorithm.value

    def sign(self, claims: Mapping[str, Any], *, typ: str) -> str:
        """A compact JWT of `claims`, ``typ`` and ``kid`` in its header."""
        payload = json.dumps(claims, separators=(",", ":"), sort_keys=True).encode()
        return sign_compact(payload, self.key, headers={"kid": self.kid, "typ": typ})

    def verify(
        self,
        token: str,
        *,
        typ: str,
        audience: str | None,
        issuer: str | None,
        leeway: timedelta,
        now: float | None = None,
    ) -> dict[str, Any]:
        """The claims of one of our tokens of type `typ`. Raises `JwtRejected`."""
        return verify_jwt(
            token,
            self.key,
            typ=typ,
            audiences=None if audience is None else (audience,),
            issuer=issuer,
            leeway=leeway,
            now=time.time() if now is None else now,
        )


class JwtRejected(Exception):
    """A JWT that fails `verify_jwt`; ``reason`` says which check: ``signature`` (the
    signature does not verify), ``token`` (malformed, other algorithm or ``typ``, forbidden
    header: `wallet_sdk.jose`'s check in the message), ``claims`` (a required claim missing
    or of the wrong type), ``not_yet_valid`` (``iat`` or ``nbf`` in the future), ``expired``,
    ``issuer``, ``audience``."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


REQUIRED_CLAIMS = ("iss", "sub", "aud", "exp", "iat", "jti")


def verify_jwt(
    token: str,
    key: Jwk,
    *,
    typ: str | None,
    audiences: Sequence[str] | None,
    issuer: str | None,
    leeway: timedelta,
    now: float,
    require: Sequence[str] = REQUIRED_CLAIMS,
    check_times: bool = True,
) -> dict[str, Any]:
    """Verify a compact JWT signed by `key`, under `key`'s own algorithm only, then its claims
    (RFC 7519), in PyJWT's order: required claims; ``iat`` and ``nbf`` not after `now` +
    `leeway`; ``exp`` not before `now` - `leeway`; ``iss`` equal to `issuer`; ``aud`` (a
    string or a list) naming one of `audiences`. `None` skips the issuer or audience check;
    `check_times` false skips the three time checks (a key whose validity ended is told apart
    by its signature alone). Raises `JwtRejected`.
    """
    # 1. signature, algorithm pinned by the key, typ, no embedded keys (wallet_sdk.jose)
    try:
        claims = verify_compact(token, key, algorithms=[key.algorithm], typ=typ).payload_json()
    except VerificationError as err:
        reason = "signature" if err.check == "signature" else "token"
        raise JwtRejected(reason, f"{err.check}: {err}") from err
    except ValueError as err:  # FormatError: the payload is not a JSON object
        raise JwtRejected("token", f"format: {err}") from err
    # 2. required claims, and times that are numbers (a NumericDate)
    missing = [name for name in require if name not in claims]
    if missing:
        raise JwtRejected("claims", f"the token lacks the claim {missing[0]!r}")
    for name in ("iat", "nbf", "exp"):
        if name in claims and not _is_numeric_date(claims[name]):
            raise JwtRejected("claims", f"{name} must be a number (NumericDate)")
    # 3. times
    slack = leeway.total_seconds()
    if check_times:
        for name in ("iat", "nbf"):
            if name in claims and claims[name] > now + slack:
                raise JwtRejected("not_yet_valid", f"the token is not valid yet ({name})")
        if "exp" in claims and claims["exp"] <= now - slack:
            raise JwtRejected("expired", "the token has expired")
    # 4. issuer and audience
    if issuer is not None and claims.get("iss") != issuer:
        raise JwtRejected("issuer", "the token's issuer is not the expected one")
    if audiences is not None:
        aud = claims.get("aud")
        named = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else None
        if named is None or not any(isinstance(a, str) and a in audiences for a in named):
            raise JwtRejected("audience", "the token is not addressed to this audience")
    return claims


@dataclass(frozen=True)
class IssuedAccessToken:
    client_id: str
    response: AccessTokenPublic


@dataclass(frozen=True)
class Principal:
    """The authenticated organisation behind an access token."""

    organisation_id: int
    credit_code: str
    role: OrganisationKind
    scopes: frozenset[str]


def _is_numeric_date(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _reject(message: str, code: ErrorCode) -> ClientAuthenticationFailed:
    return ClientAuthenticationFailed(message, code=code)


def issue_access_token(
    *,
    session: Session,
    ledger: TrustLedger,
    policy: TokenPolicy,
    token_key: ServiceTokenKey,
    grant_type: str | None,
    client_assertion_type: str | None,
    client_assertion: str | None,
    client_id: str | None,
    scope: str | None,
    now: datetime,
) -> IssuedAccessToken:
    """Authenticate a client by its assertion and issue an access token.

    Raises ``UnsupportedGrantType``, ``TokenRequestError`` (missing or wrong parameters),
    ``InvalidScope``, and ``ClientAuthenticationFailed`` with one code per reason (see
    ``ErrorCode.ASSERTION_*`` and ``ErrorCode.CLIENT_*``; an assertion signed by a key whose
    validity was ended is ``client_key_expired``, by a revoked key ``client_key_revoked``, the
    two told apart by ``ledger``, which raises ``LedgerUnavailable`` when no node answers).
    An assertion whose header carries a key (``jwk``, ``jku``, ``x5c``, ``x5u``) is
    ``assertion_header_not_allowed``; one whose ``exp``, ``iat`` or ``nbf`` is not a number,
    ``assertion_malformed``. A client whose accreditor (or one further up) is suspended or
    revoked is ``client_suspended`` / ``client_revoked``, the message naming the accreditor.
    """
    # 1. the request itself
    if grant_type != GRANT_TYPE:
        raise UnsupportedGrantType(f"grant_type must be {GRANT_TYPE}")
    if client_assertion_type != CLIENT_ASSERTION_TYPE:
        raise TokenRequestError(f"client_assertion_type must be {CLIENT_ASSERTION_TYPE}")
    if not client_assertion:
        raise TokenRequestError("client_assertion is required")
    # 2. the algorithm, before anything else is believed
    try:
        header = read_unverified_header(client_assertion)
        claims = read_unverified_payload(client_assertion)
    except VerificationError as err:
        raise _reject("the client assertion is not a JWT", ErrorCode.ASSERTION_MALFORMED) from err
    alg = header.get("alg")
    if not isinstance(alg, str) or alg.lower() == "none":
        raise _reject("unsigned client assertions are refused", ErrorCode.ASSERTION_ALG_NONE)
    if alg not in _ALLOWED_ASSERTION_ALGS:
        raise _reject(f"algorithm {alg} is not allowed", ErrorCode.ASSERTION_ALG_NOT_ALLOWED)
    # The key comes from the registry only: a header that carries or points at a key is
    # refused even when the registered key signed it (RFC 8725 section 3.10).
    for name in _KEY_BEARING_HEADERS:
        if name in header:
            raise _reject(
                f"the assertion header {name} is not allowed",
                ErrorCode.ASSERTION_HEADER_NOT_ALLOWED,
            )
    # RFC 7519 wants a NumericDate: "exp": "9999999999" is no time.
    for name in ("exp", "iat", "nbf"):
        if name in claims and not _is_numeric_date(claims[name]):
            raise _reject(f"{name} must be a number (NumericDate)", ErrorCode.ASSERTION_MALFORMED)
    # 3. iss = sub = client_id
    issuer, subject = claims.get("iss"), claims.get("sub")
    if not isinstance(issuer, str) or issuer != subject or (client_id and client_id != issuer):
        raise _reject("iss and sub must both be the client_id", ErrorCode.ASSERTION_ISSUER_MISMATCH)
    organisation = find_organisation(session=session, credit_code=issuer)
    if organisation is None or organisation.id is None:
        raise _reject("unknown client", ErrorCode.CLIENT_UNKNOWN)
    # 4. a key registered for this client, valid now, of the algorithm the header names
    registered = _registered_keys(
        session=session, organisation=organisation, alg=alg, kid=header.get("kid")
    )
    # Only client-authentication keys authenticate a client: a document-signing key is
    # for labour contracts, and a key of one purpose never stands in for another.
    wrong_purpose = [key for key in registered if key.purpose != _CLIENT_AUTHENTICATION]
    registered = [key for key in registered if key.purpose == _CLIENT_AUTHENTICATION]
    candidates = [key for key in registered if _valid_at(key, now)]
    ended = [key for key in registered if _ended_by(key, now)]
    if not candidates and wrong_purpose and header.get("kid") is not None:
        raise _reject(
            f"key {header['kid']} is registered for {wrong_purpose[0].purpose}, not for client "
            "authentication",
            ErrorCode.ASSERTION_KEY_WRONG_PURPOSE,
        )
    if not candidates:
        _refuse_if_signed_by_ended_key(client_assertion, ended=ended, ledger=ledger, now=now)
        raise _reject(
            "no key registered for this client matches the assertion",
            ErrorCode.ASSERTION_KEY_NOT_REGISTERED,
        )
    # 5. signature and claims, algorithm pinned by the registered key
    try:
        verified, client_key = _verify_assertion(
            client_assertion, candidates=candidates, client_id=issuer, policy=policy, now=now
        )
    except ClientAuthenticationFailed as err:
        if err.code == ErrorCode.ASSERTION_SIGNATURE_INVALID:
            _refuse_if_signed_by_ended_key(client_assertion, ended=ended, ledger=ledger, now=now)
        raise
    expires = int(verified["exp"])
    if expires - int(verified["iat"]) > policy.assertion_max_lifetime.total_seconds():
        raise _reject(
            "the assertion lives longer than allowed", ErrorCode.ASSERTION_LIFETIME_TOO_LONG
        )
    jti = verified.get("jti")
    if not isinstance(jti, str) or not 0 < len(jti) <= 255:
        raise _reject("jti must be a string of 1 to 255 characters", ErrorCode.ASSERTION_MALFORMED)
    # 6. the organisation's standing, over its whole accreditation path
    standing = accreditation_standing(session=session, organisation=organisation)
    if standing.status == OrganisationStatus.SUSPENDED:
        raise _reject(standing.reason(), ErrorCode.CLIENT_SUSPENDED)
    if not standing.active:
        raise _reject(standing.reason(), ErrorCode.CLIENT_REVOKED)
    # 7. scopes
    role = OrganisationKind(organisation.kind)
    allowed = SCOPES_BY_ROLE[role]
    requested = frozenset(scope.split()) if scope else allowed
    if not requested or not requested <= allowed:
        raise InvalidScope(
            "requested scope exceeds the client's role", detail=sorted(requested - allowed)
        )
    # 8. one use per jti: a unique row until the assertion expires
    _consume_jti(session=session, client_id=issuer, jti=jti, expires=expires, now=now)
    lifetime = int(policy.access_token_lifetime.total_seconds())
    token = token_key.sign(
        {
            "iss": policy.issuer,
            "sub": organisation.credit_code,
            "aud": policy.audience,
            "client_id": organisation.credit_code,
            "role": role.value,
            "scope": " ".join(sorted(requested)),
            "iat": int(now.timestamp()),
            "exp": int(now.timestamp()) + lifetime,
            "jti": uuid.uuid4().hex,
            CLIENT_KEY_CLAIM: client_key.key_id,
        },
        typ=ACCESS_TOKEN_TYPE,
    )
    return IssuedAccessToken(
        client_id=organisation.credit_code,
        response=AccessTokenPublic(
            access_token=token, expires_in=lifetime, scope=" ".join(sorted(requested))
        ),
    )


def _registered_jwk(key: OrganisationKey) -> Jwk:
    """The registered public key as a `Jwk` (its algorithm pinned by its curve)."""
    return parse_public_jwk(PublicJwk.model_validate(key.public_jwk)).key


def _registered_keys(
    *, session: Session, organisation: Organisation, alg: str, kid: object
) -> list[OrganisationKey]:
    query = select(OrganisationKey).where(
        OrganisationKey.organisation_id == organisation.id, OrganisationKey.alg == alg
    )
    if kid is not None:
        query = query.where(OrganisationKey.key_id == str(kid))
    return list(session.exec(query.order_by(col(OrganisationKey.id))).all())


def _valid_at(key: OrganisationKey, now: datetime) -> bool:
    return as_utc(key.valid_from) <= now and not _ended_by(key, now)


def _ended_by(key: OrganisationKey, now: datetime) -> bool:
    return key.valid_until is not None and as_utc(key.valid_until) <= now


def _refuse_if_signed_by_ended_key(
    assertion: str, *, ended: list[OrganisationKey], ledger: TrustLedger, now: datetime
) -> None:
    """Raise ``client_key_revoked`` / ``client_key_expired`` when the assertion's signature
    verifies with a key whose validity has ended; return otherwise.

    Only the signature is checked: the code tells a key holder why its key no longer works,
    and nobody else learns anything about a key from it. The database keeps one end time for
    both; the chain tells whether the key was revoked (compromise) or its validity ended.
    """
    for key in ended:
        try:
            verify_jwt(
                assertion,
                _registered_jwk(key),
                typ=None,
                audiences=None,
                issuer=None,
                leeway=timedelta(0),
                now=now.timestamp(),
                require=(),
                check_times=False,
            )
        except JwtRejected:
            continue
        on_chain = ledger.key_on_chain(key_id=b64url_decode(key.key_id))
        if on_chain is not None and 0 < on_chain.revoked_at <= int(now.timestamp()):
            raise _reject("the client key was revoked", ErrorCode.CLIENT_KEY_REVOKED)
        raise _reject("the client key's validity has ended", ErrorCode.CLIENT_KEY_EXPIRED)


def _verify_assertion(
    assertion: str,
    *,
    candidates: list[OrganisationKey],
    client_id: str,
    policy: TokenPolicy,
    now: datetime,
) -> tuple[dict[str, Any], OrganisationKey]:
    """The verified claims and the key that verified them."""
    for key in candidates:
        try:
            claims = verify_jwt(
                assertion,
                _registered_jwk(key),
                typ=None,
                audiences=(policy.token_endpoint, policy.issuer),
                issuer=client_id,
                leeway=policy.leeway,
                now=now.timestamp(),
            )
        except JwtRejected as err:
            if err.reason == "signature":
                continue
            if err.reason == "expired":
                raise _reject("the assertion has expired", ErrorCode.ASSERTION_EXPIRED) from err
            if err.reason == "audience":
                raise _reject(
                    "the assertion is not addressed to this token endpoint",
                    ErrorCode.ASSERTION_WRONG_AUDIENCE,
                ) from err
            if err.reason == "not_yet_valid":
                raise _reject(
                    "the assertion is not valid yet", ErrorCode.ASSERTION_NOT_YET_VALID
                ) from err
            raise _reject(
                f"the assertion is invalid: {err}", ErrorCode.ASSERTION_MALFORMED
            ) from err
        return claims, key
    raise _reject(
        "the assertion's signature does not verify", ErrorCode.ASSERTION_SIGNATURE_INVALID
    )


def _consume_jti(
    *, session: Session, client_id: str, jti: str, expires: int, now: datetime
) -> None:
    # Expired assertions are refused by their exp already, so their jti rows can go.
    session.exec(
        delete(UsedAssertion).where(col(UsedAssertion.expires_at) < now - timedelta(minutes=5))
    )
    expires_at = datetime.fromtimestamp(expires, tz=now.tzinfo)
    session.add(UsedAssertion(client_id=client_id, jti=jti, expires_at=expires_at))
    try:
        session.commit()
    except IntegrityError as err:
        session.rollback()
        raise _reject("this assertion was used already", ErrorCode.ASSERTION_REPLAYED) from err


@dataclass(frozen=True)
class OrganisationStanding:
    """What authenticating a token needs to know of an organisation: its id, role, status
    over its whole accreditation path (suspended when it or any accreditor is), the credit
    codes of its accreditors (``accreditors``, nearest first, so that a status change of one
    of them drops the entry), and when each of its client keys stops being valid
    (``key_ends``: key id to unix time, ``None`` when open-ended)."""

    organisation_id: int
    credit_code: str
    role: OrganisationKind
    status: OrganisationStatus
    key_ends: Mapping[str, float | None] = field(default_factory=dict)
    accreditors: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        organisation: Organisation,
        keys: Sequence[OrganisationKey] = (),
        *,
        path: AccreditationStanding,
    ) -> OrganisationStanding | None:
        """The standing of ``organisation`` whose `AccreditationStanding` is ``path``."""
        if organisation.id is None:
            return None
        return cls(
            organisation_id=organisation.id,
            credit_code=organisation.credit_code,
            role=OrganisationKind(organisation.kind),
            status=path.status,
            accreditors=path.accreditors,
            key_ends={
                key.key_id: as_utc(key.valid_until).timestamp() if key.valid_until else None
                for key in keys
                if key.organisation_id == organisation.id
            },
        )


def read_standing(*, session: Session, credit_code: str) -> OrganisationStanding | None:
    """The organisation's standing as the database has it now, over its whole accreditation
    path; ``None`` when unknown."""
    organisation = find_organisation(session=session, credit_code=credit_code)
    if organisation is None:
        return None
    keys = session.exec(
        select(OrganisationKey).where(OrganisationKey.organisation_id == organisation.id)
    ).all()
    path = accreditation_standing(session=session, organisation=organisation)
    return OrganisationStanding.of(organisation, keys, path=path)


class OrganisationStandingCache:
    """Organisations' standing per credit code, kept for at most `ttl` seconds.

    Authenticating a verification request needs only whether the organisation behind a token
    is still active (with its whole accreditation path); reading that from the database on
    every request costs more than the verification itself. A status change made in this
    process is seen at once, for the organisation and everything below it (the route that
    makes it calls `forget`); one made by another worker process is seen within `ttl`. Access
    tokens live minutes, so this bounds how long a suspension takes to bite far below that.
    Unknown organisations are not cached.
    """

    def __init__(
        self,
        *,
        ttl: float = 2.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < ttl <= 2.0:
            raise ValueError("the standing cache TTL must be in (0, 2] seconds")
        self.ttl = ttl
        self._max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, OrganisationStanding]] = {}
        self._lock = threading.Lock()

    def get(self, credit_code: str) -> OrganisationStanding | None:
        """The cached standing, ``None`` when absent or older than the TTL."""
        entry = self._entries.get(credit_code)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            return None
        return entry[1]

    def put(self, standing: OrganisationStanding) -> None:
        expires = self._clock() + self.ttl
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[standing.credit_code] = (expires, standing)

    def forget(self, credit_code: str) -> None:
        """Drop one organisation and every organisation it accredited (directly or further
        down), so their next requests read the database: a suspension of a province bites its
        employers at once too."""
        with self._lock:
            self._entries.pop(credit_code, None)
            below = [
                code
                for code, (_, standing) in self._entries.items()
                if credit_code in standing.accreditors
            ]
            for code in below:
                del self._entries[code]


@dataclass(frozen=True)
class AccessTokenClaims:
    """The claims of one of our access tokens whose signature and lifetime check out."""

    subject: str
    scope: str
    expires_at: int
    client_key: str | None = None
    """The client key the token was obtained with; every token we decode has one."""


class VerifiedTokenCache:
    """Claims of access tokens whose signature and claims verified, by the token's exact text.

    A token's claims cannot change, so re-checking its signature on every request proves
    nothing new; only its expiry moves, and `get` checks that with the same leeway as the
    full check. Bounded: when full it starts over.
    """

    def __init__(self, *, leeway: timedelta, max_entries: int = 10_000) -> None:
        self._leeway = leeway.total_seconds()
        self._max_entries = max_entries
        self._entries: dict[str, AccessTokenClaims] = {}
        self._lock = threading.Lock()

    def get(self, token: str, *, now: float | None = None) -> AccessTokenClaims | None:
        """The cached claims, ``None`` when absent or expired."""
        claims = self._entries.get(token)
        if claims is None:
            return None
        if (time.time() if now is None else now) >= claims.expires_at + self._leeway:
            with self._lock:
                self._entries.pop(token, None)
            return None
        return claims

    def put(self, token: str, claims: AccessTokenClaims) -> None:
        with self._lock:
            if len(self._entries) >= self._max_entries:
                self._entries.clear()
            self._entries[token] = claims


def decode_access_token(
    *, policy: TokenPolicy, token_key: ServiceTokenKey, token: str
) -> AccessTokenClaims:
    """Check one of our access tokens without touching the database (CPU only).

    Raises ``NotAuthenticated`` for every failure alike: bad signature, other algorithm or
    ``typ``, wrong audience or issuer, expired, missing claims (``client_key`` included).
    """
    try:
        claims = token_key.verify(
            token,
            typ=ACCESS_TOKEN_TYPE,
            audience=policy.audience,
            issuer=policy.issuer,
            leeway=policy.leeway,
        )
    except JwtRejected as err:
        raise NotAuthenticated() from err
    subject, scope, expires = claims.get("sub"), claims.get("scope"), claims.get("exp")
    client_key = claims.get(CLIENT_KEY_CLAIM)
    if (
        not isinstance(subject, str)
        or not isinstance(scope, str)
        or not isinstance(expires, int)
        or not isinstance(client_key, str)
    ):
        raise NotAuthenticated()
    return AccessTokenClaims(
        subject=subject, scope=scope, expires_at=expires, client_key=client_key
    )


def principal_of(
    *, claims: AccessTokenClaims, standing: OrganisationStanding | None, now: float | None = None
) -> Principal:
    """The principal, when the organisation named by the token is known and active and the
    client key the token was obtained with is still valid at ``now`` (unix time; default the
    clock).

    Raises ``NotAuthenticated`` otherwise (unknown, suspended, revoked, key ended alike).
    """
    if (
        standing is None
        or standing.credit_code != claims.subject
        or standing.status != OrganisationStatus.ACTIVE
    ):
        raise NotAuthenticated()
    if claims.client_key is not None:
        if claims.client_key not in standing.key_ends:
            raise NotAuthenticated()
        ends = standing.key_ends[claims.client_key]
        if ends is not None and (time.time() if now is None else now) >= ends:
            raise NotAuthenticated()
    return Principal(
        organisation_id=standing.organisation_id,
        credit_code=standing.credit_code,
        role=standing.role,
        scopes=frozenset(claims.scope.split()) & SCOPES_BY_ROLE[standing.role],
    )


def authenticate_access_token(
    *, session: Session, policy: TokenPolicy, token_key: ServiceTokenKey, token: str
) -> Principal:
    """The principal behind one of our access tokens.

    Raises ``NotAuthenticated`` for every failure alike: bad signature, other algorithm,
    wrong audience or issuer, expired, unknown or no longer active organisation.
    """
    claims = decode_access_token(policy=policy, token_key=token_key, token=token)
    return principal_of(
        claims=claims, standing=read_standing(session=session, credit_code=claims.subject)
    )
