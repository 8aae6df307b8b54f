"""Verifying outside the trust tree: a static trust list of issuers and their keys.

A department that is not on the chain, or a test harness, gives the verifier a fixed list:
issuer identifiers (any URI, e.g. ``https://university.example/issuers/565049`` or a
``urn:hrss:entity:`` id) each with its public JWKs, and ``did:jwk`` / ``did:key`` issuers,
whose one key is the identifier itself. Only listed issuers are trusted: a ``did:jwk`` is not
trusted because it names a key, only because it is on the list.

`CredentialVerifier.from_trust_list` runs the same pipeline with it. The checks that need the
chain (``issuer_accredited``, ``status``, ``anchoring``) are reported as skipped with the
detail ``not checked: ...``, never as passed, and the report lists them as skipped; a policy
that requires anchoring fails closed. The verifier's `TrustView` is then `NoChain`, which
raises on every question, so no chain answer can be taken by mistake.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from wallet_sdk.credentials.trust_state import (
    RegisteredCredential,
    RegisteredKey,
    RegistryAddresses,
    TrustStateError,
)
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Curve, Jwk, b64url_decode
from wallet_sdk.receipt import AnchorRecord

__all__ = ["NoChain", "StaticTrustList", "did_key_jwk"]

_DID_JWK = "did:jwk:"
_DID_KEY = "did:key:z"
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
# Multicodec prefixes (unsigned varint) of the did:key public keys we verify with.
_ED25519_PUB = b"\xed\x01"
_P256_PUB = b"\x80\x24"


def _base58btc_decode(text: str) -> bytes:
    number = 0
    for char in text:
        digit = _BASE58.find(char)
        if digit < 0:
            raise FormatError(f"{char!r} is not a base58btc character")
        number = number * 58 + digit
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * (len(text) - len(text.lstrip("1"))) + body


def did_key_jwk(did: str) -> Jwk:
    """The public key a ``did:jwk`` or ``did:key`` (Ed25519 or P-256) identifier is.

    Raises `FormatError` for another method, a malformed identifier, or a private key."""
    if not isinstance(did, str):
        raise FormatError(f"{did!r} is not a DID")
    if did.startswith(_DID_JWK):
        try:
            members = json.loads(b64url_decode(did[len(_DID_JWK) :]))
        except (FormatError, ValueError) as err:
            raise FormatError(f"{did[:40]}... is not a did:jwk") from err
        if not isinstance(members, dict) or "d" in members:
            raise FormatError("a did:jwk must hold a public JWK")
        return Jwk.from_jwk(members)
    if did.startswith(_DID_KEY):
        raw = _base58btc_decode(did[len(_DID_KEY) :])
        try:
            if raw[:2] == _ED25519_PUB and len(raw) == 34:
                return Jwk(Curve.ED25519, ed25519.Ed25519PublicKey.from_public_bytes(raw[2:]))
            if raw[:2] == _P256_PUB and len(raw) == 35:
                point = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw[2:])
                return Jwk(Curve.P256, point)
        except ValueError as err:
            raise FormatError(f"{did} holds a malformed public key") from err
        raise FormatError(f"{did} is not an Ed25519 or P-256 did:key")
    raise FormatError(f"{did[:40]} is neither a did:jwk nor a did:key")


@dataclass(frozen=True, slots=True)
class StaticTrustList:
    """Issuer identifier -> the public keys it signs with. Build with `StaticTrustList.of`."""

    issuers: Mapping[str, tuple[Jwk, ...]]

    def __post_init__(self) -> None:
        if not self.issuers:
            raise FormatError("the trust list is empty (an empty list never means trust all)")
        for issuer, keys in self.issuers.items():
            if not isinstance(issuer, str) or not issuer:
                raise FormatError("an issuer identifier must be a non-empty string")
            if not keys:
                raise FormatError(f"issuer {issuer} has no key")
        object.__setattr__(self, "issuers", MappingProxyType(dict(self.issuers)))

    @classmethod
    def of(
        cls,
        issuers: Mapping[str, Iterable[Jwk | Mapping[str, Any]]] | None = None,
        *,
        dids: Iterable[str] = (),
    ) -> StaticTrustList:
        """A trust list from issuer identifiers with their JWKs (`Jwk` objects or JWK
        members; only the public part is kept) and ``did:jwk`` / ``did:key`` issuers.

        Raises `FormatError` when the list is empty, an issuer has no key, a JWK does not
        import, or a DID is not a did:jwk or an Ed25519 / P-256 did:key."""
        listed: dict[str, tuple[Jwk, ...]] = {}
        for issuer, keys in (issuers or {}).items():
            listed[issuer] = tuple(
                (key if isinstance(key, Jwk) else Jwk.from_jwk(key)).public() for key in keys
            )
        for did in dids:
            listed[did] = (did_key_jwk(did),)
        return cls(listed)

    def key(self, issuer: str, kid: str | None) -> Jwk:
        """The listed key of `issuer` that `kid` names: its RFC 7638 thumbprint, the JWK's own
        ``kid``, or for a DID issuer a DID URL of the issuer (``<did>#...``). Without a
        ``kid``, the issuer's key when it has exactly one.

        Raises `FormatError` when the issuer is not listed or no listed key matches."""
        keys = self.issuers.get(issuer)
        if keys is None:
            raise FormatError(f"issuer {issuer} is not in the static trust list")
        if kid is None:
            if len(keys) == 1:
                return keys[0]
            raise FormatError(f"no kid, and issuer {issuer} has {len(keys)} listed keys")
        if issuer.startswith("did:") and (kid == issuer or kid.startswith(issuer + "#")):
            return keys[0]
        for key in keys:
            if kid == key.kid or kid == key.thumbprint_b64():
                return key
        raise FormatError(f"kid {kid!r} names no key listed for issuer {issuer}")


class NoChain:
    """The `TrustView` of a verifier that has no chain: every question raises
    `TrustStateError`, so a check that needs the chain can only fail, never pass."""

    def _refuse(self) -> TrustStateError:
        return TrustStateError("no chain: this verifier uses a static trust list")

    @property
    def registries(self) -> RegistryAddresses:
        raise self._refuse()

    def entity_registered(self, entity_id: bytes) -> bool:
        raise self._refuse()

    def entity_active_at(self, entity_id: bytes, t: int) -> bool:
        raise self._refuse()

    def is_accredited_for(self, entity_id: bytes, type_id: bytes, t: int) -> bool:
        raise self._refuse()

    def key(self, key_id: bytes) -> RegisteredKey | None:
        raise self._refuse()

    def is_key_valid_at(self, key_id: bytes, t: int) -> bool:
        raise self._refuse()

    def credential_issuer(self, credential_id: bytes) -> bytes | None:
        raise self._refuse()

    def credential_registration(self, credential_id: bytes) -> RegisteredCredential | None:
        raise self._refuse()

    def credential_status_at(self, credential_id: bytes, t: int) -> tuple[int, int]:
        raise self._refuse()

    def chain_id(self) -> int:
        raise self._refuse()

    def anchor_of(self, registry: str, root: bytes) -> AnchorRecord | None:
        raise self._refuse()

    def block_hash(self, number: int) -> bytes:
        raise self._refuse()

    def anchoring_entity_at(self, trust_registry: str, address: str, t: int) -> bytes:
        raise self._refuse()

    def is_active_at(self, trust_registry: str, entity: bytes, t: int) -> bool:
        raise self._refuse()
