"""What credential verification needs to know from the chain, two ways.

`TrustView` is the protocol the verifier reads: entities and their accreditation for a type at
a time, keys with their validity windows, credential statuses at a time, and (as a
`wallet_sdk.ChainView`) anchors for receipt checks.

`CachedTrustState` holds all of it in memory, built from the contract events of
`TrustRegistry`, `StatusRegistry` and `AnchorRegistry` through `node_adapter.EventReader`.
`refresh()` reads the blocks mined since the last call; `follow()` does so on every new block
in a background thread. Verification then makes no RPC call per credential, yet a revocation
is seen as soon as the block that carries it is read. A chain rollback rebuilds the state from
the deployment block, beside the old one, and swaps it in whole. The answers mirror the
contracts' own view functions exactly (history keyed by block timestamp, "last change at or
before t").

`DirectTrustView` asks the contracts on every question: no cache, one or more RPC calls per
check. It is the reference the cache is tested against, and the choice for a one-off check.

Only this module touches `node_adapter`, and only in the constructors that take a chain.
"""

from __future__ import annotations

import bisect
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from wallet_sdk.errors import WalletError
from wallet_sdk.receipt import AnchorRecord

if TYPE_CHECKING:
    from node_adapter import Chain, Cursor, Deployment, EventReader

__all__ = [
    "CachedTrustState",
    "DirectTrustView",
    "EntityRecord",
    "RegisteredCredential",
    "RegisteredKey",
    "RegistryAddresses",
    "TrustStateError",
    "TrustView",
]

_log = logging.getLogger(__name__)

ACTIVE = 1
_ZERO32 = bytes(32)


class TrustStateError(WalletError):
    """The chain state could not be loaded or refreshed."""


@dataclass(frozen=True, slots=True)
class RegistryAddresses:
    """The registries a verifier trusts, on one chain."""

    chain_id: int
    trust_registry: str
    status_registry: str
    anchor_registry: str


@dataclass(frozen=True, slots=True)
class RegisteredKey:
    """A key as `TrustRegistry` holds it: ``algorithm`` 1 = Ed25519, 2 = P-256,
    3 = secp256k1; ``valid_until``/``revoked_at`` 0 mean never; ``purpose`` 1 = client
    authentication, 2 = credential signing, 3 = document signing, 4 = anchoring."""

    entity_id: bytes
    algorithm: int
    public_key: bytes
    valid_from: int
    valid_until: int
    revoked_at: int
    purpose: int


@dataclass(frozen=True, slots=True)
class RegisteredCredential:
    """A credential's registration in `StatusRegistry`: its issuer, the SHA-256 digest of the
    issuer-signed token it is bound to, and the timestamp of the block that registered it
    (the time the chain witnessed the credential)."""

    issuer: bytes
    digest: bytes
    registered_at: int


@dataclass(frozen=True, slots=True)
class EntityRecord:
    """What `TrustRegistry` says publicly about one entity, with history (times are the
    chain's): its accreditor (``parent``, 32 zero bytes for the Ministry), status changes
    ``(at, status, reason)``, credential types ``type_id -> ((at, allowed), ...)`` and keys
    ``(key_id, RegisteredKey)``."""

    entity_id: bytes
    parent: bytes
    status_history: tuple[tuple[int, int, int], ...]
    type_history: Mapping[bytes, tuple[tuple[int, bool], ...]]
    keys: tuple[tuple[bytes, RegisteredKey], ...]


@runtime_checkable
class TrustView(Protocol):
    """Read-only chain state for credential verification (times are unix seconds).

    Implementations answer exactly as the contracts' views do. Any exception makes the check
    that asked fail (verification fails closed).
    """

    @property
    def registries(self) -> RegistryAddresses: ...

    def entity_registered(self, entity_id: bytes) -> bool: ...

    def entity_active_at(self, entity_id: bytes, t: int) -> bool: ...

    def is_accredited_for(self, entity_id: bytes, type_id: bytes, t: int) -> bool: ...

    def key(self, key_id: bytes) -> RegisteredKey | None: ...

    def is_key_valid_at(self, key_id: bytes, t: int) -> bool: ...

    def credential_issuer(self, credential_id: bytes) -> bytes | None: ...

    def credential_registration(self, credential_id: bytes) -> RegisteredCredential | None: ...

    def credential_status_at(self, credential_id: bytes, t: int) -> tuple[int, int]: ...

    # wallet_sdk.ChainView, for anchor receipts
    def chain_id(self) -> int: ...

    def anchor_of(self, registry: str, root: bytes) -> AnchorRecord | None: ...

    def block_hash(self, number: int) -> bytes: ...

    def anchoring_entity_at(self, trust_registry: str, address: str, t: int) -> bytes: ...

    def is_active_at(self, trust_registry: str, entity: bytes, t: int) -> bool: ...


