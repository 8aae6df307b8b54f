"""The ports through which the credentials domain reads and writes the chain: issuers' signing
keys and credential-type accreditations in ``TrustRegistry``, credential statuses and training
file heads in ``StatusRegistry`` (`CredentialLedger`), and the credential types' committed
schema digests (`CredentialTypeLedger`).

`credential_service.credentials.chain` implements them over ``node_adapter``
(`NodeCredentialLedger`, `NodeCredentialTypeLedger`); the domain modules know nothing of web3.
Writes are signed by the custodied controller of the organisation named by its credit code,
and return once settled (see ``Settings.chain_confirmations``). Every method raises
`LedgerUnavailable` when no node answers and `LedgerRejected` when the contract reverts (its
``contract_error`` names the contract error).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from credential_service.credentials.models import CredentialState
from wallet_sdk.credentials import IssuedCredential, TrainingFileLink
from wallet_sdk.jose import Jwk

__all__ = [
    "CredentialLedger",
    "CredentialTypeLedger",
    "FileEntry",
    "PublishedSchema",
    "SigningKeyOnChain",
]


@dataclass(frozen=True)
class SigningKeyOnChain:
    """A key as ``TrustRegistry`` holds it: its window start and revocation (unix seconds,
    ``revoked_at == 0`` while not revoked), and whether it is registered for credential
    signing (another purpose's key never signs credentials)."""

    valid_from: int
    revoked_at: int
    for_credential_signing: bool


@dataclass(frozen=True)
class FileEntry:
    """A credential of a registration batch that is the next entry of a training file: the
    file's pseudonymous head key (`file_head_key`) and the entry's link."""

    file_key: bytes
    link: TrainingFileLink


class CredentialLedger(Protocol):
    """Reads and writes of ``TrustRegistry`` and ``StatusRegistry`` for credentials."""

    def head_time(self) -> int:
        """Timestamp (unix seconds) of the latest block."""
        ...

    def is_accredited_for(self, *, issuer: bytes, type_id: bytes, at: int) -> bool:
        """Whether the entity `issuer` was active and allowed `type_id` at `at`, read from the
        contracts (not the cache)."""
        ...

    def signing_key(self, key_id: bytes) -> SigningKeyOnChain | None:
        """The key `key_id` (RFC 7638 thumbprint), ``None`` when never registered."""
        ...

    def register_signing_key(
        self, *, issuer: str, entity: bytes, key: Jwk, valid_from: int
    ) -> None:
        """Register `key` for credential signing of the entity `entity`, valid from
        `valid_from` (0: from the registration block), signed by `issuer`'s controller."""
        ...

    def end_key_validity(self, *, actor: str, key_id: bytes, valid_until: int) -> None:
        """End a key's validity at `valid_until` (rotation), signed by `actor`'s controller."""
        ...

    def revoke_key(self, *, actor: str, key_id: bytes, revoked_at: int) -> None:
        """Revoke a key from `revoked_at` (compromise), signed by `actor`'s controller."""
        ...

    def set_credential_type(
        self, *, actor: str, entity: bytes, type_id: bytes, allowed: bool
    ) -> None:
        """Allow or disallow the entity `entity` a credential type from now on, signed by
        `actor`'s controller (the entity's accreditor)."""
        ...

    def file_head(self, file_key: bytes) -> tuple[int, bytes]:
        """A training file's head now: its number of entries and the last one's digest."""
        ...

    def register(
        self,
        *,
        issuer: str,
        entity: bytes,
        credentials: Sequence[IssuedCredential],
        file_entries: Mapping[int, FileEntry],
    ) -> None:
        """Register `credentials` (their ids and digests) as issued by `entity`, in one
        transaction signed by `issuer`'s controller, advancing the heads of the training files
        whose entries `file_entries` names (by index in `credentials`) in the same one."""
        ...

    def current_status(self, credential_id: bytes) -> CredentialState | None:
        """The credential's status now, ``None`` when it is not registered."""
        ...

    def set_status(
        self, *, actor: str, credential_id: bytes, status: CredentialState, reason: int
    ) -> None:
        """Set a credential's status with a reason code, signed by `actor`'s controller."""
        ...


@dataclass(frozen=True)
class PublishedSchema:
    """A credential type's schema digest as ``TrustRegistry`` holds it, and when (block time,
    unix seconds) it was published."""

    schema_digest: bytes
    published_at: int


class CredentialTypeLedger(Protocol):
    """The committed schema digests of credential types, published by one publisher (a
    Ministry controller)."""

    def published_schema(self, type_id: bytes) -> PublishedSchema | None:
        """The digest committed for `type_id`, ``None`` when the type is not published."""
        ...

    def publish_schema(
        self, *, type_id: bytes, schema_digest: bytes, landed: Callable[[], bool]
    ) -> tuple[int, str]:
        """Commit `schema_digest` for `type_id` (the contract takes it once), settled (sent
        again while `landed()` says it is not on chain); its block time and transaction hash."""
        ...
