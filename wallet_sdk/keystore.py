"""Encrypted keystore file for wallet and signing keys.

Format ``hrss-keystore/1`` (JSON)::

    {"format": "hrss-keystore/1",
     "kdf": {"name": "scrypt", "n": 32768, "r": 8, "p": 1, "salt": "<b64url 16 bytes>"},
     "check": {"nonce": "<b64url 12>", "ciphertext": "<b64url>"},
     "keys": [{"kid": "...", "alg": "EdDSA", "crv": "Ed25519", "public_jwk": {...},
               "nonce": "<b64url 12>", "ciphertext": "<b64url>"}]}

The passphrase goes through scrypt to a 256-bit key; every private key is sealed with
AES-256-GCM under its own random nonce, and the entry's metadata (format, kid, alg, crv,
public JWK) is the associated data, so swapping metadata between entries breaks decryption.
``check`` seals a fixed string so that a wrong passphrase is detected even with no keys.

An entry may instead be sealed with SM4-GCM (GB/T 32907, the national profile): it then
carries ``"cipher": "SM4-GCM"``, its key is HKDF-SM3 of the scrypt key (16 bytes) and the
cipher name is part of its associated data. Entries without ``cipher`` are AES-256-GCM, as
every entry written before SM4 existed. ``check`` likewise: created with SM4-GCM (a national
wallet's keystore) it carries ``"cipher": "SM4-GCM"`` and is sealed as an entry is, so that
nothing in such a keystore is AES.
The file is written atomically (temporary file, fsync, rename) with mode 0600.
"""

from __future__ import annotations

import enum
import hashlib
import json
import os
import secrets
import stat
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from wallet_sdk._sm4 import SM4GCM
from wallet_sdk.errors import FormatError, KeystoreError, WalletError
from wallet_sdk.jose import Curve, Jwk, b64url_decode, b64url_encode

__all__ = ["KEYSTORE_FORMAT", "Keystore", "KeystoreCipher", "KeystoreEntry"]

KEYSTORE_FORMAT = "hrss-keystore/1"
DEFAULT_SCRYPT_N = 2**15
_MIN_SCRYPT_N = 2**10
_MAX_SCRYPT_N = 2**20  # bounds the work a hostile file can demand (~1 GiB at r=8)
_SCRYPT_R = 8
_SCRYPT_P = 1
_CHECK_PLAINTEXT = b"hrss-keystore passphrase check"
_MAX_FILE_BYTES = 4 * 1024 * 1024


class KeystoreCipher(enum.StrEnum):
    """AEAD sealing a keystore entry; the value is the entry's ``cipher`` member."""

    AES_256_GCM = "AES-256-GCM"
    SM4_GCM = "SM4-GCM"


def _entry_aead(key: bytes, cipher: KeystoreCipher) -> AESGCM | SM4GCM:
    if cipher is KeystoreCipher.AES_256_GCM:
        return AESGCM(key)
    return SM4GCM.derived(key, f"{KEYSTORE_FORMAT} {cipher.value}".encode())


def _check_aad(cipher: KeystoreCipher) -> bytes:
    if cipher is KeystoreCipher.AES_256_GCM:
        return _aad(KEYSTORE_FORMAT, "check")
    return _aad(KEYSTORE_FORMAT, "check", cipher.value)


def _entry_aad(kid: str, entry: dict[str, Any], cipher: KeystoreCipher) -> bytes:
    parts = [KEYSTORE_FORMAT, kid, entry["alg"], entry["crv"], entry["public_jwk"]]
    if cipher is not KeystoreCipher.AES_256_GCM:
        parts.append(cipher.value)
    return _aad(*parts)


def _entry_cipher(entry: dict[str, Any]) -> KeystoreCipher:
    cipher = entry.get("cipher", KeystoreCipher.AES_256_GCM.value)
    if cipher == KeystoreCipher.AES_256_GCM.value and "cipher" in entry:
        raise ValueError("an AES-256-GCM entry has no 'cipher' member")
    return KeystoreCipher(cipher)


@dataclass(frozen=True, slots=True)
class KeystoreEntry:
    """Public description of a stored key."""

    kid: str
    curve: Curve
    public_jwk: dict[str, str]


def _derive(passphrase: str, salt: bytes, n: int) -> bytes:
    if not isinstance(passphrase, str) or not passphrase:
        raise KeystoreError("passphrase must be a non-empty string")
    secret = unicodedata.normalize("NFC", passphrase).encode("utf-8")
    try:
        return Scrypt(salt=salt, length=32, n=n, r=_SCRYPT_R, p=_SCRYPT_P).derive(secret)
    except (ValueError, MemoryError) as err:
        raise KeystoreError(f"scrypt failed: {err}") from err


def _aad(*parts: object) -> bytes:
    return json.dumps(parts, sort_keys=True, separators=(",", ":")).encode("utf-8")


