"""Verifying credentials and presentations against the chain: a pipeline of named checks.

Every verification produces a report with each check passed, failed or skipped, and why. In
strict mode (the default) a failure raises `CredentialVerificationError` (a
`VerificationError`) naming the first failed check, with the report attached. Checks, in order:

1. ``format``: the token parses (size limit, compact JWS or SD-JWT, JSON without duplicate
   members), its ``typ`` is the expected one, the header carries no key material (``jwk``,
   ``jku``, ``x5c``, ``x5u``) and no ``crit``, a ``cty`` if present is ``vc`` (``vp`` on a
   presentation), a ``hrss_digest_alg`` if present names a known hash (``sm3``), SD-JWT
   disclosures match their digests, and the claims are a VC Data Model 2.0 credential
   (``@context`` an array starting with the v2 context, ``type`` one string or an array, no
   ``vc`` or ``vp`` claim) of one registered type whose subject matches the type's JSON
   Schema. A presentation's enveloped credentials each name their true media type.
2. ``algorithm_allowlist``: ``alg`` is in the verifier's allowlist (never ``none``, never
   HMAC). The allowlist comes from the policy, never from the token.
3. ``registration``: the credential's entry names the trusted `StatusRegistry`, where its id
   was registered by the issuer bound to this very token (the digest of the issuer-signed
   JWT, for an SD-JWT its issuer-signed part: SHA-256, or the hash its header names), so an
   id never carries other
   content; and the claimed issue time lies within the policy's tolerance of the block that
   registered it (not earlier by more than ``issue_time_tolerance``, not later by more than
   ``clock_skew``). That block's time is the issue time the chain witnessed.
4. ``issuer_accredited``: the issuer is registered in `TrustRegistry`, and was active (with
   its province) and accredited for this credential type at the witnessed issue time.
5. ``key_valid``: ``kid`` names a key registered on chain to this issuer for credential
   signing (a client-authentication or document-signing key never signs a credential),
   valid at the witnessed issue time (inside its window, not revoked, its entity active).
6. ``signature``: the JWS verifies under that on-chain key, with the algorithm pinned by the
   key's type (a header ``alg`` of another family is algorithm confusion).
7. ``status``: the credential is active at the "as of" time (not suspended, not revoked).
8. ``anchoring``: with an anchor receipt, it proves the credential's digest was anchored (via
   `wallet_sdk.verify_receipt`, a receipt of the credential's digest hash), no earlier than
   the issue time claims, and before any key
   revocation. Without one: skipped, or failed when the policy requires anchoring.
9. ``validity_period``: issued no later than, valid from no later than, and not expired at the
   "as of" time (with the policy's clock skew).
10. ``holder_binding``: for presentations, the key binding JWT (SD-JWT), the ``vp+jwt`` or the
    ``vp+sd-jwt`` is signed by the key in the credential's ``cnf``, names the verifier's nonce
    and audience, is fresh, and (SD-JWT) its ``sd_hash`` covers exactly the presented
    disclosures. Skipped when a bare credential is verified.

Checks 3 to 5 read claims before the signature is checked because the key to check it with
comes from the chain through them; a failed check 6 marks everything after it skipped.

The issue time ``iat`` is the signer's claim; every "as of issue time" question (accreditation,
key validity) is asked at the time the chain witnessed instead, so backdating ``iat`` to before
a type was withdrawn or a key revoked gains nothing: the claim must agree with the chain
within the tolerance, and the chain's time is what is judged.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from json.scanner import make_scanner
from typing import Any, cast

from wallet_sdk._key_purpose import KeyPurpose, purpose_name
from wallet_sdk.checks import CheckFailed as _Failed
from wallet_sdk.checks import CheckNotApplicable, CheckReport, CheckResult, CheckRunner, CheckStatus
from wallet_sdk.credentials._model import (
    CONTENT_TYPES,
    ENVELOPED_VC_TYPE,
    FORBIDDEN_CLAIMS,
    KB_JWT_TYP,
    STATUS_ENTRY_TYPE,
    VC_JWT_TYP,
    VC_SD_JWT_TYP,
    VP_JWT_TYP,
    VP_SD_JWT_TYP,
    StatusRegistryRef,
    credential_digest,
    credential_digest_algorithm,
    credential_id_from_uri,
    entity_id_from_uri,
    parse_rfc3339,
    require_v2_context,
    rfc3339,
    sha256_b64,
    unenvelope,
    vc_types,
)
from wallet_sdk.credentials._sd_jwt import compact_from_json
from wallet_sdk.credentials.trust_list import NoChain, StaticTrustList
from wallet_sdk.credentials.trust_state import TrustView
from wallet_sdk.credentials.types import CredentialType, CredentialTypeRegistry, default_registry
from wallet_sdk.errors import FormatError, JsonTooDeep, VerificationError
from wallet_sdk.jose import (
    DEFAULT_MAX_TOKEN_BYTES,
    SIGNING_ALGORITHMS,
    Curve,
    Jwk,
    JwsAlgorithm,
    _verify_raw,
    b64url_encode,
)
from wallet_sdk.merkle import HashAlgorithm
from wallet_sdk.nesting import check_json_depth, load_json
from wallet_sdk.receipt import AnchorReceipt, verify_receipt

__all__ = [
    "CHECKS",
    "CredentialReport",
    "CredentialVerificationError",
    "CredentialVerifier",
    "PresentationReport",
    "VerificationPolicy",
    "VerifiedCredential",
]

CHECKS = (
    "format",
    "algorithm_allowlist",
    "registration",
    "issuer_accredited",
    "key_valid",
    "signature",
    "status",
    "anchoring",
    "validity_period",
    "holder_binding",
)
_STATUS_NAMES = {0: "not registered", 1: "active", 2: "suspended", 3: "revoked"}
_UNTRUSTED_HEADERS = ("jwk", "jku", "x5c", "x5u", "x5t", "x5t#S256")
_UNTRUSTED_HEADER_SET = frozenset(_UNTRUSTED_HEADERS)


# Reports give times as RFC 3339 (UTC); a busy verifier reports the same few seconds over and
# over, so the formatting is remembered.
_time_text: Callable[[int], str] = lru_cache(maxsize=4096)(rfc3339)


class CredentialVerificationError(VerificationError):
    """A credential or presentation failed verification; ``check`` names the first failed
    check and ``credential_report`` carries the whole report."""

    def __init__(
        self, check: str, message: str, report: CredentialReport | PresentationReport
    ) -> None:
        super().__init__(check, message)
        self.credential_report = report


@dataclass(frozen=True, slots=True)
class VerificationPolicy:
    """What a verifier accepts. Raises `FormatError` when built with an empty or unknown
    algorithm allowlist (an empty allowlist never means "allow all")."""

    algorithms: frozenset[JwsAlgorithm] = SIGNING_ALGORITHMS
    max_token_bytes: int = DEFAULT_MAX_TOKEN_BYTES
    clock_skew: int = 60
    max_presentation_age: int = 300
    issue_time_tolerance: int = 300
    """How far (seconds) a claimed issue time may precede the block that registered the
    credential: issuance signs first and registers in batches after."""
    require_anchoring: bool = False
    validate_schema: bool = True

    def __post_init__(self) -> None:
        try:
            algorithms = frozenset(JwsAlgorithm(a) for a in self.algorithms)
        except ValueError as err:
            raise FormatError(f"unsupported algorithm in allowlist: {err}") from err
        if not algorithms:
            raise FormatError("the algorithm allowlist is empty")
        object.__setattr__(self, "algorithms", algorithms)
        if (
            self.max_token_bytes <= 0
            or self.clock_skew < 0
            or self.max_presentation_age <= 0
            or self.issue_time_tolerance < 0
        ):
            raise FormatError("limits must be positive")


@dataclass(frozen=True, slots=True)
class VerifiedCredential:
    """What a verified credential says (subject claims limited to those disclosed)."""

    format: str
    credential_id: bytes
    issuer_id: bytes
    credential_type: str
    type_id: bytes
    issued_at: int
    valid_from: int
    valid_until: int | None
    key_id: bytes
    digest: bytes
    subject: Mapping[str, Any]
    claims: Mapping[str, Any] = field(repr=False)
    holder_key: Jwk | None = None
    issuer: str = ""
    """The ``issuer`` as the credential names it (with a static trust list, `issuer_id`,
    `credential_id` and `type_id` are empty unless the credential uses this service's forms)."""


@dataclass(frozen=True, slots=True)
class CredentialReport(CheckReport):
    """Step-by-step report of one credential verification, checks in `CHECKS` order."""

    format: str | None
    as_of: int
    checks: tuple[CheckResult, ...]
    credential: VerifiedCredential | None

    @property
    def skipped(self) -> tuple[str, ...]:
        """The checks not run or not applicable: a verdict that passed says it passed
        without them (`verdict`)."""
        return tuple(c.name for c in self.checks if c.status is CheckStatus.SKIPPED)

    @property
    def verdict(self) -> str:
        """One line: ``verified``, ``verified; skipped: ...`` or ``not verified: <check>``."""
        return _verdict(self.first_failure, self.skipped, bool(self.checks))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready report."""
        credential = self.credential
        return {
            "verified": self.passed,
            "verdict": self.verdict,
            "skipped": list(self.skipped),
            "format": self.format,
            "as_of": _time_text(self.as_of),
            "checks": [
                {"check": c.name, "status": c.status.value, "detail": c.detail} for c in self.checks
            ],
            "credential": None
            if credential is None
            else {
                "id": "0x" + credential.credential_id.hex()
                if credential.credential_id
                else credential.claims.get("id"),
                "issuer": "0x" + credential.issuer_id.hex()
                if credential.issuer_id
                else credential.issuer,
                "type": credential.credential_type,
                "issued_at": _time_text(credential.issued_at),
                "subject": dict(credential.subject),
            },
        }


@dataclass(frozen=True, slots=True)
class PresentationReport:
    """Report of a presentation: the envelope's own checks (``vp+jwt`` only) and one report per
    credential presented."""

    format: str | None
    envelope: tuple[CheckResult, ...]
    credentials: tuple[CredentialReport, ...]

    @property
    def passed(self) -> bool:
        """True when the envelope and every credential passed."""
        return (
            bool(self.credentials)
            and all(c.status is not CheckStatus.FAILED for c in self.envelope)
            and all(report.passed for report in self.credentials)
        )

    @property
    def first_failure(self) -> CheckResult | None:
        """The first failed check, envelope first."""
        for result in self.envelope:
            if result.status is CheckStatus.FAILED:
                return result
        for report in self.credentials:
            if report.first_failure is not None:
                return report.first_failure
        return None

    @property
    def skipped(self) -> tuple[str, ...]:
        """The checks skipped for any credential presented, each named once."""
        names = [c.name for c in self.envelope if c.status is CheckStatus.SKIPPED]
        for report in self.credentials:
            names.extend(report.skipped)
        return tuple(dict.fromkeys(names))

    @property
    def verdict(self) -> str:
        """One line, as `CredentialReport.verdict`."""
        return _verdict(self.first_failure, self.skipped, bool(self.credentials))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready report."""
        return {
            "verified": self.passed,
            "verdict": self.verdict,
            "skipped": list(self.skipped),
            "format": self.format,
            "checks": [
                {"check": c.name, "status": c.status.value, "detail": c.detail}
                for c in self.envelope
            ],
            "credentials": [report.to_dict() for report in self.credentials],
        }


def _verdict(failure: CheckResult | None, skipped: tuple[str, ...], ran: bool) -> str:
    if failure is not None:
        return f"not verified: {failure.name} failed"
    if not ran:
        return "not verified: nothing was verified"
    return f"verified; skipped: {', '.join(skipped)}" if skipped else "verified"


# What a check that needs the chain reports when the verifier has a static trust list.
_NO_CHAIN = "not checked: no chain (static trust list)"


_sodium_verify: Callable[[bytes, bytes], bool] | None
try:  # libsodium verifies Ed25519 about twice as fast as OpenSSL; optional
    import nacl.bindings  # type: ignore[import-not-found,unused-ignore]  # runs sodium_init()
    from nacl.exceptions import (  # type: ignore[import-not-found,unused-ignore]  # PyNaCl ships no type information
        BadSignatureError as _SodiumBadSignature,
    )

    def _sodium_verify_wrapped(signed: bytes, raw_public_key: bytes) -> bool:
        """PyNaCl's public binding, which also copies the message out."""
        try:
            nacl.bindings.crypto_sign_open(signed, raw_public_key)
        except (_SodiumBadSignature, ValueError, TypeError):
            return False
        return True

    _sodium_verify = _sodium_verify_wrapped
    try:
        # PyNaCl's `crypto_sign_open` allocates and copies out the whole message on every
        # call; libsodium's own function accepts NULL for the message it would return (the
        # check is the same `crypto_sign_verify_detached`), so it is called directly.
        from nacl._sodium import (  # type: ignore[import-not-found,unused-ignore]  # PyNaCl ships no type information
            ffi as _sodium_ffi,
        )
        from nacl._sodium import (  # type: ignore[import-not-found,unused-ignore]  # PyNaCl ships no type information
            lib as _sodium_lib,
        )

        _sodium_open_raw = _sodium_lib.crypto_sign_open
        _SODIUM_NULL = _sodium_ffi.NULL

        def _sodium_verify_direct(signed: bytes, raw_public_key: bytes) -> bool:
            """libsodium's ``crypto_sign_open`` without the output buffer. The caller
            guarantees a 32-byte key and a 64-byte signature in front of the message."""
            opened = _sodium_open_raw(
                _SODIUM_NULL, _SODIUM_NULL, signed, len(signed), raw_public_key
            )
            return bool(opened == 0)

        _sodium_verify = _sodium_verify_direct
    except (ImportError, AttributeError):  # pragma: no cover - another PyNaCl layout
        pass
except ImportError:  # pragma: no cover - depends on the environment
    _sodium_verify = None

ED25519_BACKEND = "libsodium (PyNaCl)" if _sodium_verify is not None else "OpenSSL (cryptography)"
"""Which library checks Ed25519 credential signatures in this process."""


def _verify_signature(
    key: Jwk, raw_public_key: bytes, signing_input: bytes, signature: bytes
) -> None:
    """The issuer signature under the on-chain key. Ed25519 goes to libsodium when PyNaCl is
    installed (it also refuses small-order keys and points, which OpenSSL accepts: stricter
    only); anything else, or no PyNaCl, to `wallet_sdk.jose`."""
    if _sodium_verify is not None and key.curve is Curve.ED25519:
        if len(signature) != 64:
            raise _Failed("an EdDSA signature is 64 bytes")
        # libsodium reads exactly 32 bytes of key: never hand it anything shorter.
        if len(raw_public_key) != 32:
            raise _Failed("an Ed25519 public key is 32 bytes")
        if not _sodium_verify(signature + signing_input, raw_public_key):
            raise _Failed("signature does not verify")
        return
    _verify_raw(key, signing_input, signature)


_ReceiptLookup = Callable[[bytes, bytes], AnchorReceipt | None]


def _receipt_lookup(
    receipts: Mapping[bytes, AnchorReceipt] | Collection[AnchorReceipt],
) -> _ReceiptLookup:
    """Receipts by credential id (a mapping) or by the digest each proves (a collection)."""
    if isinstance(receipts, Mapping):
        by_id = dict(receipts)
        return lambda credential_id, _digest: by_id.get(credential_id)
    by_digest = {bytes.fromhex(r.document_digest[2:]): r for r in receipts}
    return lambda _credential_id, digest: by_digest.get(digest)


@dataclass
class _Binding:
    """How the holder proved possession: an SD-JWT key binding JWT or a ``vp+jwt``."""

    kind: str  # "kb+jwt" or "vp+jwt"
    token: str
    nonce: str
    audience: str
    now: int
    presented: str = ""  # SD-JWT: the part the sd_hash covers


@dataclass(slots=True)
class _State:
    token: str
    expected_format: str | None
    header: dict[str, Any] = field(default_factory=dict)
    jwt: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    credential_type: CredentialType | None = None
    issuer_id: bytes = b""
    credential_id: bytes = b""
    issued_at: int = 0
    witnessed_at: int = 0
    valid_from: int = 0
    valid_until: int | None = None
    key_id: bytes = b""
    key: Jwk | None = None
    format: str | None = None
    holder_key: Jwk | None = None
    holder_raw: bytes = b""
    kb_jwt: str | None = None
    presented: str = ""
    signature: bytes = b""
    key_raw: bytes = b""
    digest_alg: HashAlgorithm = HashAlgorithm.SHA256
    """The hash of the credential's anchored digest, as its header names it."""
    _digest: bytes = b""
    _jwt_hash: Any = None

    def digest(self) -> bytes:
        """`credential_digest` of the issuer-signed JWT, computed once."""
        if not self._digest:
            if self.digest_alg is not HashAlgorithm.SHA256:
                self._digest = credential_digest(self.jwt, self.digest_alg)
                return self._digest
            # The hash state is kept: an SD-JWT presentation's sd_hash covers these same
            # bytes followed by the disclosures, so they are hashed once for both.
            self._jwt_hash = hashlib.sha256(self.jwt.encode("ascii"))
            self._digest = self._jwt_hash.digest()
        return self._digest

    def sd_hash(self, presented: str) -> str:
        """base64url(SHA-256(`presented`)), as `sha256_b64`, reusing the JWT's hash state
        when `presented` starts with the issuer-signed JWT (it always does when built by
        `verify_presentation`)."""
        jwt = self.jwt
        if not jwt or not presented.startswith(jwt) or self.digest_alg is not HashAlgorithm.SHA256:
            return sha256_b64(presented)
        self.digest()
        rest = self._jwt_hash.copy()
        rest.update(presented[len(jwt) :].encode("ascii"))
        return b64url_encode(rest.digest())

    status_ref: StatusRegistryRef | None = None
    # With a static trust list: the header's kid as written, the issuer identifier and the
    # credential's own type when this registry does not know it.
    kid: str | None = None
    issuer: str = ""
    type_term: str = ""


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _Failed(f"duplicate JSON member {key!r}")
            seen.add(key)
    return result


# One decoder for every token: `json.loads` with a hook builds a new decoder per call.
_JSON_DECODER = json.JSONDecoder(object_pairs_hook=_reject_duplicates)
# Its scanner (the C one when available), with the same hook, for the fast path below.
_JSON_SCAN: Callable[[str, int], tuple[Any, int]] = make_scanner(cast(Any, _JSON_DECODER))


def _json_object(data: bytes, what: str) -> dict[str, Any]:
    """A JSON object from UTF-8 bytes (RFC 7515 and RFC 8259 allow no other encoding),
    rejecting duplicate members."""
    try:
        check_json_depth(data, what=what)
    except JsonTooDeep as err:
        raise _Failed(str(err)) from err
    try:
        text = data.decode("utf-8")
        if text[:1] == "{" and text[-1:] == "}":
            # The common shape, no surrounding whitespace: the C scanner directly, without
            # `JSONDecoder.decode`'s two whitespace matches. Anything after the object that
            # the scanner did not consume goes to the full decoder, which rejects it.
            value, end = _JSON_SCAN(text, 0)
            if end != len(text):
                value = _JSON_DECODER.decode(text)
        else:
            value = _JSON_DECODER.decode(text)
    except (ValueError, RecursionError, StopIteration) as err:
        raise _Failed(f"{what} is not valid JSON") from err
    if not isinstance(value, dict):
        raise _Failed(f"{what} must be a JSON object")
    return value


_B64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
# base64url to standard base64 for `binascii` in strict mode; the characters base64url does
# not have ("+", "/", "=") become ones strict mode rejects, so the translation stays exact.
_B64URL_TO_STD = bytes.maketrans(b"-_+/=", b"+/-_!")


def _decode_segment(segment: str, what: str) -> bytes:
    """Strict unpadded base64url, as `wallet_sdk.jose.b64url_decode` accepts it (alphabet, no
    padding, canonical final character), without re-encoding the whole segment to check."""
    remainder = len(segment) % 4
    if remainder == 1:
        raise _Failed(f"{what}: not unpadded base64url")
    if remainder:
        # The unused low bits of the last character must be zero (canonical encoding).
        unused = 0b1111 if remainder == 2 else 0b11
        index = _B64URL_ALPHABET.find(segment[-1])
        if index < 0:
            raise _Failed(f"{what}: not unpadded base64url")
        if index & unused:
            raise _Failed(f"{what}: non-canonical base64url")
    try:
        standard = segment.encode("ascii").translate(_B64URL_TO_STD)
        return binascii.a2b_base64(standard + b"=" * (-remainder % 4), strict_mode=True)
    except (binascii.Error, ValueError) as err:
        raise _Failed(f"{what}: not unpadded base64url") from err


def _split_jws(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    parts = token.split(".")
    if len(parts) != 3:
        raise _Failed("a compact JWS has exactly three segments")
    header = _json_object(_decode_segment(parts[0], "header"), "header")
    payload = _json_object(_decode_segment(parts[1], "payload"), "payload")
    return header, payload, _decode_segment(parts[2], "signature")


def _check_header(header: Mapping[str, Any], typ: str) -> None:
    if not _UNTRUSTED_HEADER_SET.isdisjoint(header):
        embedded = [name for name in _UNTRUSTED_HEADERS if name in header]
        raise _Failed(
            f"header carries key material {embedded}: not trusted, keys come only from "
            "TrustRegistry"
        )
    if "crit" in header or "b64" in header:
        raise _Failed("critical header extensions are not supported")
    if header.get("typ") != typ:
        raise _Failed(f"typ {header.get('typ')!r} is not {typ!r}")
    if "cty" in header:
        # VC-JOSE-COSE §3.1.1, §3.1.2: when present, cty is "vc" or "vp"; nothing else has one.
        expected = CONTENT_TYPES.get(typ)
        if header["cty"] != expected:
            raise _Failed(
                f"cty {header['cty']!r} is not {expected!r}"
                if expected is not None
                else f"a {typ} carries no cty"
            )


def _refuse_forbidden_claims(claims: Mapping[str, Any]) -> None:
    for name in FORBIDDEN_CLAIMS:
        if name in claims:
            raise _Failed(
                f"claim {name!r} is not allowed in a VC Data Model 2.0 claims set (VC-JOSE-COSE)"
            )


def _header_typ(jwt: str) -> object:
    """The ``typ`` of a compact JWS's header, or ``None`` when it has none or does not parse
    (the full parse that follows reports why)."""
    try:
        return _json_object(_decode_segment(jwt[: jwt.find(".")], "header"), "header").get("typ")
    except _Failed:
        return None


def _int_claim(claims: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    value = claims.get(name)
    if value is None and not required:
        return None
    if type(value) is not int or value < 0:
        raise _Failed(f"claim {name!r} must be a non-negative integer")
    return value


def _jwk_from_chain(algorithm: int, public_key: bytes) -> Jwk:
    try:
        curve = Curve.from_registry_code(algorithm)
    except FormatError as err:
        raise _Failed(f"key algorithm {algorithm} is not supported") from err
    try:
        return Jwk.from_public_bytes(curve, public_key)
    except FormatError as err:
        raise _Failed("the registered public key is malformed") from err


_ABSENT: Any = object()


def _resolve_disclosures(payload: dict[str, Any], disclosures: list[str]) -> dict[str, Any]:
    """RFC 9901 §7.1 steps 3-6: replace digests by disclosed claims, at any depth.

    Rejects (names the rule): an ``_sd_alg`` other than sha-256 or below the top level, an
    ``_sd`` that is not an array of strings, a ``...`` key anywhere but as the only key of an
    array element, a digest that appears twice (disclosed or not), an object disclosure
    referenced from an array or an array disclosure from ``_sd``, a disclosed name that is
    ``_sd`` or ``...`` or already present, and a disclosure no digest refers to."""
    if payload.get("_sd_alg", "sha-256") != "sha-256":
        raise _Failed(f"_sd_alg {payload.get('_sd_alg')!r} is not sha-256")
    by_digest: dict[str, list[Any]] = {}
    for disclosure in disclosures:
        try:
            decoded = load_json(_decode_segment(disclosure, "disclosure"), what="a disclosure")
        except JsonTooDeep as err:
            raise _Failed(str(err)) from err
        except FormatError as err:
            raise _Failed("a disclosure is not base64url JSON") from err
        if not isinstance(decoded, list) or len(decoded) not in (2, 3):
            raise _Failed("a disclosure is a JSON array of 2 or 3 elements")
        if not isinstance(decoded[0], str):
            raise _Failed("a disclosure salt must be a string")
        digest = sha256_b64(disclosure)
        if digest in by_digest:
            raise _Failed("the same disclosure is given twice")
        by_digest[digest] = decoded
    # Every digest met, disclosed or not (§7.1 step 5: none may appear twice).
    seen: set[str] = set()

    def take(digest: Any) -> list[Any] | None:
        if not isinstance(digest, str):
            raise _Failed("digests must be strings")
        if digest in seen:
            raise _Failed("a digest appears twice in the credential")
        seen.add(digest)
        return by_digest.get(digest)

    # Two walkers instead of one that tests every node's type twice: JSON has only these two
    # containers, and scalars carry no digests, so only containers are descended into.
    def walk_dict(node: dict[str, Any]) -> dict[str, Any]:
        result = dict(node)
        digests = result.pop("_sd", _ABSENT)
        if "..." in result:
            raise _Failed("'...' is only allowed as the single key of an array element")
        if "_sd_alg" in result:
            if node is not payload:
                raise _Failed("_sd_alg is only allowed at the top level")
            del result["_sd_alg"]
        for key, value in result.items():
            # Replacing the value of an existing key leaves the dict's size and order alone.
            if isinstance(value, dict):
                result[key] = walk_dict(value)
            elif isinstance(value, list):
                result[key] = walk_list(value)
        if digests is _ABSENT:
            return result
        if not isinstance(digests, list):
            raise _Failed("_sd must be an array")
        for digest in digests:
            # `take` inlined: this loop runs for every digest of every credential verified.
            if type(digest) is not str:
                raise _Failed("digests must be strings")
            if digest in seen:
                raise _Failed("a digest appears twice in the credential")
            seen.add(digest)
            disclosed = by_digest.get(digest)
            if disclosed is None:
                continue
            if len(disclosed) != 3 or not isinstance(disclosed[1], str):
                raise _Failed(
                    "an _sd digest refers to a disclosure that is not [salt, name, value]"
                )
            name = disclosed[1]
            if name in ("_sd", "..."):
                raise _Failed(f"a disclosure may not name the reserved claim {name!r}")
            if name in result:
                raise _Failed(f"disclosure of {name!r} would overwrite a claim")
            result[name] = walk(disclosed[2])
        return result

    def walk_list(node: list[Any]) -> list[Any]:
        items: list[Any] = []
        for element in node:
            if isinstance(element, dict):
                if "..." in element:
                    if len(element) != 1:
                        raise _Failed("an array element digest {'...': digest} has no other key")
                    disclosed = take(element["..."])
                    if disclosed is None:
                        continue
                    if len(disclosed) != 2:
                        raise _Failed(
                            "a '...' digest refers to a disclosure that is not [salt, value]"
                        )
                    items.append(walk(disclosed[1]))
                else:
                    items.append(walk_dict(element))
            elif isinstance(element, list):
                items.append(walk_list(element))
            else:
                items.append(element)
        return items

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return walk_dict(node)
        if isinstance(node, list):
            return walk_list(node)
        return node

    resolved = walk(payload)
    unused = len(by_digest.keys() - seen)
    if unused:
        raise _Failed(f"{unused} disclosure(s) match no digest in the credential")
    if not isinstance(resolved, dict):
        raise _Failed("payload must be an object")
    return resolved


class CredentialVerifier:
    """Verifies credentials and presentations against a `TrustView` (cached or direct), or
    against a `StaticTrustList` (`from_trust_list`).

    Thread-safe; keeps a small cache of public keys built from the chain (a ``kid`` names one
    key forever). Raises only `CredentialVerificationError` (strict mode).
    """

    def __init__(
        self,
        trust: TrustView,
        *,
        types: CredentialTypeRegistry | None = None,
        policy: VerificationPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.trust = trust
        self.types = types if types is not None else default_registry()
        self.policy = policy if policy is not None else VerificationPolicy()
        self._clock = clock
        self._keys: dict[tuple[bytes, bytes, int, bytes], tuple[Jwk, bytes]] = {}
        # A few issuer keys sign everything: each ``kid`` is decoded and checked once.
        self._kids: dict[str, bytes] = {}
        self._holder_keys: dict[tuple[tuple[str, str], ...], tuple[Jwk, bytes]] = {}
        self._allowed_algorithms = frozenset(a.value for a in self.policy.algorithms)
        self.trust_list: StaticTrustList | None = None

    @classmethod
    def from_trust_list(
        cls,
        trust_list: StaticTrustList,
        *,
        types: CredentialTypeRegistry | None = None,
        policy: VerificationPolicy | None = None,
        clock: Callable[[], float] = time.time,
    ) -> CredentialVerifier:
        """A verifier with no chain: issuers and keys come from `trust_list`.

        The same pipeline runs; ``issuer_accredited``, ``status`` and ``anchoring`` are
        reported as skipped (``not checked: no chain``), never as passed, and a policy that
        requires anchoring fails. Credentials may use any issuer URI and ``id``, and types
        this registry does not know (a registered type's subject is still checked against
        its schema). Raises `FormatError` when `trust_list` is not a `StaticTrustList`."""
        if not isinstance(trust_list, StaticTrustList):
            raise FormatError("trust_list must be a StaticTrustList")
        verifier = cls(NoChain(), types=types, policy=policy, clock=clock)
        verifier.trust_list = trust_list
        return verifier

    # -- public API ----------------------------------------------------------------------------

    def verify_credential(
        self,
        token: str,
        *,
        as_of: int | None = None,
        anchor_receipt: AnchorReceipt | None = None,
        strict: bool = True,
    ) -> CredentialReport:
        """Verify a ``vc+jwt`` or an SD-JWT (``vc+sd-jwt``, without key binding; compact or
        the RFC 9901 §8 JSON serialization, general or flattened) as of
        `as_of` (unix seconds; default now: the later of the clock and the chain head read).

        Raises `CredentialVerificationError` naming the first failed check when `strict`;
        otherwise returns the report either way."""
        report = self._verify(
            token,
            None,
            as_of=self._now() if as_of is None else as_of,
            receipt_for=lambda _id, _digest: anchor_receipt,
            binding=None,
        )
        if strict:
            _raise_if_failed(report)
        return report

    def verify_presentation(
        self,
        token: object,
        *,
        nonce: str,
        audience: str,
        as_of: int | None = None,
        anchor_receipts: Mapping[bytes, AnchorReceipt] | Collection[AnchorReceipt] = (),
        presented_at: int | None = None,
        strict: bool = True,
    ) -> PresentationReport:
        """Verify an SD-JWT presentation with key binding (compact, or the RFC 9901 §8 JSON
        serialization with ``kb_jwt`` in the unprotected header), or a ``vp+jwt`` of enveloped
        ``vc+jwt`` credentials, bound to the verifier's `nonce` and `audience`.

        `anchor_receipts` maps credential ids to receipts, or is a collection of receipts
        matched to credentials by the digest they prove. `presented_at` (unix seconds) is
        when the presentation was received, for re-verifying one kept as evidence: its
        freshness is judged against that time (which the caller must have witnessed, e.g.
        by the chain) instead of the clock. Raises `CredentialVerificationError` when
        `strict` and anything failed.
        """
        now = self._now() if presented_at is None else presented_at
        as_of = now if as_of is None else as_of
        receipts = _receipt_lookup(anchor_receipts)
        if not isinstance(token, str):
            token = ""
        if token.startswith("{"):
            try:
                token = compact_from_json(token)
            except FormatError:
                # Verified as a credential, the format check names what is wrong.
                failed = self._verify(
                    token, VC_SD_JWT_TYP, as_of=as_of, receipt_for=receipts, binding=None
                )
                report = PresentationReport(VC_SD_JWT_TYP, (), (failed,))
                if strict:
                    _raise_if_failed(report)
                return report
        if "~" not in token:
            report = self._verify_vp(token, VP_JWT_TYP, nonce, audience, now, as_of, receipts)
        elif token.endswith("~") and _header_typ(token) == VP_SD_JWT_TYP:
            report = self._verify_vp(token, VP_SD_JWT_TYP, nonce, audience, now, as_of, receipts)
        else:
            report = self._verify_sd_presentation(token, nonce, audience, now, as_of, receipts)
        if strict:
            _raise_if_failed(report)
        return report

    def now(self) -> int:
        """The verifier's "now" in unix seconds: the later of its clock and the chain head
        read (what presentations' freshness is judged against)."""
        return self._now()

    def _now(self) -> int:
        # A chain whose clock runs ahead of ours (development chains) would otherwise make
        # fresh credentials look not yet registered; the chain's view of "now" wins.
        head_time = getattr(self.trust, "head_time", 0)
        return max(int(self._clock()), head_time if isinstance(head_time, int) else 0)

    # -- presentations ----------------------------------------------------------------------

    def _verify_sd_presentation(
        self,
        token: str,
        nonce: str,
        audience: str,
        now: int,
        as_of: int,
        receipts: _ReceiptLookup,
    ) -> PresentationReport:
        cut = token.rfind("~")
        binding = _Binding(
            kind=KB_JWT_TYP,
            token=token[cut + 1 :],
            nonce=nonce,
            audience=audience,
            now=now,
            presented=token[: cut + 1],
        )
        report = self._verify(
            token, VC_SD_JWT_TYP, as_of=as_of, receipt_for=receipts, binding=binding
        )
        return PresentationReport(VC_SD_JWT_TYP, (), (report,))

    def _verify_vp(
        self,
        token: str,
        typ: str,
        nonce: str,
        audience: str,
        now: int,
        as_of: int,
        receipts: _ReceiptLookup,
    ) -> PresentationReport:
        """A ``vp+jwt``, or a ``vp+sd-jwt`` (``<jwt>~<disclosures>~``, no key binding JWT:
        the holder signed the presentation itself), of enveloped credentials."""
        runner = CheckRunner()
        inner: list[tuple[str, str]] = []
        jwt = token

        def check_envelope() -> str:
            nonlocal jwt
            if len(token) > self.policy.max_token_bytes:
                raise _Failed(f"token is longer than {self.policy.max_token_bytes} bytes")
            disclosures: list[str] = []
            if typ == VP_SD_JWT_TYP:
                jwt, *disclosures = token[:-1].split("~")
            header, payload, _ = _split_jws(jwt)
            _check_header(header, typ)
            if typ == VP_SD_JWT_TYP:
                payload = _resolve_disclosures(payload, disclosures)
            elif "_sd_alg" in payload:
                raise _Failed("a vp+jwt must not carry selective disclosure digests")
            _refuse_forbidden_claims(payload)
            vc_types(payload.get("type"), "VerifiablePresentation")
            require_v2_context(payload.get("@context"), "presentation")
            entries = payload.get("verifiableCredential")
            if not isinstance(entries, list) or not entries:
                raise _Failed("verifiableCredential must be a non-empty array")
            for entry in entries:
                inner.append(unenvelope(entry, ENVELOPED_VC_TYPE, (VC_JWT_TYP, VC_SD_JWT_TYP)))
            return f"{typ} with {len(inner)} enveloped credential(s)"

        runner.run("format", check_envelope, after=())
        if runner.failed:
            return PresentationReport(typ, tuple(runner.results), ())
        binding = _Binding(typ, jwt, nonce, audience, now)
        reports = []
        for media_type, credential_token in inner:
            report = self._verify(
                credential_token, media_type, as_of=as_of, receipt_for=receipts, binding=binding
            )
            reports.append(report)
        return PresentationReport(typ, tuple(runner.results), tuple(reports))

    # -- the pipeline ------------------------------------------------------------------------

    def _verify(
        self,
        token: str,
        expected_format: str | None,
        *,
        as_of: int,
        receipt_for: _ReceiptLookup,
        binding: _Binding | None,
    ) -> CredentialReport:
        state = _State(
            token=token if isinstance(token, str) else "", expected_format=expected_format
        )
        if binding is not None and binding.kind == KB_JWT_TYP:
            state.token = binding.presented
            state.kb_jwt = binding.token
        runner = CheckRunner()
        policy = self.policy
        trust = self.trust
        allowed_algorithms = self._allowed_algorithms

        # 1. format
        def check_format() -> str:
            self._parse(state, original=token)
            known = state.credential_type
            term = known.term if known is not None else state.type_term
            named = (
                f"0x{state.credential_id.hex()}"
                if state.credential_id
                else str(state.claims.get("id", "without id"))
            )
            return f"{state.format} {term} credential {named}"

        # 2. algorithm allowlist
        def check_algorithm() -> str:
            alg = state.header.get("alg")
            if not isinstance(alg, str):
                raise _Failed("header has no 'alg'")
            if alg.lower() == "none":
                raise _Failed("alg 'none' is never accepted")
            if alg not in allowed_algorithms:
                raise _Failed(f"alg {alg!r} is not in the allowlist {sorted(policy.algorithms)}")
            return f"alg {alg} allowed"

        # 3. registration: the id is bound on chain to this token, at a witnessed time
        def check_registration() -> str:
            ref = state.status_ref
            assert ref is not None
            registries = trust.registries
            if ref.chain_id != registries.chain_id or ref.address != registries.status_registry:
                raise _Failed(f"status entry names {ref.caip10}, not the trusted StatusRegistry")
            registered = trust.credential_registration(state.credential_id)
            if registered is None:
                raise _Failed("credential is not registered in StatusRegistry")
            if registered.issuer != state.issuer_id:
                raise _Failed("credential was registered by another issuer")
            if not hmac.compare_digest(registered.digest, state.digest()):
                raise _Failed(
                    f"credential id is registered with other content (digest "
                    f"0x{registered.digest.hex()} on chain, this token 0x{state.digest().hex()})"
                )
            at, claimed = registered.registered_at, state.issued_at
            if claimed < at - policy.issue_time_tolerance:
                raise _Failed(
                    f"claims issue time {claimed}, {at - claimed} s before the chain witnessed "
                    f"its registration at {at} (tolerance {policy.issue_time_tolerance} s)"
                )
            if claimed > at + policy.clock_skew:
                raise _Failed(f"claims issue time {claimed}, after the chain registered it at {at}")
            state.witnessed_at = at
            return f"registered by the issuer with this content at {at}"

        # 4. issuer accredited for the type at the witnessed issue time
        def check_issuer() -> str:
            assert state.credential_type is not None
            issuer, t = state.issuer_id, state.witnessed_at
            if not trust.entity_registered(issuer):
                raise _Failed(f"issuer 0x{issuer.hex()} is not registered in TrustRegistry")
            if not trust.entity_active_at(issuer, t):
                raise _Failed(
                    f"issuer 0x{issuer.hex()} (or its province) was not active at {t} "
                    "(suspended or revoked)"
                )
            if not trust.is_accredited_for(issuer, state.credential_type.type_id, t):
                raise _Failed(
                    f"issuer 0x{issuer.hex()} was not accredited for "
                    f"{state.credential_type.term} at {t}"
                )
            return f"issuer accredited for {state.credential_type.term} at {t}"

        # 5. credential-signing key valid at the witnessed issue time
        def check_key() -> str:
            key_id, t = state.key_id, state.witnessed_at
            record = trust.key(key_id)
            if record is None:
                raise _Failed("kid names no key registered in TrustRegistry")
            if record.entity_id != state.issuer_id:
                raise _Failed(
                    f"kid names a key of entity 0x{record.entity_id.hex()}, not of the issuer"
                )
            if record.purpose != KeyPurpose.CREDENTIAL_SIGNING:
                raise _Failed(
                    f"kid names a key registered for {purpose_name(record.purpose)}, "
                    "not for credential signing"
                )
            if t < record.valid_from:
                raise _Failed(f"key valid only from {record.valid_from}, registered at {t}")
            if record.valid_until and t >= record.valid_until:
                raise _Failed(
                    f"key validity ended at {record.valid_until} (rotated); registered at {t}"
                )
            if record.revoked_at and t >= record.revoked_at:
                raise _Failed(
                    f"key revoked from {record.revoked_at} (compromise); registered at {t}"
                )
            if not trust.is_key_valid_at(key_id, t):
                raise _Failed(f"key not valid at {t}: its entity was not active")
            state.key, state.key_raw = self._key(
                record.entity_id, key_id, record.algorithm, record.public_key
            )
            return f"key {state.header.get('kid')} valid at {t}"

        # 6. signature under the on-chain key, algorithm pinned by the key
        def check_signature() -> str:
            key = state.key
            assert key is not None
            alg = state.header.get("alg")
            if alg != key.algorithm.value:
                raise _Failed(
                    f"alg {alg!r} does not match the registered {key.curve} key "
                    "(algorithm confusion)"
                )
            # Header, size and typ were checked by `format` on these very bytes, the algorithm
            # just above, so only the signature itself remains (no second parse).
            signing_input = state.jwt[: state.jwt.rindex(".")].encode("ascii")
            _verify_signature(key, state.key_raw, signing_input, state.signature)
            return f"{alg} signature verifies under the registered key"

        # 7. status at the as-of time
        def check_status() -> str:
            status, reason = trust.credential_status_at(state.credential_id, as_of)
            if status != 1:
                name = _STATUS_NAMES.get(status, str(status))
                raise _Failed(f"credential is {name} as of {as_of} (reason {reason})")
            return f"active as of {as_of}"

        # 8. anchoring
        def check_anchoring() -> str:
            receipt = receipt_for(state.credential_id, state.digest())
            if receipt is None:
                if policy.require_anchoring:
                    raise _Failed("an anchor receipt is required and none was given")
                raise CheckNotApplicable("not applicable: no anchor receipt given")
            registries = trust.registries
            verify_receipt(
                receipt,
                state.digest(),
                trust,
                anchor_registry=registries.anchor_registry,
                trust_registry=registries.trust_registry,
                algorithm=state.digest_alg,
            )
            if receipt.block_time + policy.clock_skew < state.issued_at:
                raise _Failed(
                    f"anchored at {receipt.block_time}, before its claimed issue time "
                    f"{state.issued_at}"
                )
            record = trust.key(state.key_id)
            if record is not None and record.revoked_at and receipt.block_time >= record.revoked_at:
                raise _Failed("anchored after the signing key was revoked")
            return f"digest anchored in block {receipt.block_number} at {receipt.block_time}"

        # 9. validity period
        def check_validity() -> str:
            skew = policy.clock_skew
            if state.issued_at > as_of + skew:
                raise _Failed(f"issued at {state.issued_at}, after {as_of}")
            if state.valid_from > as_of + skew:
                raise _Failed(f"not yet valid: valid from {state.valid_from}, as of {as_of}")
            if state.valid_until is not None and state.valid_until <= as_of - skew:
                raise _Failed(f"expired: valid until {state.valid_until}, as of {as_of}")
            return f"valid as of {as_of}"

        # 10. holder binding
        def check_binding() -> str:
            if binding is None:
                raise CheckNotApplicable(
                    "not applicable: a credential alone; holder binding is checked on presentations"
                )
            self._check_binding(state, binding)
            return f"{binding.kind} by the credential's holder key, nonce and audience match"

        registration_check, issuer_check, key_check, status_check, anchoring_check = (
            check_registration,
            check_issuer,
            check_key,
            check_status,
            check_anchoring,
        )
        trust_list = self.trust_list
        if trust_list is not None:
            # No chain: what needs it is not checked; the key comes from the list.
            def check_listed_key() -> str:
                state.key = trust_list.key(state.issuer, state.kid)
                state.key_raw = state.key.raw_public_key()
                return f"key listed for {state.issuer} in the static trust list"

            def check_anchoring_without_chain() -> str:
                if policy.require_anchoring:
                    raise _Failed("anchoring is required and there is no chain to check it on")
                raise CheckNotApplicable(_NO_CHAIN)

            def not_checked() -> str:
                raise CheckNotApplicable(_NO_CHAIN)

            registration_check = issuer_check = status_check = not_checked
            key_check, anchoring_check = check_listed_key, check_anchoring_without_chain
        runner.run("format", check_format, after=())
        runner.run("algorithm_allowlist", check_algorithm, after=("format",))
        runner.run("registration", registration_check, after=("format",))
        runner.run("issuer_accredited", issuer_check, after=("registration",))
        runner.run("key_valid", key_check, after=("registration", "algorithm_allowlist"))
        runner.run("signature", check_signature, after=("key_valid",))
        downstream = ("signature",)
        runner.run("status", status_check, after=downstream)
        runner.run("anchoring", anchoring_check, after=downstream)
        runner.run("validity_period", check_validity, after=downstream)
        runner.run("holder_binding", check_binding, after=downstream)
        credential = None
        if not runner.failed and state.format is not None:
            known = state.credential_type
            credential = VerifiedCredential(
                format=state.format,
                credential_id=state.credential_id,
                issuer_id=state.issuer_id,
                credential_type=known.term if known is not None else state.type_term,
                type_id=known.type_id if known is not None else b"",
                issued_at=state.issued_at,
                valid_from=state.valid_from,
                valid_until=state.valid_until,
                key_id=state.key_id,
                digest=state.digest(),
                subject=dict(state.claims.get("credentialSubject", {})),
                claims=state.claims,
                holder_key=state.holder_key,
                issuer=state.issuer,
            )
        return CredentialReport(
            format=state.format, as_of=as_of, checks=tuple(runner.results), credential=credential
        )

    def _key(
        self, entity_id: bytes, key_id: bytes, algorithm: int, public_key: bytes
    ) -> tuple[Jwk, bytes]:
        """The issuer key the chain registered, built once per distinct registration.

        The cache holds key material only and is keyed by everything the chain says about the
        key (issuer, ``kid``, algorithm, public bytes), so a key registered anew under the same
        id is never answered from an old entry; whether the key may be used (validity window,
        revocation, issuer status) is asked of the trust view on every verification, before
        this lookup."""
        cache_key = (entity_id, key_id, algorithm, public_key)
        cached = self._keys.get(cache_key)
        if cached is None:
            cached = (_jwk_from_chain(algorithm, public_key), bytes(public_key))
            if len(self._keys) >= 10_000:
                self._keys.clear()
            self._keys[cache_key] = cached
        return cached

    def _holder_key(self, jwk: dict[str, Any]) -> tuple[Jwk, bytes]:
        """The ``cnf`` key and its raw bytes, imported (and checked) by `Jwk.from_jwk` once
        per distinct JWK: a holder presents the same key again and again."""
        members = tuple(sorted(jwk.items()))
        if not all(type(value) is str for _, value in members):
            key = Jwk.from_jwk(jwk)  # a malformed JWK: let the import reject it
            return key, key.raw_public_key()
        cached = self._holder_keys.get(members)
        if cached is None:
            key = Jwk.from_jwk(jwk)
            cached = (key, key.raw_public_key())
            if len(self._holder_keys) >= 10_000:
                self._holder_keys.clear()
            self._holder_keys[members] = cached
        return cached

    def _parse(self, state: _State, *, original: str) -> None:
        token = state.token
        if not isinstance(original, str) or not original:
            raise _Failed("token must be a non-empty string")
        if len(original) > self.policy.max_token_bytes:
            raise _Failed(f"token is longer than {self.policy.max_token_bytes} bytes")
        if token.startswith("{"):
            try:
                token = compact_from_json(token)
            except FormatError as err:
                raise _Failed(f"SD-JWT JSON serialization: {err}") from err
        if "~" in token:
            if state.kb_jwt is None and not token.endswith("~"):
                raise _Failed(
                    "an SD-JWT with a key binding JWT is a presentation: use verify_presentation"
                )
            parts = token.split("~")
            jwt, disclosures = parts[0], parts[1:-1]
            fmt = VC_SD_JWT_TYP
        else:
            if state.kb_jwt is not None:
                raise _Failed("not an SD-JWT presentation")
            jwt, disclosures, fmt = token, [], VC_JWT_TYP
        if state.expected_format is not None and fmt != state.expected_format:
            raise _Failed(f"expected a {state.expected_format}, got a {fmt}")
        header, payload, signature = _split_jws(jwt)
        _check_header(header, fmt)
        state.header, state.jwt, state.format, state.signature = header, jwt, fmt, signature
        try:
            state.digest_alg = credential_digest_algorithm(header)
        except FormatError as err:
            raise _Failed(str(err)) from err
        if fmt == VC_SD_JWT_TYP:
            claims = _resolve_disclosures(payload, disclosures)
        else:
            if "_sd_alg" in payload:
                # SD-JWT digests in a vc+jwt would hide claims from JOSE-only verifiers.
                raise _Failed("a vc+jwt must not carry selective disclosure digests")
            claims = payload
        kid = header.get("kid")
        if self.trust_list is not None:
            if kid is not None and not isinstance(kid, str):
                raise _Failed("kid must be a string")
            state.kid = kid
            self._parse_claims(state, claims, partial=fmt == VC_SD_JWT_TYP)
            return
        if not isinstance(kid, str):
            raise _Failed("header has no 'kid' naming the issuer's registered key")
        key_id = self._kids.get(kid)
        if key_id is None:
            key_id = _decode_segment(kid, "kid is not a base64url JWK thumbprint")
            if len(key_id) != 32:
                raise _Failed("kid is not a SHA-256 JWK thumbprint")
            if len(self._kids) >= 10_000:
                self._kids.clear()
            self._kids[kid] = key_id
        state.key_id = key_id
        self._parse_claims(state, claims, partial=fmt == VC_SD_JWT_TYP)

    def _parse_claims(self, state: _State, claims: dict[str, Any], *, partial: bool) -> None:
        try:
            _refuse_forbidden_claims(claims)
            require_v2_context(claims.get("@context"), "credential")
            types = vc_types(claims.get("type"), "VerifiableCredential")
            issuer = claims.get("issuer")
            if isinstance(issuer, dict):
                issuer = issuer.get("id")
            listed = self.trust_list is not None
            credential_type: CredentialType | None
            if listed:
                credential_type, issuer_id, credential_id = self._listed_claims(
                    state, types, issuer, claims.get("id")
                )
            else:
                credential_type = self.types.from_vc_types(types)
                issuer_id = entity_id_from_uri(issuer)
                state.issuer = str(issuer)
            if "iss" in claims and claims["iss"] != issuer:
                raise _Failed("iss differs from issuer")
            if not listed:
                credential_id = credential_id_from_uri(claims.get("id"))
            if "jti" in claims and claims["jti"] != claims.get("id"):
                raise _Failed("jti differs from id")
            if (
                credential_type is not None
                and "vct" in claims
                and claims["vct"] != credential_type.vct
            ):
                raise _Failed("vct differs from the credential type")
            # VC-JOSE-COSE makes iat optional; this service always writes it, and the chain
            # checks need it. Without a chain, validFrom stands in for it.
            issued_at = _int_claim(claims, "iat", required=not listed)
            if issued_at is None:
                if "validFrom" not in claims:
                    raise _Failed("the credential has no issue time (iat or validFrom)")
                issued_at = parse_rfc3339(claims["validFrom"])
            valid_from = parse_rfc3339(claims["validFrom"]) if "validFrom" in claims else issued_at
            nbf = _int_claim(claims, "nbf")
            if nbf is not None:
                valid_from = max(valid_from, nbf)
            valid_until = parse_rfc3339(claims["validUntil"]) if "validUntil" in claims else None
            exp = _int_claim(claims, "exp")
            if exp is not None:
                valid_until = exp if valid_until is None else min(valid_until, exp)
            subject = claims.get("credentialSubject")
            if not isinstance(subject, dict):
                raise _Failed("credentialSubject must be an object")
            if credential_type is not None and self.policy.validate_schema:
                credential_type.validate_subject(subject, partial=partial)
            if not listed:
                status = claims.get("credentialStatus")
                if not isinstance(status, dict) or status.get("type") != STATUS_ENTRY_TYPE:
                    raise _Failed(f"credentialStatus must be a {STATUS_ENTRY_TYPE}")
                if status.get("credentialId") != "0x" + credential_id.hex():
                    raise _Failed("credentialStatus names another credential")
                state.status_ref = StatusRegistryRef.parse(status.get("statusRegistry"))
            cnf = claims.get("cnf")
            if cnf is not None:
                if not isinstance(cnf, dict) or not isinstance(cnf.get("jwk"), dict):
                    raise _Failed("cnf must hold a jwk")
                if "d" in cnf["jwk"]:
                    raise _Failed("cnf jwk carries a private key")
                state.holder_key, state.holder_raw = self._holder_key(cnf["jwk"])
        except FormatError as err:
            raise _Failed(str(err)) from err
        except (KeyError, TypeError) as err:
            raise _Failed(f"malformed credential: {err}") from err
        state.claims = claims
        state.credential_type = credential_type
        state.issuer_id = issuer_id
        state.credential_id = credential_id
        state.issued_at = issued_at
        state.valid_from = valid_from
        state.valid_until = valid_until

    def _listed_claims(
        self, state: _State, types: list[str], issuer: object, credential_uri: object
    ) -> tuple[CredentialType | None, bytes, bytes]:
        """With a static trust list: any issuer URI, any ``id``, any type. A type this
        registry knows is returned (its schema still applies); this service's identifier
        forms still give the entity and credential ids, others leave them empty."""
        if not isinstance(issuer, str) or not issuer:
            raise _Failed("issuer must be a URI")
        state.issuer = issuer
        if credential_uri is not None and not isinstance(credential_uri, str):
            raise _Failed("id must be a URI")
        known = [t for t in types if t in self.types]
        credential_type = self.types.from_vc_types(known) if known else None
        others = [t for t in types if isinstance(t, str) and t != "VerifiableCredential"]
        state.type_term = others[-1] if others else "VerifiableCredential"
        issuer_id = credential_id = b""
        if issuer.startswith("urn:hrss:entity:"):
            issuer_id = entity_id_from_uri(issuer)
        if isinstance(credential_uri, str) and credential_uri.startswith("urn:hrss:credential:"):
            credential_id = credential_id_from_uri(credential_uri)
        return credential_type, issuer_id, credential_id

    def _check_binding(self, state: _State, binding: _Binding) -> None:
        holder_key = state.holder_key
        if holder_key is None:
            raise _Failed("the credential names no holder key (cnf)")
        if holder_key.algorithm not in self.policy.algorithms:
            raise _Failed(f"holder key algorithm {holder_key.algorithm} is not allowed")
        expected_typ = binding.kind
        token = binding.token
        if len(token) > self.policy.max_token_bytes:
            raise _Failed(f"binding JWT is longer than {self.policy.max_token_bytes} bytes")
        header, payload, signature = _split_jws(token)
        _check_header(header, expected_typ)
        alg = header.get("alg")
        if alg != holder_key.algorithm.value:
            raise _Failed(f"binding JWT alg {alg!r} is not the holder key's {holder_key.algorithm}")
        signing_input = token[: token.rindex(".")].encode("ascii")
        _verify_signature(holder_key, state.holder_raw, signing_input, signature)
        nonce, aud = payload.get("nonce"), payload.get("aud")
        if not isinstance(nonce, str) or not hmac.compare_digest(
            nonce.encode(), str(binding.nonce).encode()
        ):
            raise _Failed("nonce does not match the verifier's nonce")
        audiences = aud if isinstance(aud, list) else [aud]
        if binding.audience not in audiences:
            raise _Failed(f"audience {aud!r} is not {binding.audience!r}")
        iat = _int_claim(payload, "iat", required=True)
        assert iat is not None
        skew = self.policy.clock_skew
        if iat > binding.now + skew:
            raise _Failed("presentation issued in the future")
        if iat < binding.now - self.policy.max_presentation_age:
            raise _Failed("presentation is too old")
        exp = _int_claim(payload, "exp")
        if exp is not None and exp <= binding.now - skew:
            raise _Failed("presentation has expired")
        if binding.kind == KB_JWT_TYP:
            sd_hash = payload.get("sd_hash")
            expected = state.sd_hash(binding.presented)
            if not isinstance(sd_hash, str) or not hmac.compare_digest(sd_hash, expected):
                raise _Failed("sd_hash does not cover the presented SD-JWT and disclosures")


def _raise_if_failed(report: CredentialReport | PresentationReport) -> None:
    failure = report.first_failure
    if failure is not None:
        raise CredentialVerificationError(failure.name, failure.detail, report)
    # No check failed, so `passed` reduces to "something was verified".
    if not (report.checks if isinstance(report, CredentialReport) else report.passed):
        raise CredentialVerificationError("format", "nothing was verified", report)
