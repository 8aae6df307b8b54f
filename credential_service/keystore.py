"""The service keystore: named private keys, encrypted at rest.

A thin wrapper over ``wallet_sdk.Keystore`` (scrypt + AES-256-GCM, one file, mode 0600):
entries are named (``service/token-signing``, ``service/deployer``, ``controller/<credit
code>``, ``client/<credit code>``) and the name is the entry's ``kid``. Errors of the wallet
keystore are re-raised as ``credential_service.errors.KeystoreError``.
"""

from __future__ import annotations

import fcntl
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from credential_service.errors import ErrorCode, KeystoreError
from wallet_sdk import Curve, Jwk, KeystoreCipher, WalletError
from wallet_sdk import Keystore as WalletKeystore

DEFAULT_SCRYPT_N = 2**15


@contextmanager
def _file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock shared by every process using the keystore at ``path``."""
    with open(path.with_name(path.name + ".lock"), "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


class FileKeystore:
    """Named private keys in one encrypted file.

    Raises ``KeystoreError``: ``keystore_locked`` when the file cannot be opened (wrong
    passphrase, tampered or unreadable file; indistinguishable by design),
    ``key_not_in_keystore`` for an unknown name, ``key_exists`` when a name is taken.
    """

    def __init__(
        self,
        store: WalletKeystore,
        *,
        passphrase: str | None = None,
        cipher: KeystoreCipher = KeystoreCipher.AES_256_GCM,
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._lock = threading.Lock()
        # Several processes (API workers, anchoring workers) share one keystore file. A key
        # another process added is found by reloading the file on a miss, and every write is
        # a read-modify-write under an exclusive file lock, so no process drops another's key.
        # "Changed" means the file's bytes differ from the bytes this object last read or
        # wrote: a stat stamp (mtime, size) misses a write in the same clock tick, and one taken
        # apart from the read can describe newer content than was loaded (a key was lost so).
        self._passphrase = passphrase

    def _is_behind(self) -> bool:
        try:
            current = self._store.path.read_bytes()
        except OSError:
            return False
        return hashlib.sha256(current).digest() != self._store.content_digest

    def _reload_if_changed(self) -> None:
        if self._passphrase is None or not self._is_behind():
            return
        try:
            self._store = WalletKeystore.load(self._store.path, self._passphrase)
        except WalletError as err:
            raise KeystoreError(
                f"cannot reload keystore {self._store.path}: {err}", code=ErrorCode.KEYSTORE_LOCKED
            ) from err

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """This thread and this process alone write the file, from its newest content."""
        with self._lock, _file_lock(self._store.path):
            self._reload_if_changed()
            yield

    @property
    def path(self) -> Path:
        return self._store.path

    @classmethod
    def open(
        cls,
        path: Path,
        passphrase: str,
        *,
        scrypt_n: int = DEFAULT_SCRYPT_N,
        cipher: KeystoreCipher = KeystoreCipher.AES_256_GCM,
    ) -> FileKeystore:
        """Open ``path``, creating an empty keystore there when it does not exist.

        Keys generated through it are sealed with `cipher` (SM4-GCM in the national profile);
        keys already there open whatever they were sealed with.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            # Under the file lock: two processes starting together must not both create it.
            with _file_lock(path):
                if path.exists():
                    store = WalletKeystore.load(path, passphrase)
                else:
                    store = WalletKeystore.create(path, passphrase, scrypt_n=scrypt_n)
                return cls(store, passphrase=passphrase, cipher=cipher)
        except WalletError as err:
            raise KeystoreError(
                f"cannot open keystore {path}: {err}", code=ErrorCode.KEYSTORE_LOCKED
            ) from err

    def __contains__(self, name: str) -> bool:
        return any(entry.kid == name for entry in self._store.entries())

    def names(self) -> list[str]:
        return sorted(entry.kid for entry in self._store.entries())

    def get(self, name: str) -> Jwk:
        """The private key stored under ``name`` (reloading the file when another process may
        have added it)."""
        if name not in self:
            with self._lock:
                self._reload_if_changed()
        if name not in self:
            raise KeystoreError(f"no key named {name!r}", code=ErrorCode.KEY_NOT_IN_KEYSTORE)
        try:
            return self._store.get(name)
        except WalletError as err:
            raise KeystoreError(f"keystore entry {name!r} is corrupt") from err

    def secret(self, name: str) -> bytes:
        """The raw private key under ``name`` (Ed25519 seed or EC scalar)."""
        try:
            return self.get(name).private_bytes()
        except WalletError as err:
            raise KeystoreError(f"keystore entry {name!r} is corrupt") from err

    def generate(self, name: str, curve: Curve) -> Jwk:
        """Generate and store a key on ``curve`` under ``name`` (never replaced)."""
        with self._exclusive():
            if name in self:
                raise KeystoreError(f"key {name!r} already exists", code=ErrorCode.KEY_EXISTS)
            try:
                return self._store.generate_key(curve, kid=name, cipher=self._cipher)
            except WalletError as err:
                raise KeystoreError(f"cannot store key {name!r}: {err}") from err

    def ensure(self, name: str, curve: Curve) -> Jwk:
        """The key under ``name``, generated on ``curve`` first if missing."""
        with self._exclusive():
            if name not in self:
                try:
                    return self._store.generate_key(curve, kid=name, cipher=self._cipher)
                except WalletError as err:
                    raise KeystoreError(f"cannot store key {name!r}: {err}") from err
        return self.get(name)
