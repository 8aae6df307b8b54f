"""Issuing W3C VC Data Model 2.0 credentials as ``vc+jwt`` and ``vc+sd-jwt`` (RFC 9901).

Library functions that sign with a given `Jwk`, so any harness can drive them. The unsecured
credential is the JWT claims set (W3C VC-JOSE-COSE); the registered JWT claims ``iss``,
``jti``, ``iat``, ``nbf``, ``exp`` and ``cnf`` mirror ``issuer``, ``id``, the issue time,
``validFrom``, ``validUntil`` and the holder key, so JOSE-only verifiers see them too.

The protected header is ``{"alg", "kid", "typ"}``; ``kid`` is the RFC 7638 thumbprint of the
issuer key, which is the key's id in `TrustRegistry`. Nothing else goes into the header: a
verifier takes the key from the chain, never from the token.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from wallet_sdk.credentials._model import (
    DIGEST_ALG_HEADER,
    FORBIDDEN_CLAIMS,
    HRSS_CONTEXT,
    VC_CONTEXT_V2,
    VC_JWT_TYP,
    VC_SD_JWT_TYP,
    StatusRegistryRef,
    canonical_json,
    credential_digest,
    credential_uri,
    issuer_uri,
    rfc3339,
)
from wallet_sdk.credentials._sd_jwt import (
    conceal,
    encode_disclosure,
    format_path,
    parse_path,
    path_allowed,
)
from wallet_sdk.credentials.types import CredentialType
from wallet_sdk.errors import FormatError, SignatureError, WalletError
from wallet_sdk.jose import SIGNING_ALGORITHMS, Jwk, JwsAlgorithm, b64url_encode, sign_compact
from wallet_sdk.merkle import HashAlgorithm

__all__ = [
    "ISSUABLE_ALGORITHMS",
    "IssuanceError",
    "IssuedCredential",
    "build_credential",
    "issue_sd_jwt",
    "issue_vc_jwt",
    "make_disclosure",
]

ISSUABLE_ALGORITHMS: frozenset[JwsAlgorithm] = SIGNING_ALGORITHMS
"""EdDSA, ES256, ES384, ES512 and SM2SM3: never ES256K (the wallets' chain accounts)."""


class IssuanceError(WalletError):
    """A credential could not be issued (invalid subject, unsuitable key, bad validity)."""


@dataclass(frozen=True, slots=True)
class IssuedCredential:
    """A signed credential.

    `token` is the compact ``vc+jwt`` or the SD-JWT issuance ``<jwt>~<d1>~...~<dn>~`` (all
    disclosures, no key binding). `digest` is the commitment to anchor.
    """

    format: str
    token: str
    credential_id: bytes
    issuer_id: bytes
    credential_type: str
    issued_at: int
    key_id: bytes
    digest: bytes
    claims: Mapping[str, Any] = field(repr=False)

    @property
    def issuer_signed_jwt(self) -> str:
        """The issuer-signed JWT (for an SD-JWT, the part before the first ``~``)."""
        return self.token.split("~", 1)[0]


def build_credential(
    *,
    credential_type: CredentialType,
    subject: Mapping[str, Any],
    issuer_id: bytes,
    credential_id: bytes,
    status_registry: StatusRegistryRef,
    issued_at: int,
    valid_from: int | None = None,
    valid_until: int | None = None,
    holder_key: Jwk | None = None,
    extra_claims: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The unsecured credential (the JWT claims set) after validating the subject.

    `extra_claims` adds top-level claims (e.g. a training file link) but may not replace any,
    nor be ``vc`` or ``vp`` (VC-JOSE-COSE §3.1). Raises `IssuanceError` when the subject does
    not match the type's schema, the validity period is empty, or an extra claim is refused.
    """
    try:
        credential_type.validate_subject(subject)
        credential_id_uri = credential_uri(credential_id)
        issuer = issuer_uri(issuer_id)
    except FormatError as err:
        raise IssuanceError(str(err)) from err
    if type(issued_at) is not int or issued_at <= 0:
        raise IssuanceError("issued_at must be a positive integer (unix seconds)")
    start = issued_at if valid_from is None else valid_from
    if valid_until is not None and valid_until <= start:
        raise IssuanceError("valid_until must come after valid_from")
    claims: dict[str, Any] = {
        "@context": [VC_CONTEXT_V2, dict(HRSS_CONTEXT)],
        "id": credential_id_uri,
        "type": ["VerifiableCredential", credential_type.term],
        "issuer": issuer,
        "validFrom": rfc3339(start),
        "credentialSubject": dict(subject),
        "credentialSchema": {"id": credential_type.vct, "type": "JsonSchema"},
        "credentialStatus": status_registry.status_entry(credential_id),
        "iss": issuer,
        "jti": credential_id_uri,
        "iat": issued_at,
        "nbf": start,
        "vct": credential_type.vct,
    }
    if valid_until is not None:
        claims["validUntil"] = rfc3339(valid_until)
        claims["exp"] = valid_until
    if holder_key is not None:
        claims["cnf"] = {"jwk": holder_key.public().public_jwk()}
    for name, value in (extra_claims or {}).items():
        if name in FORBIDDEN_CLAIMS:
            raise IssuanceError(
                f"claim {name!r} is not allowed in a VC Data Model 2.0 claims set (VC-JOSE-COSE)"
            )
        if name in claims or name in ("exp", "cnf", "validUntil", "_sd", "_sd_alg"):
            raise IssuanceError(f"extra claim {name!r} would replace a credential claim")
        claims[name] = value
    return claims


_SIGNING_KEYS: dict[int, tuple[Jwk, Jwk, bytes]] = {}


def _signing_key(key: Jwk) -> tuple[Jwk, bytes]:
    """The key with its RFC 7638 thumbprint as ``kid``, and the thumbprint (its on-chain id).
    Remembered per key object: an issuer signs many credentials with one key."""
    cached = _SIGNING_KEYS.get(id(key))
    if cached is not None and cached[0] is key:
        return cached[1], cached[2]
    if not key.has_private:
        raise IssuanceError("the issuer key has no private part")
    if key.algorithm not in ISSUABLE_ALGORITHMS:
        allowed = ", ".join(sorted(ISSUABLE_ALGORITHMS))
        raise IssuanceError(f"{key.algorithm} is not an issuance algorithm ({allowed})")
    thumbprint = key.thumbprint()
    signing = key.with_kid(b64url_encode(thumbprint))
    if len(_SIGNING_KEYS) > 1024:
        _SIGNING_KEYS.clear()
    _SIGNING_KEYS[id(key)] = (key, signing, thumbprint)
    return signing, thumbprint


def _sign(claims: Mapping[str, Any], key: Jwk, typ: str, digest_alg: HashAlgorithm) -> str:
    headers = {"typ": typ}
    if digest_alg is not HashAlgorithm.SHA256:  # SHA-256 credentials name none (as before)
        headers[DIGEST_ALG_HEADER] = digest_alg.value
    try:
        return sign_compact(canonical_json(claims), key, headers=headers)
    except (SignatureError, FormatError) as err:
        raise IssuanceError(f"cannot sign: {err}") from err


def issue_vc_jwt(
    *,
    credential_type: CredentialType,
    subject: Mapping[str, Any],
    issuer_id: bytes,
    key: Jwk,
    status_registry: StatusRegistryRef,
    issued_at: int,
    credential_id: bytes | None = None,
    valid_from: int | None = None,
    valid_until: int | None = None,
    holder_key: Jwk | None = None,
    extra_claims: Mapping[str, Any] | None = None,
    digest_alg: HashAlgorithm = HashAlgorithm.SHA256,
) -> IssuedCredential:
    """Sign a credential as a compact ``vc+jwt`` with `key` (`ISSUABLE_ALGORITHMS`).

    `credential_id` defaults to 32 random bytes. `digest_alg` is the hash of the digest
    registered and anchored for it (`credential_digest`; SM3 in the national profile, named
    in the header). Raises `IssuanceError`.
    """
    signing_key, key_id = _signing_key(key)
    credential_id = secrets.token_bytes(32) if credential_id is None else credential_id
    claims = build_credential(
        credential_type=credential_type,
        subject=subject,
        issuer_id=issuer_id,
        credential_id=credential_id,
        status_registry=status_registry,
        issued_at=issued_at,
        valid_from=valid_from,
        valid_until=valid_until,
        holder_key=holder_key,
        extra_claims=extra_claims,
    )
    token = _sign(claims, signing_key, VC_JWT_TYP, digest_alg)
    return IssuedCredential(
        format=VC_JWT_TYP,
        token=token,
        credential_id=credential_id,
        issuer_id=bytes(issuer_id),
        credential_type=credential_type.term,
        issued_at=issued_at,
        key_id=key_id,
        digest=credential_digest(token, digest_alg),
        claims=claims,
    )


def make_disclosure(name: str, value: Any, *, salt: str | None = None) -> str:
    """An object-property disclosure: base64url of the JSON array ``[salt, name, value]``
    (RFC 9901 §4.2.1), with a 128-bit random salt unless one is given."""
    return encode_disclosure([name, value], salt=salt)


def issue_sd_jwt(
    *,
    credential_type: CredentialType,
    subject: Mapping[str, Any],
    issuer_id: bytes,
    key: Jwk,
    status_registry: StatusRegistryRef,
    issued_at: int,
    holder_key: Jwk,
    disclosable: Collection[str] = (),
    credential_id: bytes | None = None,
    valid_from: int | None = None,
    valid_until: int | None = None,
    decoys: int = 2,
    extra_claims: Mapping[str, Any] | None = None,
    digest_alg: HashAlgorithm = HashAlgorithm.SHA256,
) -> IssuedCredential:
    """Sign a credential as an SD-JWT (``typ: vc+sd-jwt``, ``_sd_alg: sha-256``).

    The subject claims named in `disclosable` (JSON Pointers into ``credentialSubject`` at
    any depth, ``*`` for every array element, or bare top-level names), and always the
    type's personal identifiers (name, ID number), become selectively disclosable: object
    properties through ``_sd``, array elements as ``{"...": digest}``, and a path under
    another one recursively (RFC 9901 §4.2). Every object or array that hides something gets
    `decoys` decoy digests, so their number tells nothing. The holder key goes into ``cnf``
    so presentations need key binding. `extra_claims` are top-level claims always visible (a
    training file link). `digest_alg` as for `issue_vc_jwt` (disclosure digests stay
    SHA-256, ``_sd_alg``). Raises `IssuanceError` when a path is malformed or
    not among the type's ``x-hrss-disclosable`` paths.
    """
    signing_key, key_id = _signing_key(key)
    credential_id = secrets.token_bytes(32) if credential_id is None else credential_id
    claims = build_credential(
        credential_type=credential_type,
        subject=subject,
        issuer_id=issuer_id,
        credential_id=credential_id,
        status_registry=status_registry,
        issued_at=issued_at,
        valid_from=valid_from,
        valid_until=valid_until,
        holder_key=holder_key,
        extra_claims=extra_claims,
    )
    allowed = credential_type.disclosable_paths
    try:
        paths = {parse_path(path) for path in disclosable}
    except FormatError as err:
        raise IssuanceError(str(err)) from err
    refused = sorted(format_path(p) for p in paths if not path_allowed(p, allowed))
    if refused:
        raise IssuanceError(f"not disclosable claims of {credential_type.term}: {refused}")
    paths.update((name,) for name in credential_type.personal_identifiers)
    disclosures: list[str] = []
    plain_subject = conceal(claims["credentialSubject"], paths, decoys=decoys, out=disclosures)
    secured = dict(claims)
    secured["credentialSubject"] = plain_subject
    secured["_sd_alg"] = "sha-256"
    jwt = _sign(secured, signing_key, VC_SD_JWT_TYP, digest_alg)
    token = "~".join([jwt, *disclosures]) + "~"
    return IssuedCredential(
        format=VC_SD_JWT_TYP,
        token=token,
        credential_id=credential_id,
        issuer_id=bytes(issuer_id),
        credential_type=credential_type.term,
        issued_at=issued_at,
        key_id=key_id,
        digest=credential_digest(jwt, digest_alg),
        claims=claims,
    )
