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
from wallet_sdk.credentials._sd_jwt import (
    Path,
    disclosure_paths,
    format_path,
    parse_path,
    select_disclosures,
)
from wallet_sdk.errors import FormatError, SignatureError, WalletError
from wallet_sdk.jose import Jwk, b64url_decode, sign_compact
from wallet_sdk.nesting import load_json

__all__ = [
    "PresentationError",
    "disclosable_paths",
    "disclosed_claim_names",
    "present_sd_jwt",
    "present_vc_jwt",
    "select_sd_jwt",
]


class PresentationError(WalletError):
    """A presentation could not be built (unknown claim, malformed credential, no private key)."""


_SUBJECT = "credentialSubject"


def _locate(token: str) -> tuple[str, dict[str, Path]]:
    """The issuer-signed JWT and where each disclosure sits (paths from the payload root)."""
    parts = token.split("~")
    if len(parts) < 2 or parts[-1] != "":
        raise PresentationError("not an SD-JWT issuance (<jwt>~<disclosures>~)")
    segments = parts[0].split(".")
    try:
        if len(segments) != 3:
            raise FormatError("the issuer-signed JWT is not a compact JWS")
        payload = load_json(b64url_decode(segments[1]), what="the issuer-signed JWT payload")
        if not isinstance(payload, dict):
            raise FormatError("the issuer-signed JWT payload is not an object")
        return parts[0], disclosure_paths(payload, parts[1:-1])
    except (FormatError, ValueError) as err:
        raise PresentationError(f"malformed SD-JWT: {err}") from err


def disclosed_claim_names(token: str) -> list[str]:
    """Names of the top-level subject claims an SD-JWT carries disclosures for. Raises
    `PresentationError`."""
    return [
        path[1] for path in _locate(token)[1].values() if len(path) == 2 and path[0] == _SUBJECT
    ]


def disclosable_paths(token: str) -> list[str]:
    """JSON Pointers (into ``credentialSubject``) of every claim an SD-JWT issuance carries a
    disclosure for, at any depth, in issuance order. Raises `PresentationError`."""
    return [format_path(path[1:]) for path in _locate(token)[1].values() if path[0] == _SUBJECT]


def select_sd_jwt(token: str, *, disclose: Collection[str]) -> str:
    """The SD-JWT issuance `token` with only the disclosures of the `disclose` claims
    (``<jwt>~<chosen disclosures>~``, no key binding JWT): what `present_sd_jwt` binds with
    a KB-JWT, and what a ``vp+jwt`` envelopes (`present_vc_jwt`, the presentation then being
    the holder's proof). Paths as in `present_sd_jwt`. Raises `PresentationError` when a
    chosen claim has no disclosure."""
    jwt, located = _locate(token)
    try:
        chosen = [(_SUBJECT, *parse_path(path)) for path in disclose]
        picked = select_disclosures(located, chosen) if chosen else []
    except FormatError as err:
        raise PresentationError(str(err).replace("/" + _SUBJECT, "")) from err
    return "~".join([jwt, *picked]) + "~"


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

    `disclose` names claims of ``credentialSubject`` by JSON Pointer at any depth (``*`` for
    every array element) or by bare top-level name. A chosen claim comes with the
    disclosures of its parents (so it can be reached) and of everything under it. The
    KB-JWT (``typ: kb+jwt``) carries ``iat``, ``aud``, ``nonce`` and ``sd_hash``, the SHA-256
    of everything before it. Raises `PresentationError` when a chosen claim has no
    disclosure, or the holder key cannot sign.
    """
    presented = select_sd_jwt(token, disclose=disclose)
    if not nonce or not audience:
        raise PresentationError("nonce and audience are required")
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