# -- history helpers ---------------------------------------------------------------------------


@dataclass
class _History:
    """Values keyed by time, in time order; a second value at the same time replaces the first
    (OpenZeppelin `Checkpoints` semantics)."""

    times: list[int] = field(default_factory=list)
    values: list[Any] = field(default_factory=list)

    def push(self, t: int, value: Any) -> None:
        if self.times and self.times[-1] == t:
            self.values[-1] = value
            return
        if self.times and t < self.times[-1]:
            # Block timestamps never decrease; keep order anyway.
            index = bisect.bisect_right(self.times, t)
            self.times.insert(index, t)
            self.values.insert(index, value)
            return
        self.times.append(t)
        self.values.append(value)

    def at(self, t: int, default: Any = None) -> Any:
        index = bisect.bisect_right(self.times, t)
        return self.values[index - 1] if index else default


@dataclass
class _Entity:
    parent: bytes
    status: _History = field(default_factory=_History)  # (status, reason)


@dataclass
class _Credential:
    registration: RegisteredCredential  # built once: verification reads it on every credential
    history: list[tuple[int, int, int]] = field(default_factory=list)  # (at, status, reason)


class _MemoryCursorStore:
    def __init__(self) -> None:
        self._cursor: Cursor | None = None

    def load(self) -> Cursor | None:
        return self._cursor

    def save(self, cursor: Cursor | None) -> None:
        self._cursor = cursor


