"""Signed QR payloads: login challenges, consent requests and verification links.

A QR payload is the text ``hrss:`` followed by a compact JWS (header ``typ`` is
``hrss-qr+jwt``) whose payload is a JSON object::

    {"type": "login_challenge", "iss": "...", "aud": "...", "iat": 1700000000,
     "exp": 1700000120, "nonce": "...", "body": {...}}

`parse_qr_payload` verifies the signature with a key the caller trusts for the issuer and
rejects expired, not-yet-valid, wrongly addressed or forged payloads. Replay protection
(remembering nonces until ``exp``) is the scanning service's job.
"""

from __future__ import annotations

import enum
import io
import secrets
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import segno

from wallet_sdk.errors import FormatError, JsonTooDeep, VerificationError, WalletError
from wallet_sdk.jcs import canonical_json
from wallet_sdk.jose import (
    SIGNING_ALGORITHMS,
    Jwk,
    JwsAlgorithm,
    b64url_decode,
    read_unverified_header,
    sign_compact,
    verify_compact,
)
from wallet_sdk.nesting import load_json

__all__ = [
    "QR_JWS_TYPE",
    "QR_URI_PREFIX",
    "QrPayload",
    "QrPayloadType",
    "encode_qr_payload",
    "parse_qr_payload",
    "render_qr_png",
    "render_qr_text",
]

QR_URI_PREFIX = "hrss:"
QR_JWS_TYPE = "hrss-qr+jwt"
# A version 40 QR code in byte mode at error correction L holds 2,953 bytes.
_MAX_QR_TEXT = 2953
_MAX_LIFETIME = 24 * 3600
_DEFAULT_ALGORITHMS = SIGNING_ALGORITHMS


