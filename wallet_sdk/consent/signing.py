"""EIP-712 grants and withdrawals: the holder's secp256k1 signatures over the typed data of
`node_adapter.consent_format` (exactly what ``ConsentRegistry`` verifies), and their
recovery, refusing what the registry refuses."""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from eth_account import Account
from eth_keys.datatypes import Signature as EcdsaSignature
from eth_keys.exceptions import BadSignature
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from eth_utils.exceptions import ValidationError as EthValidationError

from node_adapter.consent_format import (
    CONSENT_DOMAIN_NAME,
    CONSENT_DOMAIN_VERSION,
    ConsentGrant,
    TypedData,
    consent_typed_data,
    typed_data_digest,
    withdrawal_typed_data,
)
from node_adapter.errors import ConfigurationError
from wallet_sdk.consent._fields import (
    checksum_address,
    hex32,
    hex_bytes,
    text_field,
    uint64_field,
    vocabulary_tuple,
)
from wallet_sdk.consent.commitments import SALT_BYTES, ConsentOpening
from wallet_sdk.consent.request import ConsentRequest, DataCategory, Purpose, RegistryDomain
from wallet_sdk.errors import FormatError, SignatureError, VerificationError
from wallet_sdk.jose import Jwk

__all__ = [
    "CONSENT_DOMAIN_NAME",
    "CONSENT_DOMAIN_VERSION",
    "GrantTerms",
    "SignedConsent",
    "SignedWithdrawal",
    "address_of_public_key",
    "grant_digest",
    "recover_grant_signer",
    "recover_withdrawal_signer",
    "sign_grant",
    "sign_withdrawal",
    "withdrawal_digest",
]

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_MAX_PROOF = 16_000


