"""The keyed commitments a grant puts on chain instead of its purposes and scope, and their
off-chain opening."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from wallet_sdk.consent._fields import hex32, vocabulary_tuple
from wallet_sdk.consent.request import DataCategory, Purpose
from wallet_sdk.errors import FormatError
from wallet_sdk.jcs import canonical_json

__all__ = ["SALT_BYTES", "ConsentOpening", "purpose_commitment", "scope_commitment"]

SALT_BYTES = 32
"""The length of a consent's commitment salt, chosen fresh by the wallet for each consent."""


def _check_salt(salt: bytes) -> bytes:
    if not isinstance(salt, bytes) or len(salt) != SALT_BYTES:
        raise FormatError(f"a commitment salt is {SALT_BYTES} random bytes")
    return salt


def purpose_commitment(salt: bytes, purposes: Iterable[Purpose | str]) -> bytes:
    """HMAC-SHA256 commitment to a set of purposes under a per-consent salt (32 bytes)."""
    codes = [p.value for p in vocabulary_tuple(purposes, Purpose, "purposes")]
    message = b"hrss-consent/1 purposes\x00" + canonical_json(codes)
    return hmac.new(_check_salt(salt), message, hashlib.sha256).digest()


def scope_commitment(
    salt: bytes, data_categories: Iterable[DataCategory | str], request_digest: bytes
) -> bytes:
    """HMAC-SHA256 commitment to the data categories and the request they answer."""
    codes = [c.value for c in vocabulary_tuple(data_categories, DataCategory, "data_categories")]
    scope = {"data_categories": codes, "request": hex32(request_digest, "request_digest").hex()}
    message = b"hrss-consent/1 scope\x00" + canonical_json(scope)
    return hmac.new(_check_salt(salt), message, hashlib.sha256).digest()


@dataclass(frozen=True, slots=True)
class ConsentOpening:
    """The off-chain opening of a grant's commitments: never goes on chain."""

    salt: bytes = field(repr=False)
    purposes: tuple[Purpose, ...]
    data_categories: tuple[DataCategory, ...]
    request_digest: bytes

    def __post_init__(self) -> None:
        _check_salt(self.salt)
        object.__setattr__(self, "purposes", vocabulary_tuple(self.purposes, Purpose, "purposes"))
        object.__setattr__(
            self,
            "data_categories",
            vocabulary_tuple(self.data_categories, DataCategory, "data_categories"),
        )
        object.__setattr__(self, "request_digest", hex32(self.request_digest, "request_digest"))

    @property
    def purpose_hash(self) -> bytes:
        return purpose_commitment(self.salt, self.purposes)

    @property
    def scope_hash(self) -> bytes:
        return scope_commitment(self.salt, self.data_categories, self.request_digest)

    def to_json(self) -> dict[str, Any]:
        return {
            "salt": "0x" + self.salt.hex(),
            "purposes": [p.value for p in self.purposes],
            "data_categories": [c.value for c in self.data_categories],
            "request_digest": "0x" + self.request_digest.hex(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ConsentOpening:
        """Raises `FormatError` when malformed."""
        if not isinstance(data, Mapping):
            raise FormatError("an opening must be an object")
        purposes, categories = data.get("purposes"), data.get("data_categories")
        if not isinstance(purposes, list | tuple) or not isinstance(categories, list | tuple):
            raise FormatError("'purposes' and 'data_categories' must be arrays")
        return cls(
            salt=hex32(data.get("salt"), "salt"),
            purposes=tuple(purposes),
            data_categories=tuple(categories),
            request_digest=hex32(data.get("request_digest"), "request_digest"),
        )