class CachedTrustState:
    """Chain state kept in memory from contract events (see the module docstring).

    Build with `CachedTrustState.from_chain`. Reads are thread-safe and never touch the
    chain; `refresh()` and `follow()` are the only methods that do.
    """

    def __init__(
        self,
        registries: RegistryAddresses,
        reader: EventReader,
        chain: Chain,
        key_loader: Callable[[bytes], RegisteredKey | None],
    ) -> None:
        self._registries = registries
        self._reader = reader
        self._chain = chain
        # `KeyRegistered` carries no public key: it is read once per key, at refresh time.
        self._load_key = key_loader
        self._lock = threading.RLock()
        # One refresh at a time: the follower thread and `catch_up` callers share the reader.
        self._refreshing = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rebuilding = False  # a rollback was seen and the rebuild has not completed
        self._reset()

    @classmethod
    def from_chain(
        cls, chain: Chain, deployment: Deployment, *, confirmations: int = 0
    ) -> CachedTrustState:
        """Load every event of the deployment's registries, from its deployment block.

        Raises `TrustStateError` when the chain cannot be read.
        """
        from node_adapter import EventReader, load_artifact

        abi = [
            entry
            for name in ("TrustRegistry", "StatusRegistry", "AnchorRegistry")
            for entry in load_artifact(name)["abi"]
            if entry.get("type") == "event"
        ]
        registries = RegistryAddresses(
            chain_id=deployment.chain_id,
            trust_registry=deployment.trust_registry,
            status_registry=deployment.status_registry,
            anchor_registry=deployment.anchor_registry,
        )
        reader = EventReader(
            chain,
            [deployment.trust_registry, deployment.status_registry, deployment.anchor_registry],
            abi,
            cursor_path=_MemoryCursorStore(),
            confirmations=confirmations,
            start_block=deployment.deployed_block,
        )
        direct = DirectTrustView(chain, deployment)
        state = cls(registries, reader, chain, direct.key)
        state.refresh()
        return state

    def _reset(self) -> None:
        self._entities: dict[bytes, _Entity] = {}
        # entity_active_at answers, cleared by every event applied: one verification asks the
        # same question three times (issuer, accreditation, key).
        self._active_memo: dict[tuple[bytes, int], bool] = {}
        self._types: dict[tuple[bytes, bytes], _History] = {}
        self._keys: dict[bytes, RegisteredKey] = {}
        self._anchoring: dict[str, _History] = {}
        self._credentials: dict[bytes, _Credential] = {}
        self._anchors: dict[bytes, AnchorRecord] = {}
        self._block_hashes: dict[int, bytes] = {}
        self._block_times: dict[int, int] = {}
        self.block_number = -1
        self.head_time = 0
        """Timestamp of the last block read: "now" as the chain sees it."""
        self.events_applied = 0

    def _blank(self) -> CachedTrustState:
        """An empty state for the same registries and chain, to rebuild into (block times
        are read again: a reorg may have replaced the blocks)."""
        blank = CachedTrustState.__new__(CachedTrustState)
        blank._registries = self._registries
        blank._chain = self._chain
        blank._reset()
        return blank

    def _adopt(self, rebuilt: CachedTrustState) -> None:
        """Take the tables of `rebuilt` (held under `self._lock`)."""
        self._entities = rebuilt._entities
        self._types = rebuilt._types
        self._keys = rebuilt._keys
        self._anchoring = rebuilt._anchoring
        self._credentials = rebuilt._credentials
        self._anchors = rebuilt._anchors
        self._block_hashes = rebuilt._block_hashes
        self._block_times = rebuilt._block_times
        self._active_memo = {}
        self.events_applied = 0

    # -- refreshing ------------------------------------------------------------------------

    def refresh(self) -> int:
        """Read and apply the events of blocks mined since the last refresh; returns how many
        were applied. On a rollback the state is rebuilt from the deployment block beside the
        current one, which readers keep until the rebuilt state replaces it whole. Raises
        `TrustStateError` when the chain cannot be read: the state is left as it was, except
        after a rollback, when it is emptied (every check that reads it fails) until a refresh
        rebuilds it."""
        with self._refreshing:
            return self._refresh()

    def catch_up(self, block_number: int) -> int:
        """Make sure the state includes block `block_number` (a block the caller saw confirm
        its own transaction): when it does not yet, refresh now, the way `follow` does, instead
        of waiting for the next tick. Returns how many events were applied. Raises
        `TrustStateError` when the chain cannot be read."""
        with self._refreshing:
            if self.block_number >= block_number:
                return 0
            return self._refresh()

    def _refresh(self) -> int:
        from node_adapter import ChainError, ChainRollback

        target: CachedTrustState = self._blank() if self._rebuilding else self
        try:
            try:
                events = self._reader.poll()
            except ChainRollback:
                # Rebuilt beside the current state and swapped in whole: until then, readers
                # keep the old answers instead of an empty state that rejects everything. A
                # failed rebuild leaves `_rebuilding` set, so the next refresh rebuilds from
                # the deployment block again.
                _log.warning("chain rollback: rebuilding the trust state from events")
                self._rebuilding = True
                self._reader.rewind(self._reader.start_block)
                target = self._blank()
                events = self._reader.poll()
            times = {
                e.block_number: target._block_time(e.block_number)
                for e in events
                if e.name == "EntityAccredited"
            }
            cursor = self._reader.cursor
            head_time = (
                target._block_time(cursor.block_number) if cursor is not None else self.head_time
            )
            public_keys = {
                bytes(e.args["keyId"]): self._load_key(bytes(e.args["keyId"]))
                for e in events
                if e.name == "KeyRegistered"
            }
        except ChainError as err:
            if target is not self:
                # The old state holds blocks the chain lost: answer nothing rather than them.
                with self._lock:
                    self._adopt(self._blank())
            raise TrustStateError(f"cannot read chain events: {err}") from err
        if target is not self:
            for event in events:
                target._apply(event, times.get(event.block_number), public_keys)
        with self._lock:
            if target is self:
                for event in events:
                    self._apply(event, times.get(event.block_number), public_keys)
            else:
                self._adopt(target)
                self._rebuilding = False
            if cursor is not None:
                self.block_number = cursor.block_number
            self.head_time = head_time
            self.events_applied += len(events)
        return len(events)

    def _block_time(self, number: int) -> int:
        cached = self._block_times.get(number)
        if cached is None:
            cached = self._chain.block(number).timestamp
            if len(self._block_times) > 100_000:
                self._block_times.clear()
            self._block_times[number] = cached
        return cached

    def follow(
        self, *, interval: float = 0.5, on_error: Callable[[Exception], None] | None = None
    ) -> None:
        """Refresh in a background thread every `interval` seconds (pick about a block time).
        A failed refresh is logged (and passed to `on_error`) and retried on the next tick."""
        if self._thread is not None:
            return
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.refresh()
                except Exception as err:  # keep following; the error is reported
                    _log.warning("trust state refresh failed: %s", err)
                    if on_error is not None:
                        on_error(err)

        self._thread = threading.Thread(target=loop, name="trust-state", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop following."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _apply(
        self,
        event: Any,
        block_time: int | None,
        public_keys: Mapping[bytes, RegisteredKey | None],
    ) -> None:
        self._active_memo = {}
        args = event.args
        name = event.name
        address = str(event.address).lower()
        if address == self._registries.trust_registry.lower():
            if name == "EntityAccredited":
                entity = _Entity(parent=bytes(args["parent"]))
                entity.status.push(block_time or 0, (ACTIVE, 0))
                self._entities[bytes(args["id"])] = entity
            elif name == "EntityStatusChanged":
                found = self._entities.get(bytes(args["id"]))
                if found is not None:
                    found.status.push(int(args["at"]), (int(args["status"]), int(args["reason"])))
            elif name == "CredentialTypeSet":
                key = (bytes(args["id"]), bytes(args["credentialType"]))
                self._types.setdefault(key, _History()).push(int(args["at"]), bool(args["allowed"]))
            elif name == "AnchoringAccountSet":
                account = str(args["account"]).lower()
                entity_id = bytes(args["id"]) if args["enabled"] else _ZERO32
                self._anchoring.setdefault(account, _History()).push(int(args["at"]), entity_id)
            elif name == "KeyRegistered":
                loaded = public_keys.get(bytes(args["keyId"]))
                if loaded is None:
                    raise TrustStateError(f"key 0x{bytes(args['keyId']).hex()} vanished")
                self._keys[bytes(args["keyId"])] = RegisteredKey(
                    entity_id=bytes(args["id"]),
                    algorithm=int(args["alg"]),
                    public_key=loaded.public_key,
                    valid_from=int(args["validFrom"]),
                    valid_until=int(args["validUntil"]),
                    revoked_at=0,
                    purpose=int(args["purpose"]),
                )
            elif name == "KeyValidityEnded":
                self._update_key(bytes(args["keyId"]), valid_until=int(args["validUntil"]))
            elif name == "KeyRevoked":
                self._update_key(bytes(args["keyId"]), revoked_at=int(args["revokedAt"]))
        elif address == self._registries.status_registry.lower():
            if name == "CredentialRegistered":
                self._credentials[bytes(args["credentialId"])] = _Credential(
                    RegisteredCredential(
                        bytes(args["issuer"]), bytes(args["digest"]), int(args["at"])
                    )
                )
            elif name == "StatusChanged":
                credential = self._credentials.get(bytes(args["credentialId"]))
                if credential is not None:
                    credential.history.append(
                        (int(args["at"]), int(args["status"]), int(args["reason"]))
                    )
        elif address == self._registries.anchor_registry.lower() and name == "Anchored":
            self._anchors[bytes(args["root"])] = AnchorRecord(
                str(args["submitter"]), int(args["timestamp"]), int(event.block_number)
            )
            self._block_hashes[int(event.block_number)] = bytes(event.block_hash)

    def _update_key(
        self, key_id: bytes, *, valid_until: int | None = None, revoked_at: int | None = None
    ) -> None:
        key = self._keys.get(key_id)
        if key is None:
            return
        self._keys[key_id] = RegisteredKey(
            entity_id=key.entity_id,
            algorithm=key.algorithm,
            public_key=key.public_key,
            valid_from=key.valid_from,
            valid_until=key.valid_until if valid_until is None else valid_until,
            revoked_at=key.revoked_at if revoked_at is None else revoked_at,
            purpose=key.purpose,
        )

    # -- TrustView ---------------------------------------------------------------------------

    @property
    def registries(self) -> RegistryAddresses:
        return self._registries

    def entity_registered(self, entity_id: bytes) -> bool:
        return bytes(entity_id) in self._entities

    def _status_at(self, entity_id: bytes, t: int) -> int:
        entity = self._entities.get(entity_id)
        if entity is None:
            return 0
        value = entity.status.at(t)
        return 0 if value is None else int(value[0])

    def entity_active_at(self, entity_id: bytes, t: int) -> bool:
        memo_key = (bytes(entity_id), t)
        answer = self._active_memo.get(memo_key)
        if answer is not None:
            return answer
        with self._lock:
            answer = self._entity_active_at(memo_key[0], t)
            memo = self._active_memo
            if len(memo) >= 4096:
                memo.clear()
            memo[memo_key] = answer
            return answer

    def _entity_active_at(self, entity_id: bytes, t: int) -> bool:
        current = entity_id
        for _ in range(8):  # the tree is three levels deep
            if current == _ZERO32:
                return True
            if self._status_at(current, t) != ACTIVE:
                return False
            current = self._entities[current].parent
        return False

    def entity_record(self, entity_id: bytes) -> EntityRecord | None:
        """The public record of an entity, or ``None`` when it is not registered."""
        entity_id = bytes(entity_id)
        with self._lock:
            entity = self._entities.get(entity_id)
            if entity is None:
                return None
            return EntityRecord(
                entity_id=entity_id,
                parent=entity.parent,
                status_history=tuple(
                    (t, int(v[0]), int(v[1]))
                    for t, v in zip(entity.status.times, entity.status.values, strict=True)
                ),
                type_history={
                    type_id: tuple(zip(h.times, (bool(v) for v in h.values), strict=True))
                    for (owner, type_id), h in self._types.items()
                    if owner == entity_id
                },
                keys=tuple((k, v) for k, v in self._keys.items() if v.entity_id == entity_id),
            )

    def is_accredited_for(self, entity_id: bytes, type_id: bytes, t: int) -> bool:
        with self._lock:
            history = self._types.get((bytes(entity_id), bytes(type_id)))
            if history is None or history.at(t, False) is not True:
                return False
            return self.entity_active_at(entity_id, t)

    def key(self, key_id: bytes) -> RegisteredKey | None:
        return self._keys.get(bytes(key_id))

    def is_key_valid_at(self, key_id: bytes, t: int) -> bool:
        key = self._keys.get(bytes(key_id))
        if key is None or t < key.valid_from:
            return False
        if key.valid_until and t >= key.valid_until:
            return False
        if key.revoked_at and t >= key.revoked_at:
            return False
        return self.entity_active_at(key.entity_id, t)

    def credential_issuer(self, credential_id: bytes) -> bytes | None:
        credential = self._credentials.get(bytes(credential_id))
        return None if credential is None else credential.registration.issuer

    def credential_registration(self, credential_id: bytes) -> RegisteredCredential | None:
        credential = self._credentials.get(bytes(credential_id))
        return None if credential is None else credential.registration

    def credential_status_at(self, credential_id: bytes, t: int) -> tuple[int, int]:
        with self._lock:
            credential = self._credentials.get(bytes(credential_id))
            if credential is None or t < credential.registration.registered_at:
                return (0, 0)
            result = (ACTIVE, 0)
            for at, status, reason in credential.history:
                if at > t:
                    break
                result = (status, reason)
            return result

    def chain_id(self) -> int:
        return self._registries.chain_id

    def anchor_of(self, registry: str, root: bytes) -> AnchorRecord | None:
        if registry.lower() != self._registries.anchor_registry.lower():
            raise TrustStateError(f"{registry} is not the cached AnchorRegistry")
        return self._anchors.get(bytes(root))

    def block_hash(self, number: int) -> bytes:
        try:
            return self._block_hashes[number]
        except KeyError as err:
            raise TrustStateError(f"block {number} carries no cached anchor") from err

    def anchoring_entity_at(self, trust_registry: str, address: str, t: int) -> bytes:
        self._require_trust_registry(trust_registry)
        history = self._anchoring.get(address.lower())
        return _ZERO32 if history is None else bytes(history.at(t, _ZERO32))

    def is_active_at(self, trust_registry: str, entity: bytes, t: int) -> bool:
        self._require_trust_registry(trust_registry)
        return self.entity_active_at(entity, t)

    def _require_trust_registry(self, trust_registry: str) -> None:
        if trust_registry.lower() != self._registries.trust_registry.lower():
            raise TrustStateError(f"{trust_registry} is not the cached TrustRegistry")


