"""Identifiers, media types and small parsing helpers shared by issuer, holder and verifier."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from wallet_sdk.errors import FormatError, UnsupportedAlgorithmError, WalletError
from wallet_sdk.jcs import canonical_json as canonical_json
from wallet_sdk.jose import b64url_encode, read_unverified_header
from wallet_sdk.merkle import HashAlgorithm

VC_JWT_TYP = "vc+jwt"
VC_SD_JWT_TYP = "vc+sd-jwt"
VP_JWT_TYP = "vp+jwt"
VP_SD_JWT_TYP = "vp+sd-jwt"
KB_JWT_TYP = "kb+jwt"
VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
HRSS_CONTEXT: dict[str, str] = {"@vocab": "urn:hrss:vocab#"}
STATUS_ENTRY_TYPE = "HrssStatusRegistryEntry"
ENVELOPED_VC_TYPE = "EnvelopedVerifiableCredential"
ENVELOPED_VP_TYPE = "EnvelopedVerifiablePresentation"
ENVELOPED_VC_PREFIX = "data:application/vc+jwt,"
ENVELOPED_SD_VC_PREFIX = "data:application/vc+sd-jwt,"
# VC-JOSE-COSE §3.1: ``vc`` and ``vp`` are JWT claims of the VC Data Model 1.1 encoding; in a
# 2.0 claims set they would carry a second, unsecured-looking credential beside the real one.
FORBIDDEN_CLAIMS = ("vc", "vp")
# The ``cty`` each ``typ`` allows, when ``cty`` is present (VC-JOSE-COSE §3.1.1, §3.1.2).
CONTENT_TYPES: dict[str, str] = {
    VC_JWT_TYP: "vc",
    VC_SD_JWT_TYP: "vc",
    VP_JWT_TYP: "vp",
    VP_SD_JWT_TYP: "vp",
}
_ENVELOPE_KINDS: dict[str, tuple[str, ...]] = {
    ENVELOPED_VC_TYPE: (VC_JWT_TYP, VC_SD_JWT_TYP),
    ENVELOPED_VP_TYPE: (VP_JWT_TYP, VP_SD_JWT_TYP),
}

_ENTITY_PREFIX = "urn:hrss:entity:0x"
_CREDENTIAL_PREFIX = "urn:hrss:credential:0x"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CAIP10 = re.compile(r"eip155:([0-9]{1,20}):(0x[0-9a-fA-F]{40})")


def issuer_uri(entity_id: bytes) -> str:
    """The VC ``issuer`` of a `TrustRegistry` entity: ``urn:hrss:entity:0x<64 hex>``."""
    _require32("entity id", entity_id)
    return _ENTITY_PREFIX + bytes(entity_id).hex()


def entity_id_from_uri(uri: object) -> bytes:
    """The entity id named by an issuer URI. Raises `FormatError` on any other form."""
    if not isinstance(uri, str) or not uri.startswith(_ENTITY_PREFIX):
        raise FormatError(f"issuer {uri!r} is not a urn:hrss:entity identifier")
    tail = uri[len(_ENTITY_PREFIX) :]
    if not _HEX64.fullmatch(tail):
        raise FormatError(f"issuer {uri!r} is not a urn:hrss:entity identifier")
    return bytes.fromhex(tail)


def credential_uri(credential_id: bytes) -> str:
    """The VC ``id`` of a credential: ``urn:hrss:credential:0x<64 hex>``."""
    _require32("credential id", credential_id)
    return _CREDENTIAL_PREFIX + bytes(credential_id).hex()


def credential_id_from_uri(uri: object) -> bytes:
    """The 32-byte `StatusRegistry` id named by a credential URI. Raises `FormatError`."""
    if not isinstance(uri, str) or not uri.startswith(_CREDENTIAL_PREFIX):
        raise FormatError(f"credential id {uri!r} is not a urn:hrss:credential identifier")
    tail = uri[len(_CREDENTIAL_PREFIX) :]
    if not _HEX64.fullmatch(tail):
        raise FormatError(f"credential id {uri!r} is not a urn:hrss:credential identifier")
    return bytes.fromhex(tail)


def _require32(what: str, value: object) -> None:
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise FormatError(f"{what} must be 32 bytes")


@dataclass(frozen=True, slots=True)
class StatusRegistryRef:
    """Where a credential's status lives: a `StatusRegistry` on an EVM chain (CAIP-10 form)."""

    chain_id: int
    address: str

    def __post_init__(self) -> None:
        if type(self.chain_id) is not int or self.chain_id <= 0:
            raise FormatError("chain id must be a positive integer")
        if not isinstance(self.address, str) or not is_address(self.address):
            raise FormatError(f"{self.address!r} is not an address")
        object.__setattr__(self, "address", to_checksum_address(self.address))

    @property
    def caip10(self) -> str:
        """``eip155:<chain id>:<address>``."""
        return f"eip155:{self.chain_id}:{self.address}"

    @classmethod
    def parse(cls, value: object) -> StatusRegistryRef:
        """Parse a CAIP-10 account id. Raises `FormatError`."""
        if not isinstance(value, str):
            raise FormatError(f"status registry {value!r} is not an eip155 account id")
        return _parse_status_registry(value)

    def status_entry(self, credential_id: bytes) -> dict[str, str]:
        """The ``credentialStatus`` object for a credential."""
        return {
            "id": credential_uri(credential_id) + "#status",
            "type": STATUS_ENTRY_TYPE,
            "statusRegistry": self.caip10,
            "credentialId": "0x" + bytes(credential_id).hex(),
        }