class Keystore:
    """An open keystore: the derived key is held in memory, the file is rewritten on change.

    Raises `KeystoreError` for every failure: wrong passphrase, tampered or malformed file,
    unsafe permissions, I/O errors, duplicate or unknown key ids.
    """

    __slots__ = ("_content_digest", "_entries", "_key", "_n", "_path", "_salt", "_sealed")

    def __init__(
        self,
        path: Path,
        key: bytes,
        salt: bytes,
        n: int,
        sealed: dict[str, Any],
        entries: dict[str, dict[str, Any]],
    ) -> None:
        """Internal: use `Keystore.create` or `Keystore.load`."""
        self._path = path
        self._key = key
        self._salt = salt
        self._n = n
        self._sealed = sealed
        self._entries = entries
        self._content_digest = b""

    @classmethod
    def create(
        cls,
        path: str | os.PathLike[str],
        passphrase: str,
        *,
        scrypt_n: int = DEFAULT_SCRYPT_N,
        cipher: KeystoreCipher = KeystoreCipher.AES_256_GCM,
    ) -> Keystore:
        """Create an empty keystore file at `path` (which must not exist).

        `scrypt_n` is the scrypt cost, a power of two in [2**10, 2**20]; lower it only in
        tests. `cipher` seals the passphrase check (each key names its own, `add_key`).
        Raises `KeystoreError` when the file exists, the cost is out of range, or the
        passphrase is empty.
        """
        target = Path(path)
        if target.exists():
            raise KeystoreError(f"{target} already exists")
        _check_cost(scrypt_n)
        salt = secrets.token_bytes(16)
        key = _derive(passphrase, salt, scrypt_n)
        nonce = secrets.token_bytes(12)
        check = _entry_aead(key, cipher).encrypt(nonce, _CHECK_PLAINTEXT, _check_aad(cipher))
        sealed = {"nonce": b64url_encode(nonce), "ciphertext": b64url_encode(check)}
        if cipher is not KeystoreCipher.AES_256_GCM:
            sealed["cipher"] = cipher.value
        store = cls(target, key, salt, scrypt_n, sealed, {})
        store._write()
        return store

    @classmethod
    def load(cls, path: str | os.PathLike[str], passphrase: str) -> Keystore:
        """Open an existing keystore.

        Raises `KeystoreError` when the file is missing, unreadable, readable by group or
        others (POSIX), malformed, uses unsupported parameters, or when the passphrase is wrong
        or the file was tampered with (indistinguishable by design).
        """
        target = Path(path)
        try:
            info = target.stat()
            if os.name == "posix" and info.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeystoreError(f"{target} is accessible by group or others; chmod 600 it")
            if info.st_size > _MAX_FILE_BYTES:
                raise KeystoreError(f"{target} is too large to be a keystore")
            raw = target.read_bytes()
        except OSError as err:
            raise KeystoreError(f"cannot read {target}: {err.strerror}") from err
        try:
            document = json.loads(raw)
            if not isinstance(document, dict) or document.get("format") != KEYSTORE_FORMAT:
                raise KeystoreError(f"{target} is not an {KEYSTORE_FORMAT} file")
            kdf = document["kdf"]
            if (
                kdf.get("name") != "scrypt"
                or kdf.get("r") != _SCRYPT_R
                or kdf.get("p") != _SCRYPT_P
            ):
                raise KeystoreError("unsupported key derivation parameters")
            n = kdf["n"]
            _check_cost(n)
            salt = b64url_decode(kdf["salt"])
            sealed = {
                "nonce": str(document["check"]["nonce"]),
                "ciphertext": str(document["check"]["ciphertext"]),
            }
            try:
                check_cipher = _entry_cipher(document["check"])
            except ValueError as err:
                raise KeystoreError(f"the passphrase check is malformed: {err}") from err
            if check_cipher is not KeystoreCipher.AES_256_GCM:
                sealed["cipher"] = check_cipher.value
            entries: dict[str, dict[str, Any]] = {}
            for entry in document["keys"]:
                kid = entry["kid"]
                if not isinstance(kid, str) or kid in entries:
                    raise KeystoreError("key ids must be unique strings")
                Curve(entry["crv"])
                if not isinstance(entry["public_jwk"], dict) or not all(
                    isinstance(entry[name], str) for name in ("alg", "nonce", "ciphertext")
                ):
                    raise KeystoreError(f"entry {kid!r} is malformed")
                try:
                    _entry_cipher(entry)
                except ValueError as err:
                    raise KeystoreError(f"entry {kid!r} is malformed: {err}") from err
                entries[kid] = dict(entry)
        except KeystoreError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError, WalletError) as err:
            raise KeystoreError(f"{target} is malformed: {err}") from err
        key = _derive(passphrase, salt, n)
        store = cls(target, key, salt, n, sealed, entries)
        store._content_digest = hashlib.sha256(raw).digest()
        try:
            check = _entry_aead(key, check_cipher).decrypt(
                b64url_decode(sealed["nonce"]),
                b64url_decode(sealed["ciphertext"]),
                _check_aad(check_cipher),
            )
        except (InvalidTag, FormatError, ValueError) as err:
            raise KeystoreError("wrong passphrase or corrupted keystore") from err
        if check != _CHECK_PLAINTEXT:
            raise KeystoreError("wrong passphrase or corrupted keystore")
        return store

    @property
    def path(self) -> Path:
        """Location of the keystore file."""
        return self._path

    @property
    def content_digest(self) -> bytes:
        """SHA-256 of the file bytes this object last read or wrote: a writer sharing the file
        with other processes compares it with the file's current bytes to know whether it is
        behind (a stat stamp taken apart from the read can describe newer content)."""
        return self._content_digest

    def entries(self) -> tuple[KeystoreEntry, ...]:
        """Public descriptions of the stored keys, in insertion order."""
        result = []
        for kid, entry in self._entries.items():
            result.append(
                KeystoreEntry(
                    kid=kid, curve=Curve(entry["crv"]), public_jwk=dict(entry["public_jwk"])
                )
            )
        return tuple(result)

    def add_key(
        self,
        key: Jwk,
        *,
        kid: str | None = None,
        cipher: KeystoreCipher = KeystoreCipher.AES_256_GCM,
    ) -> str:
        """Seal a private key into the keystore and rewrite the file; return its key id.

        The key id is `kid`, else the key's own ``kid``, else its RFC 7638 thumbprint; `cipher`
        seals it (SM4-GCM for the national profile). Raises
        `KeystoreError` when the key has no private part, the id is taken, or the write fails.
        """
        if not key.has_private:
            raise KeystoreError("only private keys can be stored")
        key_id = kid or key.kid or key.thumbprint_b64()
        if key_id in self._entries:
            raise KeystoreError(f"key id {key_id!r} is already in the keystore")
        public_jwk = key.with_kid(key_id).public_jwk()
        nonce = secrets.token_bytes(12)
        entry: dict[str, Any] = {
            "kid": key_id,
            "alg": key.algorithm.value,
            "crv": key.curve.value,
            "public_jwk": public_jwk,
        }
        aad = _entry_aad(key_id, entry, cipher)
        ciphertext = _entry_aead(self._key, cipher).encrypt(nonce, key.private_bytes(), aad)
        entry["nonce"] = b64url_encode(nonce)
        entry["ciphertext"] = b64url_encode(ciphertext)
        if cipher is not KeystoreCipher.AES_256_GCM:
            entry["cipher"] = cipher.value
        self._entries[key_id] = entry
        try:
            self._write()
        except KeystoreError:
            del self._entries[key_id]
            raise
        return key_id

    def generate_key(
        self,
        curve: Curve,
        *,
        kid: str | None = None,
        cipher: KeystoreCipher = KeystoreCipher.AES_256_GCM,
    ) -> Jwk:
        """Generate a key on `curve`, store it with `cipher`, and return it (key id set).

        Raises `KeystoreError` as `add_key` does.
        """
        key = Jwk.generate(curve)
        key_id = self.add_key(key, kid=kid, cipher=cipher)
        return key.with_kid(key_id)

    def get(self, kid: str) -> Jwk:
        """Decrypt and return the private key stored under `kid`.

        Raises `KeystoreError` for an unknown id or an entry that fails to decrypt or does not
        match its recorded public key.
        """
        entry = self._entries.get(kid)
        if entry is None:
            raise KeystoreError(f"no key {kid!r} in the keystore")
        try:
            curve = Curve(entry["crv"])
            public_jwk = entry["public_jwk"]
            cipher = _entry_cipher(entry)
            secret = _entry_aead(self._key, cipher).decrypt(
                b64url_decode(entry["nonce"]),
                b64url_decode(entry["ciphertext"]),
                _entry_aad(kid, entry, cipher),
            )
            key = Jwk.from_private_bytes(curve, secret, kid=kid)
        except (InvalidTag, ValueError, KeyError, TypeError, WalletError) as err:
            raise KeystoreError(f"key {kid!r} cannot be decrypted") from err
        if key.public_jwk() != public_jwk:
            raise KeystoreError(f"key {kid!r} does not match its recorded public key")
        return key

    def _write(self) -> None:
        document = {
            "format": KEYSTORE_FORMAT,
            "kdf": {
                "name": "scrypt",
                "n": self._n,
                "r": _SCRYPT_R,
                "p": _SCRYPT_P,
                "salt": b64url_encode(self._salt),
            },
            "check": self._sealed,
            "keys": list(self._entries.values()),
        }
        data = json.dumps(document, indent=2, sort_keys=True).encode("utf-8")
        directory = self._path.parent
        try:
            fd, temp_name = tempfile.mkstemp(prefix=".keystore-", dir=directory)
        except OSError as err:
            raise KeystoreError(f"cannot write to {directory}: {err.strerror}") from err
        try:
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), 0o600)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temp_name, self._path)
            self._content_digest = hashlib.sha256(data).digest()
            if hasattr(os, "O_DIRECTORY"):
                dir_fd = os.open(directory, os.O_DIRECTORY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)
        except OSError as err:
            Path(temp_name).unlink(missing_ok=True)
            raise KeystoreError(f"cannot write {self._path}: {err.strerror}") from err


def _check_cost(n: object) -> None:
    if type(n) is not int or n < _MIN_SCRYPT_N or n > _MAX_SCRYPT_N or n & (n - 1) != 0:
        raise KeystoreError(f"scrypt n must be a power of two in [2**10, 2**20], not {n!r}")
