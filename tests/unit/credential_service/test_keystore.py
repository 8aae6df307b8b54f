from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from credential_service.errors import ErrorCode, KeystoreError
from credential_service.keystore import FileKeystore
from wallet_sdk import Curve


def test_keys_survive_reopening(tmp_path: Path) -> None:
    path = tmp_path / "ks"
    keystore = FileKeystore.open(path, "pw", scrypt_n=2**10)
    stored = keystore.generate("controller/X", Curve.SECP256K1)
    assert (
        keystore.ensure("controller/X", Curve.SECP256K1).private_bytes() == stored.private_bytes()
    )
    reopened = FileKeystore.open(path, "pw")
    assert reopened.secret("controller/X") == stored.private_bytes()
    assert reopened.names() == ["controller/X"]
    assert path.stat().st_mode & 0o077 == 0
    assert stored.private_jwk()["d"] not in path.read_text()


def test_wrong_passphrase_is_refused(tmp_path: Path) -> None:
    FileKeystore.open(tmp_path / "ks", "pw", scrypt_n=2**10)
    with pytest.raises(KeystoreError) as caught:
        FileKeystore.open(tmp_path / "ks", "other")
    assert caught.value.code == ErrorCode.KEYSTORE_LOCKED


def test_tampered_entry_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ks"
    FileKeystore.open(path, "pw", scrypt_n=2**10).generate("a", Curve.ED25519)
    document = json.loads(path.read_text())
    document["keys"][0]["public_jwk"]["x"] = document["keys"][0]["public_jwk"]["x"][::-1]
    path.write_text(json.dumps(document))
    with pytest.raises(KeystoreError, match=r"cannot be decrypted|corrupt"):
        FileKeystore.open(path, "pw").get("a")


def test_names_are_written_once_and_must_exist(tmp_path: Path) -> None:
    keystore = FileKeystore.open(tmp_path / "ks", "pw", scrypt_n=2**10)
    keystore.generate("a", Curve.ED25519)
    with pytest.raises(KeystoreError) as exists:
        keystore.generate("a", Curve.ED25519)
    assert exists.value.code == ErrorCode.KEY_EXISTS
    with pytest.raises(KeystoreError) as missing:
        keystore.get("b")
    assert missing.value.code == ErrorCode.KEY_NOT_IN_KEYSTORE


def test_a_key_added_by_another_process_is_found(tmp_path: Path) -> None:
    path = tmp_path / "shared.keystore"
    first = FileKeystore.open(path, "pass", scrypt_n=2**10)
    second = FileKeystore.open(path, "pass", scrypt_n=2**10)
    created = first.generate("credential-signing/A/1", Curve.ED25519)
    assert second.get("credential-signing/A/1").thumbprint() == created.thumbprint()


def test_writers_sharing_a_file_keep_each_others_keys(tmp_path: Path) -> None:
    path = tmp_path / "shared.keystore"
    first = FileKeystore.open(path, "pass", scrypt_n=2**10)
    second = FileKeystore.open(path, "pass", scrypt_n=2**10)
    first.generate("one", Curve.ED25519)
    second.generate("two", Curve.P256)
    first.ensure("three", Curve.SECP256K1)
    reopened = FileKeystore.open(path, "pass")
    assert {"one", "two", "three"} <= set(reopened.names())


def test_a_write_in_the_same_clock_tick_and_of_the_same_size_is_not_overwritten(
    tmp_path: Path,
) -> None:
    # Timestamps are coarse (a write within the same tick keeps the mtime), and two files with
    # the same number of same-shaped keys have the same size: a (mtime, size) stamp cannot see
    # such a change, and the next write dropped the other process's key.
    path = tmp_path / "shared.keystore"
    first = FileKeystore.open(path, "pass", scrypt_n=2**10)
    first.generate("key/a", Curve.ED25519)
    seen = os.stat(path)
    other = tmp_path / "other"
    other.mkdir()
    rewritten = FileKeystore.open(other / "shared.keystore", "pass", scrypt_n=2**10)
    rewritten.generate("key/b", Curve.ED25519)
    os.replace(other / "shared.keystore", path)
    os.utime(path, ns=(seen.st_atime_ns, seen.st_mtime_ns))
    assert os.stat(path).st_size == seen.st_size

    first.generate("key/c", Curve.ED25519)

    assert set(FileKeystore.open(path, "pass").names()) == {"key/b", "key/c"}


def test_concurrent_writers_in_separate_processes_lose_no_key(tmp_path: Path) -> None:
    import multiprocessing

    path = tmp_path / "shared.keystore"
    FileKeystore.open(path, "pass", scrypt_n=2**10)
    context = multiprocessing.get_context("spawn")
    with context.Pool(3) as pool:
        pool.starmap(_add_keys, [(str(path), writer) for writer in "abc"])
    names = set(FileKeystore.open(path, "pass").names())
    assert {f"{w}/{i}" for w in "abc" for i in range(10)} <= names


def _add_keys(path: str, writer: str) -> None:
    keystore = FileKeystore.open(Path(path), "pass")
    for i in range(10):
        keystore.generate(f"{writer}/{i}", Curve.ED25519)


def test_national_profile_keystore_seals_new_keys_with_sm4(tmp_path: Path) -> None:
    from credential_service.crypto_profile import CryptoProfile

    path = tmp_path / "ks"
    FileKeystore.open(path, "pw", scrypt_n=2**10).generate("old", Curve.ED25519)
    cipher = CryptoProfile.NATIONAL.algorithms.keystore_cipher
    national = FileKeystore.open(path, "pw", scrypt_n=2**10, cipher=cipher)
    national.generate("new", Curve.SM2)
    entries = {e["kid"]: e for e in json.loads(path.read_text())["keys"]}
    assert entries["new"]["cipher"] == "SM4-GCM"
    assert "cipher" not in entries["old"]
    reopened = FileKeystore.open(path, "pw", scrypt_n=2**10)
    assert reopened.get("new").curve is Curve.SM2
    assert reopened.get("old").curve is Curve.ED25519