@lru_cache(maxsize=256)
def _parse_status_registry(value: str) -> StatusRegistryRef:
    # A verifier sees the same few registries over and over; checksumming costs a keccak.
    match = _CAIP10.fullmatch(value)
    if match is None:
        raise FormatError(f"status registry {value!r} is not an eip155 account id")
    return StatusRegistryRef(int(match.group(1)), match.group(2))


def credential_media_type(token: str) -> str:
    """The ``typ`` a credential token is secured as: ``vc+sd-jwt`` when it has SD-JWT
    disclosures (a ``~``), else ``vc+jwt``. Only the shape is looked at."""
    return VC_SD_JWT_TYP if "~" in token else VC_JWT_TYP


def envelope(token: str, typ: str) -> dict[str, Any]:
    """The ``EnvelopedVerifiableCredential`` (``vc+...``) or ``EnvelopedVerifiablePresentation``
    (``vp+...``) object carrying `token` as a ``data:application/<typ>,`` URL, with
    ``@context`` as an array (VC Data Model 2.0 §4.13). Raises `FormatError` on another `typ`."""
    for kind, media_types in _ENVELOPE_KINDS.items():
        if typ in media_types:
            return {
                "@context": [VC_CONTEXT_V2],
                "id": f"data:application/{typ},{token}",
                "type": kind,
            }
    raise FormatError(f"{typ!r} is not a media type of a credential or presentation")


def unenvelope(value: object, kind: str, accepted: Collection[str]) -> tuple[str, str]:
    """The media type (``typ``) and token of an enveloped credential or presentation.

    `kind` is ``EnvelopedVerifiableCredential`` or ``EnvelopedVerifiablePresentation``;
    `accepted` the media types the caller takes. Raises `FormatError` when `value` is not
    that kind of object, its ``@context`` is missing, empty or does not start with the v2
    context, or its ``id`` is not a ``data:`` URL of an accepted media type."""
    if not isinstance(value, dict) or value.get("type") != kind:
        raise FormatError(f"only {kind} objects are accepted (JOSE-secured, no embedded proofs)")
    require_v2_context(value.get("@context"), kind, allow_string=True)
    envelope_id = value.get("id")
    if isinstance(envelope_id, str) and envelope_id.startswith("data:application/"):
        typ, comma, token = envelope_id[len("data:application/") :].partition(",")
        if comma and token and typ in accepted:
            return typ, token
    prefixes = [f"data:application/{typ}," for typ in accepted]
    raise FormatError(f"{kind} id must be a data: URL starting with one of {prefixes}")


