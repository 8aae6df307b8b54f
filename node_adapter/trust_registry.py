"""Typed client of `TrustRegistry`: the accreditation tree, entity keys and anchoring accounts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._client import ZERO32, ContractClient, address, as_enum, bytes32, uint
from .chain import BlockId, TxReceipt
from .enums import EntityStatus, KeyAlgorithm, KeyPurpose, Kind
from .signer import Signer

__all__ = ["Entity", "KeyRecord", "TrustRegistryClient", "TypeSchemaRecord"]


@dataclass(frozen=True)
class Entity:
    """An accredited entity as the registry holds it now."""

    kind: Kind
    region: int
    parent: bytes
    status: EntityStatus


@dataclass(frozen=True)
class KeyRecord:
    """A registered key; `valid_until == 0` is open-ended, `revoked_at == 0` never revoked."""

    entity_id: bytes
    alg: KeyAlgorithm
    public_key: bytes
    valid_from: int
    valid_until: int
    revoked_at: int
    purpose: KeyPurpose


@dataclass(frozen=True)
class TypeSchemaRecord:
    """A published credential type: the SHA-256 of its schema's canonical JSON, the account
    that published it (a Ministry controller) and the block time it was published at."""

    schema_digest: bytes
    publisher: str
    published_at: int


class TrustRegistryClient(ContractClient):
    """`TrustRegistry`: writes take the signer first and return the checked `TxReceipt`
    (raising `TransactionReverted` with the contract's custom error); views return typed values.
    Arguments are validated before anything is sent (`ConfigurationError`)."""

    contract_name = "TrustRegistry"

    # -- writes -------------------------------------------------------------------------

    def accredit(
        self,
        signer: Signer,
        *,
        id: bytes,
        kind: Kind,
        region: int,
        parent: bytes,
        controllers: Sequence[str],
    ) -> TxReceipt:
        """Accredit `id` under `parent` (caller: a controller of `parent`)."""
        return self._transact(
            signer,
            "accredit",
            [
                bytes32("id", id),
                uint("kind", int(kind), 8),
                uint("region", region, 32),
                bytes32("parent", parent),
                [address("controller", c) for c in controllers],
            ],
        )

    def set_entity_status(
        self, signer: Signer, *, id: bytes, status: EntityStatus, reason: int = 0
    ) -> TxReceipt:
        """Suspend, reactivate or revoke `id` (caller: a controller of its accreditor)."""
        return self._transact(
            signer,
            "setEntityStatus",
            [bytes32("id", id), uint("status", int(status), 8), uint("reason", reason, 16)],
        )

    def set_credential_type(
        self, signer: Signer, *, id: bytes, credential_type: bytes, allowed: bool
    ) -> TxReceipt:
        """Allow or disallow a credential type for `id` (caller: its accreditor's controller)."""
        return self._transact(
            signer,
            "setCredentialType",
            [bytes32("id", id), bytes32("credential_type", credential_type), bool(allowed)],
        )

    def publish_credential_type(
        self, signer: Signer, *, credential_type: bytes, schema_digest: bytes
    ) -> TxReceipt:
        """Commit a credential type's schema digest, once (caller: a Ministry controller)."""
        return self._transact(
            signer,
            "publishCredentialType",
            [
                bytes32("credential_type", credential_type),
                bytes32("schema_digest", schema_digest),
            ],
        )

    def set_controller(
        self, signer: Signer, *, id: bytes, account: str, enabled: bool
    ) -> TxReceipt:
        """Add or remove a controller account of `id`."""
        return self._transact(
            signer, "setController", [bytes32("id", id), address("account", account), enabled]
        )

    def set_anchoring_account(
        self, signer: Signer, *, id: bytes, account: str, enabled: bool
    ) -> TxReceipt:
        """Add or remove an account allowed to anchor for `id`."""
        return self._transact(
            signer,
            "setAnchoringAccount",
            [bytes32("id", id), address("account", account), bool(enabled)],
        )

    def register_key(
        self,
        signer: Signer,
        *,
        id: bytes,
        key_id: bytes,
        alg: KeyAlgorithm,
        purpose: KeyPurpose,
        public_key: bytes,
        valid_from: int = 0,
        valid_until: int = 0,
    ) -> TxReceipt:
        """Register a public key of `id` for one `purpose`, valid from `valid_from` (0: the
        registration block; an earlier time reverts `ValidityStartsBeforeRegistration`) until
        `valid_until` (0: open-ended)."""
        return self._transact(
            signer,
            "registerKey",
            [
                bytes32("id", id),
                bytes32("key_id", key_id),
                uint("alg", int(alg), 8),
                uint("purpose", int(purpose), 8),
                bytes(public_key),
                uint("valid_from", valid_from, 64),
                uint("valid_until", valid_until, 64),
            ],
        )

    def end_key_validity(self, signer: Signer, *, key_id: bytes, valid_until: int) -> TxReceipt:
        """Shorten a key's validity (rotation)."""
        return self._transact(
            signer,
            "endKeyValidity",
            [bytes32("key_id", key_id), uint("valid_until", valid_until, 64)],
        )

    def revoke_key(self, signer: Signer, *, key_id: bytes, revoked_at: int) -> TxReceipt:
        """Revoke a key from `revoked_at` (may lie in the past: compromise; a later time than
        the block is taken as the block; repeating the current time is a no-op)."""
        return self._transact(
            signer, "revokeKey", [bytes32("key_id", key_id), uint("revoked_at", revoked_at, 64)]
        )

    # -- views --------------------------------------------------------------------------

    def entity(self, id: bytes, *, block: BlockId = "latest") -> Entity | None:
        """The entity `id`, `None` when it was never accredited."""
        kind, region, parent, status = self._call("entity", [bytes32("id", id)], block)
        if int(kind) == 0:
            return None
        return Entity(
            kind=as_enum(Kind, kind),
            region=int(region),
            parent=bytes(parent),
            status=as_enum(EntityStatus, status),
        )

    def status_at(self, id: bytes, t: int, *, block: BlockId = "latest") -> EntityStatus:
        """The status `id` had at time `t`."""
        value = self._call("statusAt", [bytes32("id", id), uint("t", t, 64)], block)
        return as_enum(EntityStatus, value)

    def is_active_at(self, id: bytes, t: int, *, block: BlockId = "latest") -> bool:
        """Whether `id` and all its ancestors were active at `t`."""
        return bool(self._call("isActiveAt", [bytes32("id", id), uint("t", t, 64)], block))

    def is_accredited_for(
        self, id: bytes, credential_type: bytes, t: int, *, block: BlockId = "latest"
    ) -> bool:
        """Whether `id` was active and allowed `credential_type` at `t`."""
        return bool(
            self._call(
                "isAccreditedFor",
                [bytes32("id", id), bytes32("credential_type", credential_type), uint("t", t, 64)],
                block,
            )
        )

    def get_key(self, key_id: bytes, *, block: BlockId = "latest") -> KeyRecord | None:
        """The key `key_id`, `None` when it was never registered."""
        entity_id, alg, public_key, valid_from, valid_until, revoked_at, purpose = self._call(
            "getKey", [bytes32("key_id", key_id)], block
        )
        if bytes(entity_id) == ZERO32:
            return None
        return KeyRecord(
            entity_id=bytes(entity_id),
            alg=as_enum(KeyAlgorithm, alg),
            public_key=bytes(public_key),
            valid_from=int(valid_from),
            valid_until=int(valid_until),
            revoked_at=int(revoked_at),
            purpose=as_enum(KeyPurpose, purpose),
        )

    def is_key_valid_at(self, key_id: bytes, t: int, *, block: BlockId = "latest") -> bool:
        """Whether `key_id` was valid at `t` (window, revocation, owner active)."""
        return bool(
            self._call("isKeyValidAt", [bytes32("key_id", key_id), uint("t", t, 64)], block)
        )

    def is_controller(self, id: bytes, account: str, *, block: BlockId = "latest") -> bool:
        """Whether `account` controls `id`."""
        return bool(
            self._call("isController", [bytes32("id", id), address("account", account)], block)
        )

    def anchoring_entity_at(
        self, account: str, t: int, *, block: BlockId = "latest"
    ) -> bytes | None:
        """The entity `account` anchored for at `t`, `None` when none."""
        value = bytes(
            self._call("anchoringEntityAt", [address("account", account), uint("t", t, 64)], block)
        )
        return None if value == ZERO32 else value

    def status_with_reason_at(
        self, id: bytes, t: int, *, block: BlockId = "latest"
    ) -> tuple[EntityStatus, int]:
        """The status `id` had at `t` and the reason code of the change that set it."""
        status, reason = self._call(
            "statusWithReasonAt", [bytes32("id", id), uint("t", t, 64)], block
        )
        return as_enum(EntityStatus, status), int(reason)

    def is_active(self, id: bytes, *, block: BlockId = "latest") -> bool:
        """Whether `id` and its ancestors are active now."""
        return bool(self._call("isActive", [bytes32("id", id)], block))

    def active_anchoring_entity(
        self, account: str, *, block: BlockId = "latest"
    ) -> tuple[bytes | None, bool]:
        """The entity `account` anchors for now (`None` when none) and whether it is active."""
        entity_id, active = self._call(
            "activeAnchoringEntity", [address("account", account)], block
        )
        value = bytes(entity_id)
        return (None if value == ZERO32 else value), bool(active)

    def credential_type_schema(
        self, credential_type: bytes, *, block: BlockId = "latest"
    ) -> TypeSchemaRecord | None:
        """The published schema digest of a credential type; `None` when not published."""
        digest, publisher, published_at = self._call(
            "credentialTypeSchema", [bytes32("credential_type", credential_type)], block
        )
        if bytes(digest) == ZERO32:
            return None
        return TypeSchemaRecord(bytes(digest), str(publisher), int(published_at))

    def ministry_id(self) -> bytes:
        """The id of the root entity."""
        return bytes(self._call("ministryId"))