@dataclass(frozen=True, slots=True)
class GrantTerms(ConsentGrant):
    """The EIP-712 ``Grant`` struct, exactly what ``ConsentRegistry.grant`` receives: the
    adapter's `ConsentGrant`, checked as the wallet checks input (`FormatError`, and a start
    before the end) and written as JSON (``nonce`` a decimal string)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "holder", checksum_address(self.holder, "holder"))
        for name in ("grantee", "purpose_hash", "scope_hash"):
            object.__setattr__(self, name, hex32(getattr(self, name), name))
        uint64_field({"not_before": self.not_before}, "not_before")
        uint64_field({"not_after": self.not_after}, "not_after")
        if self.not_before >= self.not_after:
            raise FormatError("'not_before' must be earlier than 'not_after'")
        if type(self.nonce) is not int or not 0 <= self.nonce < 2**256:
            raise FormatError("'nonce' must be a uint256")

    def to_json(self) -> dict[str, Any]:
        return {
            "holder": self.holder,
            "grantee": "0x" + self.grantee.hex(),
            "purpose_hash": "0x" + self.purpose_hash.hex(),
            "scope_hash": "0x" + self.scope_hash.hex(),
            "not_before": self.not_before,
            "not_after": self.not_after,
            "nonce": str(self.nonce),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> GrantTerms:
        """Raises `FormatError` when malformed (``nonce`` is a decimal string)."""
        if not isinstance(data, Mapping):
            raise FormatError("grant terms must be an object")
        nonce = data.get("nonce")
        if not isinstance(nonce, str) or not nonce.isdigit() or len(nonce) > 78:
            raise FormatError("'nonce' must be a decimal string")
        return cls(
            holder=checksum_address(data.get("holder"), "holder"),
            grantee=hex32(data.get("grantee"), "grantee"),
            purpose_hash=hex32(data.get("purpose_hash"), "purpose_hash"),
            scope_hash=hex32(data.get("scope_hash"), "scope_hash"),
            not_before=uint64_field(data, "not_before"),
            not_after=uint64_field(data, "not_after"),
            nonce=int(nonce),
        )


def _digest(typed: TypedData) -> bytes:
    try:
        return typed_data_digest(typed)
    except ConfigurationError as err:
        raise FormatError(str(err)) from err


def grant_digest(terms: GrantTerms, domain: RegistryDomain) -> bytes:
    """The EIP-712 digest of a grant: its ``consentId`` on chain. Raises `FormatError`."""
    return _digest(consent_typed_data(terms, domain.chain_id, domain.address))


def withdrawal_digest(consent_id: bytes, nonce: int, domain: RegistryDomain) -> bytes:
    """The EIP-712 digest of a ``Withdrawal``. Raises `FormatError`."""
    consent = hex32(consent_id, "consent_id")
    return _digest(withdrawal_typed_data(consent, nonce, domain.chain_id, domain.address))


def _sign(digest: bytes, private_key: bytes) -> bytes:
    try:
        signed = Account.unsafe_sign_hash(digest, private_key)
    except (ValueError, TypeError) as err:
        raise SignatureError(f"cannot sign: {err}") from err
    return bytes(signed.signature)


def _recover(digest: bytes, signature: bytes) -> str:
    # The registry rejects malleable (high-s) signatures; reject them here too, so an
    # off-chain check never accepts what the chain would refuse.
    if not isinstance(signature, bytes) or len(signature) != 65:
        raise VerificationError("signature", "an ECDSA signature is 65 bytes (r || s || v)")
    s = int.from_bytes(signature[32:64], "big")
    if s == 0 or s > _SECP256K1_N // 2 or signature[64] not in (27, 28):
        raise VerificationError("signature", "signature is malleable or malformed")
    r = int.from_bytes(signature[:32], "big")
    try:
        public_key = EcdsaSignature(
            vrs=(signature[64] - 27, r, s)
        ).recover_public_key_from_msg_hash(digest)
    except (BadSignature, EthValidationError, ValueError) as err:
        raise VerificationError("signature", "signature does not recover a signer") from err
    return str(public_key.to_checksum_address())


def recover_grant_signer(terms: GrantTerms, domain: RegistryDomain, signature: bytes) -> str:
    """The address that signed a grant. Raises `VerificationError` (check ``signature``)."""
    return _recover(grant_digest(terms, domain), signature)


def recover_withdrawal_signer(
    consent_id: bytes, nonce: int, domain: RegistryDomain, signature: bytes
) -> str:
    """The address that signed a withdrawal. Raises `VerificationError` (``signature``)."""
    return _recover(withdrawal_digest(consent_id, nonce, domain), signature)


def address_of_public_key(key: Jwk) -> str:
    """The Ethereum address of a secp256k1 key. Raises `FormatError` for other curves."""
    if key.curve.value != "secp256k1":
        raise FormatError("only secp256k1 keys have an Ethereum address")
    return str(to_checksum_address(keccak(key.raw_public_key()[1:])[-20:]))


@dataclass(frozen=True, slots=True)
class SignedConsent:
    """A signed grant ready to relay, with its domain, opening and consent id."""

    terms: GrantTerms
    domain: RegistryDomain
    signature: bytes
    opening: ConsentOpening
    request_id: str
    identity_proof: str | None = field(default=None, repr=False)
    """The cardholder's e-card proof that they are the request's subject: an SD-JWT
    presentation disclosing ``idNumber``, its key binding nonce over the consent id and its
    audience the data user (`identity_proof_nonce`, `identity_proof_audience`). Personal
    data: never on chain, sealed at rest, shown only to the data user and the holder."""

    def __post_init__(self) -> None:
        if self.identity_proof is not None and (
            not isinstance(self.identity_proof, str)
            or "~" not in self.identity_proof
            or len(self.identity_proof) > _MAX_PROOF
        ):
            raise FormatError(
                f"'identity_proof' must be an SD-JWT presentation of at most {_MAX_PROOF} chars"
            )

    @property
    def consent_id(self) -> bytes:
        return grant_digest(self.terms, self.domain)

    def without_identity_proof(self) -> SignedConsent:
        """The same grant without its e-card proof (what may be kept unsealed)."""
        return SignedConsent(
            terms=self.terms,
            domain=self.domain,
            signature=self.signature,
            opening=self.opening,
            request_id=self.request_id,
        )

    def to_json(self) -> dict[str, Any]:
        data = {
            "request_id": self.request_id,
            "registry": self.domain.to_json(),
            "grant": self.terms.to_json(),
            "signature": "0x" + self.signature.hex(),
            "opening": self.opening.to_json(),
            "consent_id": "0x" + self.consent_id.hex(),
        }
        if self.identity_proof is not None:
            data["identity_proof"] = self.identity_proof
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedConsent:
        """Parse a relayed grant. Raises `FormatError` when malformed.

        Parsing checks the form only; `verify` checks signature and commitments.
        """
        if not isinstance(data, Mapping):
            raise FormatError("a signed consent must be an object")
        registry = data.get("registry")
        if not isinstance(registry, Mapping):
            raise FormatError("'registry' must be an object")
        signed = cls(
            terms=GrantTerms.from_json(data.get("grant")),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
            domain=RegistryDomain.from_json(registry),
            signature=hex_bytes(data.get("signature"), "signature", 65),
            opening=ConsentOpening.from_json(data.get("opening")),  # type: ignore[arg-type]  # values from JSON, checked by __post_init__
            request_id=text_field(data, "request_id"),
            identity_proof=data.get("identity_proof"),
        )
        if "consent_id" in data and hex32(data["consent_id"], "consent_id") != signed.consent_id:
            raise FormatError("'consent_id' does not match the grant")
        return signed

    def verify(self) -> None:
        """Check that the holder signed these terms and that the opening matches them.

        Raises `VerificationError` with check ``signature`` (forged, malleable or by someone
        other than the holder) or ``commitment`` (opening does not match the hashes).
        """
        # 1. the commitments open to the stated purposes and categories
        if not hmac.compare_digest(self.opening.purpose_hash, self.terms.purpose_hash):
            raise VerificationError("commitment", "purposes do not match the purpose commitment")
        if not hmac.compare_digest(self.opening.scope_hash, self.terms.scope_hash):
            raise VerificationError("commitment", "scope does not match the scope commitment")
        # 2. the holder signed exactly these terms
        signer = recover_grant_signer(self.terms, self.domain, self.signature)
        if signer != self.terms.holder:
            raise VerificationError("signature", "the grant is not signed by its holder")


@dataclass(frozen=True, slots=True)
class SignedWithdrawal:
    """A signed withdrawal ready to relay."""

    consent_id: bytes
    nonce: int
    domain: RegistryDomain
    signature: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "consent_id": "0x" + self.consent_id.hex(),
            "nonce": str(self.nonce),
            "registry": self.domain.to_json(),
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SignedWithdrawal:
        """Raises `FormatError` when malformed."""
        if not isinstance(data, Mapping) or not isinstance(data.get("registry"), Mapping):
            raise FormatError("a signed withdrawal must be an object with a 'registry'")
        nonce = data.get("nonce")
        if not isinstance(nonce, str) or not nonce.isdigit() or len(nonce) > 78:
            raise FormatError("'nonce' must be a decimal string")
        return cls(
            consent_id=hex32(data.get("consent_id"), "consent_id"),
            nonce=int(nonce),
            domain=RegistryDomain.from_json(data["registry"]),
            signature=hex_bytes(data.get("signature"), "signature", 65),
        )

    def signer(self) -> str:
        """The address that signed. Raises `VerificationError` (``signature``)."""
        return recover_withdrawal_signer(self.consent_id, self.nonce, self.domain, self.signature)


def sign_grant(
    request: ConsentRequest,
    *,
    private_key: bytes,
    now: int,
    purposes: Collection[Purpose | str] | None = None,
    data_categories: Collection[DataCategory | str] | None = None,
    not_before: int | None = None,
    not_after: int | None = None,
    salt: bytes | None = None,
    nonce: int | None = None,
) -> SignedConsent:
    """Sign a grant answering `request` with the holder's secp256k1 `private_key`.

    The cardholder may narrow the request: a subset of its purposes and categories, a later
    start or an earlier end; never more than asked. Defaults: everything asked, from `now`
    for the requested duration. A fresh salt and a random 128-bit nonce unless given.

    Raises `FormatError` when the choice exceeds the request or is malformed, and
    `VerificationError` (``expired``) when the request has expired.
    """
    if now > request.expires_at:
        raise VerificationError("expired", "the consent request has expired")
    chosen_purposes = vocabulary_tuple(
        request.purposes if purposes is None else purposes, Purpose, "purposes"
    )
    chosen_categories = vocabulary_tuple(
        request.data_categories if data_categories is None else data_categories,
        DataCategory,
        "data_categories",
    )
    for what, chosen, asked in (
        ("purposes", chosen_purposes, request.purposes),
        ("data categories", chosen_categories, request.data_categories),
    ):
        extra = sorted(set(chosen) - set(asked))
        if extra:
            raise FormatError(
                f"a grant cannot add {what} the request did not ask for: "
                f"{', '.join(extra)} (asked: {', '.join(asked)})"
            )
    start = now if not_before is None else not_before
    end = start + request.duration_seconds if not_after is None else not_after
    if end - start > request.duration_seconds:
        raise FormatError("a grant cannot last longer than the request asked")
    opening = ConsentOpening(
        salt=secrets.token_bytes(SALT_BYTES) if salt is None else salt,
        purposes=chosen_purposes,
        data_categories=chosen_categories,
        request_digest=request.digest(),
    )
    try:
        holder = str(Account.from_key(private_key).address)
    except (ValueError, TypeError) as err:
        raise SignatureError("not a secp256k1 private key") from err
    terms = GrantTerms(
        holder=holder,
        grantee=request.controller.ledger_id,
        purpose_hash=opening.purpose_hash,
        scope_hash=opening.scope_hash,
        not_before=start,
        not_after=end,
        nonce=secrets.randbits(128) if nonce is None else nonce,
    )
    signature = _sign(grant_digest(terms, request.registry), private_key)
    return SignedConsent(
        terms=terms,
        domain=request.registry,
        signature=signature,
        opening=opening,
        request_id=request.request_id,
    )


def sign_withdrawal(
    consent_id: bytes, domain: RegistryDomain, *, private_key: bytes, nonce: int | None = None
) -> SignedWithdrawal:
    """Sign the withdrawal of a consent (random 128-bit nonce unless given)."""
    chosen = secrets.randbits(128) if nonce is None else nonce
    consent = hex32(consent_id, "consent_id")
    signature = _sign(withdrawal_digest(consent, chosen, domain), private_key)
    return SignedWithdrawal(consent_id=consent, nonce=chosen, domain=domain, signature=signature)