def require_v2_context(value: object, what: str, *, allow_string: bool = False) -> None:
    """VC Data Model 2.0 §4.3: ``@context`` is an ordered set whose first item is the v2
    context. `allow_string` also takes the v2 context as a lone string (as enveloping
    objects are written in VC-JOSE-COSE's examples). Raises `FormatError`."""
    if allow_string and value == VC_CONTEXT_V2:
        return
    if not isinstance(value, list) or not value or value[0] != VC_CONTEXT_V2:
        raise FormatError(f"{what} @context must be an array starting with {VC_CONTEXT_V2}")


def vc_types(value: object, required: str) -> list[str]:
    """A ``type`` value as a list (VC Data Model 2.0 §4.5: one string or an array of them),
    which must include `required`. Raises `FormatError`."""
    types = [value] if isinstance(value, str) else value
    if not isinstance(types, list) or required not in types:
        raise FormatError(f"type must include {required}")
    return types


def sha256_b64(text: str) -> str:
    """base64url(SHA-256(ASCII text)): SD-JWT disclosure digests and ``sd_hash``."""
    return b64url_encode(hashlib.sha256(text.encode("ascii")).digest())


def rfc3339(t: int) -> str:
    """Unix seconds as an RFC 3339 UTC date-time (VC ``validFrom`` / ``validUntil``)."""
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(value: object) -> int:
    """RFC 3339 date-time to unix seconds. Raises `FormatError`."""
    if not isinstance(value, str) or len(value) > 40:
        raise FormatError(f"{value!r} is not an RFC 3339 date-time")
    return _parse_rfc3339(value)


@lru_cache(maxsize=4096)
def _parse_rfc3339(value: str) -> int:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as err:
        raise FormatError(f"{value!r} is not an RFC 3339 date-time") from err
    if parsed.tzinfo is None:
        raise FormatError(f"{value!r} has no time zone")
    return int(parsed.timestamp())


DIGEST_ALG_HEADER = "hrss_digest_alg"
"""Protected JOSE header parameter naming the hash of a credential's anchored digest
(`credential_digest`) when it is not SHA-256: ``sm3`` in the national profile. Without it the
digest is SHA-256, as for every credential issued before SM3 (whose tokens are unchanged)."""


def credential_digest_algorithm(header: Mapping[str, Any]) -> HashAlgorithm:
    """The hash a credential's protected `header` names for its anchored digest.

    Raises `FormatError` for an unknown hash, and for an explicit ``sha-256``: a SHA-256
    credential names none, so each credential has one encoding.
    """
    if DIGEST_ALG_HEADER not in header:
        return HashAlgorithm.SHA256
    name = header[DIGEST_ALG_HEADER]
    try:
        algorithm = HashAlgorithm.from_name(name if isinstance(name, str) else repr(name))
    except UnsupportedAlgorithmError as err:
        raise FormatError(f"{DIGEST_ALG_HEADER} {name!r} is not a known digest") from err
    if algorithm is HashAlgorithm.SHA256:
        raise FormatError(f"a SHA-256 credential names no {DIGEST_ALG_HEADER}")
    return algorithm


def credential_digest(issuer_signed_jwt: str, algorithm: HashAlgorithm | None = None) -> bytes:
    """The commitment anchored for a credential: the hash of its issuer-signed JWT (for an
    SD-JWT, the part before the first ``~``, which commits to every disclosure digest), the
    one its header names (`DIGEST_ALG_HEADER`: SHA-256 unless it says ``sm3``). An issuer
    that has just signed passes its `algorithm` instead of having the header read back.

    Raises `FormatError` when the header does not parse or names an unknown hash.
    """
    if algorithm is None:
        try:
            header = read_unverified_header(issuer_signed_jwt)
        except WalletError as err:
            raise FormatError(f"the credential's header does not parse: {err}") from err
        algorithm = credential_digest_algorithm(header)
    return algorithm.digest(issuer_signed_jwt.encode("ascii"))
