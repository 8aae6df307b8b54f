"""Identifiers, media types and small parsing helpers shared by issuer, holder and verifier."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from wallet_sdk.errors import FormatError
from wallet_sdk.jose import b64url_encode

VC_JWT_TYP = "vc+jwt"
VC_SD_JWT_TYP = "vc+sd-jwt"
VP_JWT_TYP = "vp+jwt"
KB_JWT_TYP = "kb+jwt"
VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
HRSS_CONTEXT: dict[str, str] = {"@vocab": "urn:hrss:vocab#"}
STATUS_ENTRY_TYPE = "HrssStatusRegistryEntry"
ENVELOPED_VC_TYPE = "EnvelopedVerifiableCredential"
ENVELOPED_VC_PREFIX = "data:application/vc+jwt,"
ENVELOPED_SD_VC_PREFIX = "data:application/vc+sd-jwt,"

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


def canonical_json(value: Any) -> bytes:
    """Compact UTF-8 JSON with sorted keys (the signed payload form)."""
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError) as err:
        raise FormatError(f"value is not JSON-serialisable: {err}") from err


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


def credential_digest(issuer_signed_jwt: str) -> bytes:
    """The commitment anchored for a credential: SHA-256 of its issuer-signed JWT (for an
    SD-JWT, the part before the first ``~``, which commits to every disclosure digest)."""
    return hashlib.sha256(issuer_signed_jwt.encode("ascii")).digest()