class QrPayloadType(enum.StrEnum):
    """What a QR code asks the scanner to do."""

    LOGIN_CHALLENGE = "login_challenge"
    CONSENT_REQUEST = "consent_request"
    VERIFICATION_LINK = "verification_link"
    CARD_ACTIVATION = "card_activation"


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _freeze(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


@dataclass(frozen=True, slots=True)
class QrPayload:
    """A verified QR payload. ``body`` is a read-only JSON object."""

    type: QrPayloadType
    issuer: str
    audience: str
    issued_at: int
    expires_at: int
    nonce: str
    body: Mapping[str, Any]
    key_id: str


def encode_qr_payload(
    *,
    type: QrPayloadType,
    issuer: str,
    audience: str,
    issued_at: int,
    expires_at: int,
    body: Mapping[str, Any],
    key: Jwk,
    nonce: str | None = None,
) -> str:
    """Sign a QR payload and return its text, ``hrss:<compact JWS>``.

    A random 128-bit nonce is generated unless one is given. Raises `FormatError` when the
    lifetime is not positive or longer than a day, the body is not JSON, or the text would
    not fit a QR code; `SignatureError` when `key` has no private part.
    """
    if not 0 < expires_at - issued_at <= _MAX_LIFETIME:
        raise FormatError(f"lifetime must be between 1 s and {_MAX_LIFETIME} s")
    claims = {
        "type": QrPayloadType(type).value,
        "iss": issuer,
        "aud": audience,
        "iat": issued_at,
        "exp": expires_at,
        "nonce": nonce if nonce is not None else secrets.token_urlsafe(16),
        "body": dict(body),
    }
    try:
        payload = canonical_json(claims)
    except FormatError as err:
        raise FormatError(f"the QR payload's body: {err}") from err
    token = sign_compact(payload, key, headers={"typ": QR_JWS_TYPE})
    text = QR_URI_PREFIX + token
    if len(text) > _MAX_QR_TEXT:
        raise FormatError(f"payload is {len(text)} bytes; a QR code holds {_MAX_QR_TEXT}")
    return text


def _claim_str(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if not isinstance(value, str) or not value:
        raise VerificationError("format", f"claim {name!r} must be a non-empty string")
    return value


def _claim_int(claims: Mapping[str, Any], name: str) -> int:
    value = claims.get(name)
    if type(value) is not int:
        raise VerificationError("format", f"claim {name!r} must be an integer")
    return value


def parse_qr_payload(
    text: str,
    *,
    trusted_keys: Mapping[str, Sequence[Jwk]],
    now: int,
    audience: str | None,
    algorithms: Collection[JwsAlgorithm] = _DEFAULT_ALGORITHMS,
    leeway: int = 30,
) -> QrPayload:
    """Verify and parse a scanned QR text.

    `trusted_keys` maps an issuer to the public keys it may sign with; the header ``kid`` picks
    one (a key's ``kid``, or its RFC 7638 thumbprint when it has none). `audience` must equal
    the ``aud`` claim; pass ``None`` only where any audience is acceptable. `now` is Unix
    seconds; `leeway` allows that much clock skew.

    Raises `VerificationError` with check ``format`` (not ``hrss:`` + JWS, malformed claims),
    ``issuer`` (issuer not trusted), ``key`` (no trusted key with that ``kid``), any JWS check
    of `verify_compact` (``algorithm``, ``signature``, ...), ``typ``, ``audience``, ``expired``
    or ``not_yet_valid``. Nothing else escapes.
    """
    try:
        return _parse(text, trusted_keys, now, audience, algorithms, leeway)
    except WalletError:
        raise
    except Exception as err:
        raise VerificationError("format", f"unreadable QR payload: {type(err).__name__}") from err


def _parse(
    text: str,
    trusted_keys: Mapping[str, Sequence[Jwk]],
    now: int,
    audience: str | None,
    algorithms: Collection[JwsAlgorithm],
    leeway: int,
) -> QrPayload:
    if not isinstance(text, str) or not text.startswith(QR_URI_PREFIX):
        raise VerificationError("format", f"QR text does not start with {QR_URI_PREFIX!r}")
    if len(text) > _MAX_QR_TEXT:
        raise VerificationError("size", f"QR text is longer than {_MAX_QR_TEXT} bytes")
    token = text[len(QR_URI_PREFIX) :]
    header = read_unverified_header(token)
    segments = token.split(".")
    try:
        unverified = load_json(b64url_decode(segments[1]), what="payload")
    except JsonTooDeep as err:
        raise VerificationError("format", str(err)) from err
    except FormatError as err:
        raise VerificationError("format", "payload is not base64url JSON") from err
    if not isinstance(unverified, dict):
        raise VerificationError("format", "payload must be a JSON object")
    issuer = _claim_str(unverified, "iss")
    candidates = trusted_keys.get(issuer)
    if not candidates:
        raise VerificationError("issuer", f"issuer {issuer!r} is not trusted")
    kid = header.get("kid")
    key = next(
        (k for k in candidates if (k.kid if k.kid is not None else k.thumbprint_b64()) == kid),
        None,
    )
    if key is None:
        raise VerificationError("key", f"no trusted key {kid!r} for issuer {issuer!r}")
    verified = verify_compact(token, key, algorithms=algorithms, typ=QR_JWS_TYPE)
    try:
        claims = verified.payload_json()
    except FormatError as err:
        raise VerificationError("format", str(err)) from err
    if claims.get("iss") != issuer:
        raise VerificationError("format", "issuer changed between reads")
    try:
        payload_type = QrPayloadType(str(claims.get("type")))
    except ValueError as err:
        raise VerificationError("format", f"unknown payload type {claims.get('type')!r}") from err
    aud = _claim_str(claims, "aud")
    issued_at = _claim_int(claims, "iat")
    expires_at = _claim_int(claims, "exp")
    nonce = _claim_str(claims, "nonce")
    body = claims.get("body")
    if not isinstance(body, dict):
        raise VerificationError("format", "claim 'body' must be a JSON object")
    if audience is not None and aud != audience:
        raise VerificationError("audience", f"payload is for {aud!r}, not {audience!r}")
    if now > expires_at + leeway:
        raise VerificationError("expired", f"payload expired at {expires_at}")
    if issued_at > now + leeway:
        raise VerificationError("not_yet_valid", f"payload is issued in the future ({issued_at})")
    if expires_at - issued_at > _MAX_LIFETIME or expires_at <= issued_at:
        raise VerificationError("expired", "payload lifetime is out of bounds")
    return QrPayload(
        type=payload_type,
        issuer=issuer,
        audience=aud,
        issued_at=issued_at,
        expires_at=expires_at,
        nonce=nonce,
        body=_freeze(body),
        key_id=str(kid),
    )


def _qr(text: str) -> segno.QRCode:
    try:
        return segno.make_qr(text, error="m", boost_error=False)
    except (ValueError, segno.DataOverflowError) as err:
        raise FormatError(f"text does not fit a QR code: {err}") from err


def render_qr_png(text: str, *, scale: int = 4, border: int = 4) -> bytes:
    """Render `text` as a PNG QR code (error correction M).

    Raises `FormatError` when the text does not fit a QR code.
    """
    buffer = io.BytesIO()
    _qr(text).save(buffer, kind="png", scale=scale, border=border)
    return buffer.getvalue()


def render_qr_text(text: str, *, border: int = 2) -> str:
    """Render `text` as a QR code in terminal text (Unicode half blocks).

    Raises `FormatError` when the text does not fit a QR code.
    """
    buffer = io.StringIO()
    _qr(text).terminal(out=buffer, compact=True, border=border)
    return buffer.getvalue()