class DirectTrustView:
    """`TrustView` that asks the contracts on every call (no cache)."""

    def __init__(self, chain: Chain, deployment: Deployment) -> None:
        trust, anchors, statuses, _ = deployment.clients(chain)
        self._chain = chain
        self._trust = trust
        self._anchors = anchors
        self._statuses = statuses
        self._registries = RegistryAddresses(
            chain_id=deployment.chain_id,
            trust_registry=deployment.trust_registry,
            status_registry=deployment.status_registry,
            anchor_registry=deployment.anchor_registry,
        )

    @property
    def registries(self) -> RegistryAddresses:
        return self._registries

    @property
    def head_time(self) -> int:
        """Timestamp of the latest block."""
        return self._chain.block().timestamp

    def entity_registered(self, entity_id: bytes) -> bool:
        return self._trust.entity(entity_id) is not None

    def entity_active_at(self, entity_id: bytes, t: int) -> bool:
        return self._trust.is_active_at(entity_id, t)

    def is_accredited_for(self, entity_id: bytes, type_id: bytes, t: int) -> bool:
        return self._trust.is_accredited_for(entity_id, type_id, t)

    def key(self, key_id: bytes) -> RegisteredKey | None:
        record = self._trust.get_key(key_id)
        if record is None:
            return None
        return RegisteredKey(
            entity_id=record.entity_id,
            algorithm=int(record.alg),
            public_key=record.public_key,
            valid_from=record.valid_from,
            valid_until=record.valid_until,
            revoked_at=record.revoked_at,
            purpose=int(record.purpose),
        )

    def is_key_valid_at(self, key_id: bytes, t: int) -> bool:
        return self._trust.is_key_valid_at(key_id, t)

    def credential_issuer(self, credential_id: bytes) -> bytes | None:
        return self._statuses.issuer_of(credential_id)

    def credential_registration(self, credential_id: bytes) -> RegisteredCredential | None:
        record = self._statuses.registration_of(credential_id)
        if record is None:
            return None
        return RegisteredCredential(record.issuer, record.digest, record.registered_at)

    def credential_status_at(self, credential_id: bytes, t: int) -> tuple[int, int]:
        record = self._statuses.status_at(credential_id, t)
        return int(record.status), record.reason

    def chain_id(self) -> int:
        return self._chain.chain_id

    def anchor_of(self, registry: str, root: bytes) -> AnchorRecord | None:
        if registry.lower() != self._registries.anchor_registry.lower():
            raise TrustStateError(f"{registry} is not the trusted AnchorRegistry")
        record = self._anchors.anchor_of(root)
        if record is None:
            return None
        return AnchorRecord(record.submitter, record.timestamp, record.block_number)

    def block_hash(self, number: int) -> bytes:
        return self._chain.block(number).hash

    def anchoring_entity_at(self, trust_registry: str, address: str, t: int) -> bytes:
        entity = self._trust.anchoring_entity_at(address, t)
        return _ZERO32 if entity is None else entity

    def is_active_at(self, trust_registry: str, entity: bytes, t: int) -> bool:
        return self._trust.is_active_at(entity, t)

    def file_head_at(self, file_key: bytes, t: int) -> tuple[int, bytes]:
        """A training file's head as of `t` (`wallet_sdk.credentials.FileHeadView`). Raises
        `TrustStateError` when the chain cannot be read."""
        from node_adapter import ChainError

        try:
            head = self._statuses.file_head_at(file_key, t)
        except ChainError as err:
            raise TrustStateError(f"cannot read the file head: {err}") from err
        return head.length, head.digest
