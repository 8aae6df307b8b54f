"""The formats of ``ConsentRegistry``, written once: the EIP-712 domain, the ``Grant`` and
``Withdrawal`` types and their type hashes, the digests a holder signs, and the consent struct
``consentOf`` returns.

Free of web3 (only eth-account's typed-data encoder and eth-utils' keccak), so that the wallet
SDK signs and checks exactly what the contract verifies without loading the chain stack; the
contract client (`node_adapter.consent_registry`) builds its calls from the same definitions.
Raises only `node_adapter.errors.ConfigurationError`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from eth_abi.exceptions import EncodingError
from eth_account.messages import SignableMessage, encode_typed_data
from eth_utils.crypto import keccak

from ._values import address, bytes32, uint
from .errors import ConfigurationError

__all__ = [
    "CONSENT_DOMAIN_NAME",
    "CONSENT_DOMAIN_VERSION",
    "GRANT_TYPEHASH",
    "GRANT_TYPES",
    "WITHDRAWAL_TYPEHASH",
    "WITHDRAWAL_TYPES",
    "ConsentGrant",
    "ConsentOnChain",
    "GrantFields",
    "TypedData",
    "consent_domain",
    "consent_id",
    "consent_typed_data",
    "eip712_digest",
    "typed_data_digest",
    "withdrawal_typed_data",
]

CONSENT_DOMAIN_NAME = "HRSS Consent"
CONSENT_DOMAIN_VERSION = "1"

GRANT_TYPES: dict[str, list[dict[str, str]]] = {
    "Grant": [
        {"name": "holder", "type": "address"},
        {"name": "grantee", "type": "bytes32"},
        {"name": "purposeHash", "type": "bytes32"},
        {"name": "scopeHash", "type": "bytes32"},
        {"name": "notBefore", "type": "uint64"},
        {"name": "notAfter", "type": "uint64"},
        {"name": "nonce", "type": "uint256"},
    ]
}
"""The EIP-712 ``Grant`` struct (``ConsentRegistry.Grant``), as eth-account takes types. Read
only: `consent_typed_data` hands out copies."""
WITHDRAWAL_TYPES: dict[str, list[dict[str, str]]] = {
    "Withdrawal": [
        {"name": "consentId", "type": "bytes32"},
        {"name": "nonce", "type": "uint256"},
    ]
}
"""The EIP-712 ``Withdrawal`` struct. Read only: `withdrawal_typed_data` hands out copies."""


def _type_hash(types: dict[str, list[dict[str, str]]]) -> bytes:
    # EIP-712 encodeType of a struct that references no other struct.
    ((primary, fields),) = types.items()
    members = ",".join(f"{field['type']} {field['name']}" for field in fields)
    return bytes(keccak(text=f"{primary}({members})"))


GRANT_TYPEHASH = _type_hash(GRANT_TYPES)
"""``ConsentRegistry.GRANT_TYPEHASH``."""
WITHDRAWAL_TYPEHASH = _type_hash(WITHDRAWAL_TYPES)
"""``ConsentRegistry.WITHDRAWAL_TYPEHASH``."""

TypedData = tuple[dict[str, Any], dict[str, list[dict[str, str]]], dict[str, Any]]
"""``(domain, types, message)`` as EIP-712 wallets take them; `types` excludes
``EIP712Domain``."""


class GrantFields(Protocol):
    """What a grant has, validated or not (`ConsentGrant` and the wallet's `GrantTerms` are
    validated)."""

    @property
    def holder(self) -> str: ...
    @property
    def grantee(self) -> bytes: ...
    @property
    def purpose_hash(self) -> bytes: ...
    @property
    def scope_hash(self) -> bytes: ...
    @property
    def not_before(self) -> int: ...
    @property
    def not_after(self) -> int: ...
    @property
    def nonce(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ConsentGrant:
    """The consent a holder signs: `grantee` (a DataUser entity id) may use the data in
    `scope_hash` for `purpose_hash` between `not_before` and `not_after`. Purpose and scope are
    salted commitments, never plain text: the EIP-712 ``Grant`` struct (`GRANT_TYPES`).
    Validated on construction (`ConfigurationError`); the wallet's `GrantTerms` is this struct
    as the wallet checks and writes it."""

    holder: str
    grantee: bytes
    purpose_hash: bytes
    scope_hash: bytes
    not_before: int
    not_after: int
    nonce: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "holder", address("holder", self.holder))
        bytes32("grantee", self.grantee)
        bytes32("purpose_hash", self.purpose_hash)
        bytes32("scope_hash", self.scope_hash)
        uint("not_before", self.not_before, 64)
        uint("not_after", self.not_after, 64)
        uint("nonce", self.nonce, 256)

    def as_tuple(self) -> tuple[str, bytes, bytes, bytes, int, int, int]:
        """The ABI tuple of the `Grant` struct."""
        return (
            self.holder,
            self.grantee,
            self.purpose_hash,
            self.scope_hash,
            self.not_before,
            self.not_after,
            self.nonce,
        )


@dataclass(frozen=True, slots=True)
class ConsentOnChain:
    """A consent as ``ConsentRegistry.consentOf`` returns it; ``withdrawn_at == 0`` while not
    withdrawn."""

    holder: str
    grantee: bytes
    purpose_hash: bytes
    scope_hash: bytes
    not_before: int
    not_after: int
    withdrawn_at: int


def consent_domain(chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The ``EIP712Domain`` values of the registry at `verifying_contract` (a checksummed
    address, validated by the caller) on chain `chain_id`."""
    return {
        "name": CONSENT_DOMAIN_NAME,
        "version": CONSENT_DOMAIN_VERSION,
        "chainId": int(chain_id),
        "verifyingContract": verifying_contract,
    }


