"""Typed client of `StatusRegistry`: credential status with reason codes and history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._client import ZERO32, ContractClient, as_enum, bytes32, uint
from .chain import BlockId, TxReceipt
from .enums import CredentialStatus
from .errors import ConfigurationError
from .signer import Signer

__all__ = [
    "CredentialRegistration",
    "FileAdvance",
    "FileHead",
    "StatusChange",
    "StatusRecord",
    "StatusRegistryClient",
]


@dataclass(frozen=True)
class StatusRecord:
    """A credential's status and the reason code of the change that set it."""

    status: CredentialStatus
    reason: int


@dataclass(frozen=True)
class StatusChange:
    """One entry of a credential's status history."""

    status: CredentialStatus
    reason: int
    at: int


@dataclass(frozen=True)
class CredentialRegistration:
    """A credential's registration: its issuer, the digest of its issuer-signed token (the
    content the id is bound to) and the block time that witnessed it."""

    issuer: bytes
    digest: bytes
    registered_at: int


@dataclass(frozen=True)
class FileAdvance:
    """A training file entry in a registration batch: credential `index` of the batch is entry
    `sequence` of the file keyed `file` (pseudonymous), linking `previous` (the head digest,
    zero for entry 0)."""

    index: int
    file: bytes
    sequence: int
    previous: bytes


@dataclass(frozen=True)
class FileHead:
    """A file's head: its number of entries and the last entry's digest (zero when empty)."""

    length: int
    digest: bytes


def _same_length(credential_ids: Sequence[bytes], digests: Sequence[bytes]) -> None:
    if len(digests) != len(credential_ids):
        raise ConfigurationError(f"{len(credential_ids)} credential ids but {len(digests)} digests")


class StatusRegistryClient(ContractClient):
    """`StatusRegistry`. Writes raise `TransactionReverted` on a rejected transition."""

    contract_name = "StatusRegistry"

    def register(
        self,
        signer: Signer,
        *,
        issuer: bytes,
        credential_ids: Sequence[bytes],
        digests: Sequence[bytes],
    ) -> TxReceipt:
        """Register new credentials of `issuer` as Active, each bound to its content digest
        (SHA-256 of the issuer-signed token), in the order of `credential_ids`."""
        _same_length(credential_ids, digests)
        return self._transact(
            signer,
            "register",
            [
                bytes32("issuer", issuer),
                [bytes32("credential_id", c) for c in credential_ids],
                [bytes32("digest", d) for d in digests],
            ],
        )

    def register_with_file_heads(
        self,
        signer: Signer,
        *,
        issuer: bytes,
        credential_ids: Sequence[bytes],
        digests: Sequence[bytes],
        advances: Sequence[FileAdvance],
    ) -> TxReceipt:
        """`register`, and in the same transaction advance the head of each file in
        `advances`. Raises `TransactionReverted` (``FileSequenceTaken``,
        ``FileSequenceNotNext``, ``FilePreviousMismatch``, ...) when an advance is not to the
        file's next entry; `ConfigurationError` on malformed arguments."""
        _same_length(credential_ids, digests)
        return self._transact(
            signer,
            "registerWithFileHeads",
            [
                bytes32("issuer", issuer),
                [bytes32("credential_id", c) for c in credential_ids],
                [bytes32("digest", d) for d in digests],
                [
                    (
                        uint("index", a.index, 32),
                        bytes32("file", a.file),
                        uint("sequence", a.sequence, 32),
                        bytes32("previous", a.previous),
                    )
                    for a in advances
                ],
            ],
        )

    def file_head(self, file: bytes, *, block: BlockId = "latest") -> FileHead:
        """The head of file `file` now (length 0 for a file with no entries)."""
        length, digest, _ = self._call("fileHead", [bytes32("file", file)], block)
        return FileHead(int(length), bytes(digest))

    def file_head_at(self, file: bytes, t: int, *, block: BlockId = "latest") -> FileHead:
        """The head of file `file` as of time `t` (entries registered at or before `t`)."""
        length, digest = self._call("fileHeadAt", [bytes32("file", file), uint("t", t, 64)], block)
        return FileHead(int(length), bytes(digest))

    def set_status(
        self, signer: Signer, *, credential_id: bytes, status: CredentialStatus, reason: int = 0
    ) -> TxReceipt:
        """Suspend, reactivate or revoke a credential."""
        return self._transact(
            signer,
            "setStatus",
            [
                bytes32("credential_id", credential_id),
                uint("status", int(status), 8),
                uint("reason", reason, 16),
            ],
        )

    def status_at(self, credential_id: bytes, t: int, *, block: BlockId = "latest") -> StatusRecord:
        """The status at time `t` (`NONE` before registration or when unknown)."""
        status, reason = self._call(
            "statusAt", [bytes32("credential_id", credential_id), uint("t", t, 64)], block
        )
        return StatusRecord(as_enum(CredentialStatus, status), int(reason))

    def current_status(self, credential_id: bytes, *, block: BlockId = "latest") -> StatusRecord:
        """The status now."""
        value = self._call("currentStatus", [bytes32("credential_id", credential_id)], block)
        if isinstance(value, tuple):
            return StatusRecord(as_enum(CredentialStatus, value[0]), int(value[1]))
        return StatusRecord(as_enum(CredentialStatus, value), 0)

    def issuer_of(self, credential_id: bytes, *, block: BlockId = "latest") -> bytes | None:
        """The issuer that registered the credential, `None` when unknown."""
        value = bytes(self._call("issuerOf", [bytes32("credential_id", credential_id)], block))
        return None if value == ZERO32 else value

    def registration_of(
        self, credential_id: bytes, *, block: BlockId = "latest"
    ) -> CredentialRegistration | None:
        """Issuer, content digest and registration time, `None` when never registered."""
        issuer, digest, at = self._call(
            "registrationOf", [bytes32("credential_id", credential_id)], block
        )
        if bytes(issuer) == ZERO32:
            return None
        return CredentialRegistration(bytes(issuer), bytes(digest), int(at))

    def history(
        self, credential_id: bytes, *, block: BlockId = "latest"
    ) -> tuple[StatusChange, ...]:
        """Every status change of the credential, oldest first."""
        cid = bytes32("credential_id", credential_id)
        length = int(self._call("historyLength", [cid], block))
        changes = []
        for i in range(length):
            status, reason, at = self._call("historyAt", [cid, i], block)
            changes.append(StatusChange(as_enum(CredentialStatus, status), int(reason), int(at)))
        return tuple(changes)
