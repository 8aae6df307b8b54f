"""Holder side: SD-JWT presentations with chosen disclosures and a key binding JWT, and
``vp+jwt`` or ``vp+sd-jwt`` presentations of enveloped credentials, all bound to a verifier's
nonce and audience."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from wallet_sdk.credentials._model import (
    KB_JWT_TYP,
    VC_CONTEXT_V2,
    VC_SD_JWT_TYP,
    VP_JWT_TYP,
    VP_SD_JWT_TYP,
    canonical_json,
    credential_media_type,
    envelope,
    sha256_b64,
)
from wallet_sdk.errors import FormatError, JsonTooDeep, SignatureError, WalletError
from wallet_sdk.jose import Jwk, b64url_decode, sign_compact
from wallet_sdk.nesting import load_json

__all__ = [
    "PresentationError",
    "disclosed_claim_names",
    "present_sd_jwt",
    "present_vc_jwt",
]


class PresentationError(WalletError):
    """A presentation could not be built (unknown claim, malformed credential, no private key)."""


def _parse_disclosures(token: str) -> tuple[str, list[tuple[str, str]]]:
    parts = token.split("~")
    if len(parts) < 2 or parts[-1] != "":
        raise PresentationError("not an SD-JWT issuance (<jwt>~<disclosures>~)")
    named: list[tuple[str, str]] = []
    for disclosure in parts[1:-1]:
        try:
            decoded = load_json(b64url_decode(disclosure), what="disclosure")
        except JsonTooDeep as err:
            raise PresentationError(f"malformed disclosure: {err}") from err
        except FormatError as err:
            raise PresentationError("malformed disclosure") from err
        if not isinstance(decoded, list) or len(decoded) != 3 or not isinstance(decoded[1], str):
            raise PresentationError("only object-property disclosures are supported")
        named.append((decoded[1], disclosure))
    return parts[0], named


def disclosed_claim_names(token: str) -> list[str]:
    """Names of the claims an SD-JWT carries disclosures for. Raises `PresentationError`."""
    return [name for name, _ in _parse_disclosures(token)[1]]


def present_sd_jwt(
    token: str,
    *,
    disclose: Collection[str],
    holder_key: Jwk,
    nonce: str,
    audience: str,
    issued_at: int,
) -> str:
    """An SD-JWT presentation ``<jwt>~<chosen disclosures>~<kb-jwt>`` (RFC 9901 §4.3).

    The KB-JWT (``typ: kb+jwt``) carries ``iat``, ``aud``, ``nonce`` and ``sd_hash``, the
    SHA-256 of everything before it. Raises `PresentationError` when a chosen claim has no
    disclosure, or the holder key cannot sign.
    """
    jwt, named = _parse_disclosures(token)
    available = {name for name, _ in named}
    missing = set(disclose) - available
    if missing:
        raise PresentationError(f"no disclosure for {sorted(missing)}")
    if not nonce or not audience:
        raise PresentationError("nonce and audience are required")
    chosen = [disclosure for name, disclosure in named if name in disclose]
    presented = "~".join([jwt, *chosen]) + "~"
    payload = {"aud": audience, "iat": issued_at, "nonce": nonce, "sd_hash": sha256_b64(presented)}
    try:
        kb_jwt = sign_compact(
            canonical_json(payload), holder_key, headers={"typ": KB_JWT_TYP}, include_kid=False
        )
    except SignatureError as err:
        raise PresentationError(f"cannot sign the key binding JWT: {err}") from err
    return presented + kb_jwt


def present_vc_jwt(
    credentials: Sequence[str],
    *,
    holder_key: Jwk,
    nonce: str,
    audience: str,
    issued_at: int,
    lifetime: int = 300,
    holder: str | None = None,
    typ: str = VP_JWT_TYP,
) -> str:
    """A presentation of ``vc+jwt`` and SD-JWT credentials, signed by the holder key the
    credentials name in ``cnf``: a ``vp+jwt`` by default, or with `typ` ``vp+sd-jwt`` an
    SD-JWT ``<jwt>~`` (VC-JOSE-COSE §3.2.2; nothing in it selectively disclosable).

    Each credential is enveloped as an ``EnvelopedVerifiableCredential`` whose ``data:`` URL
    names its true media type (``application/vc+jwt`` or ``application/vc+sd-jwt``); an
    SD-JWT goes in as given (its disclosures, no key binding JWT: the presentation itself is
    the holder's proof). Raises `PresentationError`."""
    if not credentials:
        raise PresentationError("a presentation needs at least one credential")
    if not nonce or not audience:
        raise PresentationError("nonce and audience are required")
    if typ not in (VP_JWT_TYP, VP_SD_JWT_TYP):
        raise PresentationError(f"typ must be {VP_JWT_TYP} or {VP_SD_JWT_TYP}, not {typ!r}")
    enveloped = []
    for token in credentials:
        if not isinstance(token, str) or not token:
            raise PresentationError("each credential must be a non-empty token")
        media_type = credential_media_type(token)
        if media_type == VC_SD_JWT_TYP and not token.endswith("~"):
            raise PresentationError("an SD-JWT credential is presented without a key binding JWT")
        enveloped.append(envelope(token, media_type))
    payload: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": enveloped,
        "nonce": nonce,
        "aud": audience,
        "iat": issued_at,
        "exp": issued_at + lifetime,
    }
    if holder is not None:
        payload["holder"] = holder
    if typ == VP_SD_JWT_TYP:
        payload["_sd_alg"] = "sha-256"
    try:
        signed = sign_compact(
            canonical_json(payload), holder_key, headers={"typ": typ}, include_kid=False
        )
    except SignatureError as err:
        raise PresentationError(f"cannot sign the presentation: {err}") from err
    return signed + "~" if typ == VP_SD_JWT_TYP else signed