def _copy(types: dict[str, list[dict[str, str]]]) -> dict[str, list[dict[str, str]]]:
    # The caller may keep or change what it gets; the module's definition stays as written.
    return {name: [dict(field) for field in fields] for name, fields in types.items()}


def consent_typed_data(grant: GrantFields, chain_id: int, verifying_contract: str) -> TypedData:
    """The EIP-712 `(domain, types, message)` of `grant` for the registry at
    `verifying_contract`."""
    message = {
        "holder": grant.holder,
        "grantee": grant.grantee,
        "purposeHash": grant.purpose_hash,
        "scopeHash": grant.scope_hash,
        "notBefore": grant.not_before,
        "notAfter": grant.not_after,
        "nonce": grant.nonce,
    }
    return (
        consent_domain(chain_id, verifying_contract),
        _copy(GRANT_TYPES),
        message,
    )


def withdrawal_typed_data(
    consent_id: bytes, nonce: int, chain_id: int, verifying_contract: str
) -> TypedData:
    """The EIP-712 `(domain, types, message)` withdrawing consent `consent_id`."""
    return (
        consent_domain(chain_id, verifying_contract),
        _copy(WITHDRAWAL_TYPES),
        {"consentId": consent_id, "nonce": nonce},
    )


def eip712_digest(signable: SignableMessage) -> bytes:
    """The digest an EIP-712 signature signs: keccak256 of ``0x19 || version || domain
    separator || struct hash`` (EIP-191 version 0x01, spelled out from the public
    `SignableMessage` fields rather than through eth-account's private helper)."""
    return bytes(keccak(b"\x19" + signable.version + signable.header + signable.body))


def typed_data_digest(typed: TypedData) -> bytes:
    """The EIP-712 digest of `typed`: for a grant, its consent id (``ConsentRegistry.hashGrant``).

    Raises `ConfigurationError` when the message does not fit its types.
    """
    domain, types, message = typed
    try:
        signable = encode_typed_data(domain_data=domain, message_types=types, message_data=message)
    except (ValueError, TypeError, KeyError, EncodingError) as err:
        raise ConfigurationError(f"cannot encode EIP-712 {next(iter(types))}: {err}") from err
    return eip712_digest(signable)


def consent_id(grant: GrantFields, chain_id: int, verifying_contract: str) -> bytes:
    """The consent id: the EIP-712 digest of the grant, as ``ConsentRegistry`` computes it.
    Raises `ConfigurationError` when a field does not fit its type."""
    return typed_data_digest(consent_typed_data(grant, chain_id, verifying_contract))
