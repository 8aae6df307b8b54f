"""`EventReader`: a contract's events from a persisted cursor, with rollback detection."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, runtime_checkable

from ._abi import ABI
from ._client import address as checksum
from .chain import Chain, DecodedEvent
from .errors import ChainError, ChainRollback, ConfigurationError

__all__ = ["Cursor", "CursorStore", "EventReader", "FileCursorStore"]

_RECENT_CHECKPOINTS = 64
_CHANGED_WHILE_READING_RETRIES = 3


@dataclass(frozen=True)
class Cursor:
    """The last block read completely, with its hash, and the hashes of earlier checkpoints
    (newest last) so a rollback can be located."""

    block_number: int
    block_hash: bytes
    recent: tuple[tuple[int, bytes], ...] = ()

    def to_json(self) -> dict[str, object]:
        return {
            "block_number": self.block_number,
            "block_hash": "0x" + self.block_hash.hex(),
            "recent": [[n, "0x" + h.hex()] for n, h in self.recent],
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Cursor:
        recent = data.get("recent", [])
        if not isinstance(recent, list):
            raise ValueError("recent must be a list")
        return cls(
            block_number=int(str(data["block_number"])),
            block_hash=bytes.fromhex(str(data["block_hash"]).removeprefix("0x")),
            recent=tuple((int(n), bytes.fromhex(str(h).removeprefix("0x"))) for n, h in recent),
        )


@runtime_checkable
class CursorStore(Protocol):
    """Where an `EventReader` keeps its cursor (a file by default; a database row in the
    service)."""

    def load(self) -> Cursor | None: ...

    def save(self, cursor: Cursor | None) -> None: ...


class FileCursorStore:
    """A cursor in a JSON file, replaced atomically (write a temporary file, fsync, rename)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> Cursor | None:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as err:
            raise ConfigurationError(f"cannot read cursor {self.path}: {err}") from err
        try:
            data = json.loads(text)
            return None if data is None else Cursor.from_json(data)
        except (ValueError, KeyError, TypeError) as err:
            raise ConfigurationError(f"corrupt cursor file {self.path}: {err}") from err

    def save(self, cursor: Cursor | None) -> None:
        text = json.dumps(None if cursor is None else cursor.to_json())
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except OSError as err:
            Path(tmp).unlink(missing_ok=True)
            raise ConfigurationError(f"cannot write cursor {self.path}: {err}") from err


class EventReader:
    """Reads the events of one contract forward from a persisted cursor.

    `poll()` first checks that the block under the cursor is still on the chain; when it is
    not (a reorg, or a node restarted from older state) it raises `ChainRollback(from_block)`:
    discard what was derived from blocks `>= from_block`, then call `rewind(from_block)`.
    Otherwise it reads logs up to `latest - confirmations` in chunks of `chunk_size` blocks and
    returns the decoded events in chain order. With `auto_commit=False` the cursor only moves
    on `commit()`, so a consumer that crashes before committing reads the events again.
    """

    def __init__(
        self,
        chain: Chain,
        address: str | Sequence[str],
        abi: ABI,
        *,
        cursor_path: Path | CursorStore,
        confirmations: int = 0,
        start_block: int = 0,
        chunk_size: int = 2_000,
        auto_commit: bool = True,
    ) -> None:
        if confirmations < 0 or chunk_size < 1 or start_block < 0:
            raise ConfigurationError("confirmations, start_block >= 0 and chunk_size >= 1")
        self.chain = chain
        self.addresses = (
            [checksum("address", address)]
            if isinstance(address, str)
            else [checksum("address", a) for a in address]
        )
        self.abi = abi
        self.store: CursorStore = (
            cursor_path if isinstance(cursor_path, CursorStore) else FileCursorStore(cursor_path)
        )
        self.confirmations = confirmations
        self.start_block = start_block
        self.chunk_size = chunk_size
        self.auto_commit = auto_commit
        self._pending: Cursor | None = None
        self._lock = threading.Lock()

    @property
    def cursor(self) -> Cursor | None:
        """The cursor as read so far (committed or not)."""
        return self._pending if self._pending is not None else self.store.load()

    def poll(self, *, max_blocks: int | None = None) -> list[DecodedEvent]:
        """New events since the cursor. Raises `ChainRollback` when the chain lost blocks the
        cursor had passed, `ChainUnavailable` when no node answers."""
        with self._lock:
            cursor = self.cursor
            if cursor is not None:
                try:
                    self._check_still_on_chain(cursor)
                except ChainRollback:
                    # The node lost blocks, so it may have lost our transactions too.
                    self.chain.forget_nonces()
                    raise
            head = self.chain.block_number() - self.confirmations
            start = cursor.block_number + 1 if cursor is not None else self.start_block
            if max_blocks is not None:
                head = min(head, start + max_blocks - 1)
            events: list[DecodedEvent] = []
            while start <= head:
                end = min(start + self.chunk_size - 1, head)
                chunk, end_hash = self._read_chunk(start, end)
                events.extend(chunk)
                recent = (
                    (*cursor.recent, (cursor.block_number, cursor.block_hash))
                    if cursor is not None
                    else ()
                )
                cursor = Cursor(end, end_hash, recent[-_RECENT_CHECKPOINTS:])
                self._pending = cursor
                start = end + 1
            if self.auto_commit:
                self.commit()
            return events

    def _read_chunk(self, start: int, end: int) -> tuple[list[DecodedEvent], bytes]:
        for _ in range(_CHANGED_WHILE_READING_RETRIES):
            before = self.chain.find_block(end)
            logs = self.chain.get_logs(address=self.addresses, from_block=start, to_block=end)
            after = self.chain.find_block(end)
            if before is None or after is None or before.hash != after.hash:
                continue  # the chain moved under us; read the chunk again
            events = []
            for entry in logs:
                decoded = self.chain.decode_log(self.abi, entry)
                if isinstance(decoded, DecodedEvent):
                    events.append(decoded)
            return events, after.hash
        raise ChainError(f"blocks {start}..{end} kept changing while being read")

    def _check_still_on_chain(self, cursor: Cursor) -> None:
        block = self.chain.find_block(cursor.block_number)
        if block is not None and block.hash == cursor.block_hash:
            return
        for number, block_hash in reversed(cursor.recent):
            earlier = self.chain.find_block(number)
            if earlier is not None and earlier.hash == block_hash:
                raise ChainRollback(
                    number + 1,
                    f"block {cursor.block_number} is no longer on the chain; "
                    f"last common checkpoint is block {number}",
                )
        raise ChainRollback(
            self.start_block,
            f"block {cursor.block_number} is no longer on the chain; no common checkpoint",
        )

    def commit(self) -> None:
        """Persist the cursor reached by the last `poll()`."""
        if self._pending is not None:
            self.store.save(self._pending)
            self._pending = None

    def rewind(self, from_block: int) -> None:
        """Read again from `from_block` (after a `ChainRollback`, or to re-index)."""
        with self._lock:
            self._pending = None
            if from_block <= self.start_block:
                self.store.save(None)
                return
            block = self.chain.find_block(from_block - 1)
            if block is None:
                raise ChainError(f"cannot rewind to {from_block}: block {from_block - 1} missing")
            self.store.save(Cursor(block.number, block.hash, ()))
