"""Encrypted keystore: round trip, wrong passphrase, tampering, permissions, atomic writes."""

from __future__ import annotations

import functools
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wallet_sdk import (
    KEYSTORE_FORMAT,
    Curve,
    Jwk,
    Keystore,
    KeystoreError,
    sign_compact,
    verify_compact,
)

FAST_N = 2**10


def _store(tmp_path: Path, passphrase: str = "correct horse") -> Keystore:
    return Keystore.create(tmp_path / "wallet.json", passphrase, scrypt_n=FAST_N)


def test_create_add_load_round_trip(tmp_path: Path) -> None:
    store = _store(tmp_path)
    ed = Jwk.generate(Curve.ED25519)
    kid = store.add_key(ed)
    p256 = store.generate_key(Curve.P256, kid="signing-2026")
    assert kid == ed.thumbprint_b64()
    loaded = Keystore.load(store.path, "correct horse")
    assert [e.kid for e in loaded.entries()] == [kid, "signing-2026"]
    assert loaded.entries()[1].curve is Curve.P256
    restored = loaded.get(kid)
    assert restored.private_bytes() == ed.private_bytes()
    token = sign_compact(b"x", loaded.get("signing-2026"))
    assert verify_compact(token, p256.public(), algorithms=["ES256"]).payload == b"x"


def test_file_format_is_versioned_and_holds_no_secret(tmp_path: Path) -> None:
    store = _store(tmp_path)
    key = Jwk.generate(Curve.SECP256K1)
    store.add_key(key, kid="eth")
    text = store.path.read_text()
    document = json.loads(text)
    assert document["format"] == KEYSTORE_FORMAT
    assert document["kdf"] == {**document["kdf"], "name": "scrypt", "n": FAST_N, "r": 8, "p": 1}
    assert document["keys"][0]["kid"] == "eth"
    assert document["keys"][0]["alg"] == "ES256K"
    assert key.private_jwk()["d"] not in text
    assert key.private_bytes().hex() not in text


def test_file_is_private(tmp_path: Path) -> None:
    store = _store(tmp_path)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    store.add_key(Jwk.generate(Curve.ED25519))
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["wallet.json"]  # no temp files left


def test_default_cost_is_2_pow_15(tmp_path: Path) -> None:
    store = Keystore.create(tmp_path / "k.json", "pw")
    assert json.loads(store.path.read_text())["kdf"]["n"] == 2**15


def test_wrong_passphrase(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with pytest.raises(KeystoreError, match="wrong passphrase or corrupted keystore"):
        Keystore.load(store.path, "wrong")


def test_wrong_passphrase_detected_with_keys(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add_key(Jwk.generate(Curve.ED25519))
    with pytest.raises(KeystoreError, match="wrong passphrase"):
        Keystore.load(store.path, "correct horsE")


def test_create_refuses_existing_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    with pytest.raises(KeystoreError, match="already exists"):
        Keystore.create(store.path, "x", scrypt_n=FAST_N)


@pytest.mark.parametrize("n", [2**9, 2**21, 3000, 1.0])
def test_create_rejects_bad_cost(tmp_path: Path, n: Any) -> None:
    with pytest.raises(KeystoreError, match="scrypt n must be a power of two"):
        Keystore.create(tmp_path / "k.json", "pw", scrypt_n=n)


def test_empty_passphrase_rejected(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="non-empty"):
        Keystore.create(tmp_path / "k.json", "", scrypt_n=FAST_N)


def test_add_key_rejects_public_key_and_duplicate_kid(tmp_path: Path) -> None:
    store = _store(tmp_path)
    key = Jwk.generate(Curve.ED25519)
    with pytest.raises(KeystoreError, match="only private keys"):
        store.add_key(key.public())
    store.add_key(key, kid="a")
    with pytest.raises(KeystoreError, match="already in the keystore"):
        store.add_key(Jwk.generate(Curve.ED25519), kid="a")


def test_get_unknown_kid(tmp_path: Path) -> None:
    with pytest.raises(KeystoreError, match="no key 'nope'"):
        _store(tmp_path).get("nope")


def _rewrite(path: Path, change: Any) -> None:
    document = json.loads(path.read_text())
    change(document)
    path.write_text(json.dumps(document))
    path.chmod(0o600)


def test_swapped_metadata_fails_decryption(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add_key(Jwk.generate(Curve.ED25519), kid="a")
    store.add_key(Jwk.generate(Curve.ED25519), kid="b")

    def swap(document: dict[str, Any]) -> None:
        first, second = document["keys"]
        first["ciphertext"], second["ciphertext"] = second["ciphertext"], first["ciphertext"]
        first["nonce"], second["nonce"] = second["nonce"], first["nonce"]

    _rewrite(store.path, swap)
    loaded = Keystore.load(store.path, "correct horse")
    with pytest.raises(KeystoreError, match="key 'a' cannot be decrypted"):
        loaded.get("a")


def test_tampered_ciphertext_fails(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add_key(Jwk.generate(Curve.P256), kid="a")

    def flip(document: dict[str, Any]) -> None:
        text = document["keys"][0]["ciphertext"]
        document["keys"][0]["ciphertext"] = ("B" if text[0] == "A" else "A") + text[1:]

    _rewrite(store.path, flip)
    with pytest.raises(KeystoreError, match="cannot be decrypted"):
        Keystore.load(store.path, "correct horse").get("a")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.update(format="other/1"), "is not an hrss-keystore/1 file"),
        (lambda d: d["kdf"].update(name="pbkdf2"), "unsupported key derivation"),
        (lambda d: d["kdf"].update(n=2**30), "scrypt n must be a power of two"),
        (lambda d: d.pop("check"), "is malformed"),
        (lambda d: d["kdf"].update(salt="!!"), "is malformed"),
        (lambda d: d["keys"].append(5), "is malformed"),
        (lambda d: d["check"].update(ciphertext="AAAA"), "wrong passphrase"),
    ],
)
def test_load_rejects_malformed_files(tmp_path: Path, change: Any, message: str) -> None:
    store = _store(tmp_path)
    _rewrite(store.path, change)
    with pytest.raises(KeystoreError, match=message):
        Keystore.load(store.path, "correct horse")


def test_load_rejects_non_json_and_missing(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    with pytest.raises(KeystoreError, match="cannot read"):
        Keystore.load(path, "pw")
    path.write_text("not json")
    path.chmod(0o600)
    with pytest.raises(KeystoreError, match="is malformed"):
        Keystore.load(path, "pw")


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_load_rejects_group_readable_file(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.path.chmod(0o640)
    with pytest.raises(KeystoreError, match="accessible by group or others"):
        Keystore.load(store.path, "correct horse")


def test_failed_write_keeps_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path)
    before = store.path.read_bytes()

    def broken_replace(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(KeystoreError, match=r"cannot write .*No space left"):
        store.add_key(Jwk.generate(Curve.ED25519), kid="a")
    monkeypatch.undo()
    assert store.path.read_bytes() == before
    assert store.entries() == ()
    assert [p.name for p in tmp_path.iterdir()] == ["wallet.json"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.one_of(
        st.binary(max_size=200),
        st.recursive(
            st.none() | st.integers() | st.text(max_size=12),
            lambda inner: (
                st.lists(inner, max_size=3)
                | st.dictionaries(
                    st.sampled_from(["format", "kdf", "check", "keys", "n", "salt", "kid", "crv"]),
                    inner,
                    max_size=4,
                )
            ),
            max_leaves=12,
        ).map(lambda value: json.dumps(value).encode()),
    )
)
def test_property_load_raises_only_keystore_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "fuzz.json"
    path.write_bytes(content)
    path.chmod(0o600)
    try:
        store = Keystore.load(path, "pw")
    except KeystoreError:
        return
    store.entries()


def test_load_rejects_entry_with_missing_fields(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.add_key(Jwk.generate(Curve.ED25519), kid="a")
    _rewrite(store.path, lambda d: d["keys"][0].pop("crv"))
    with pytest.raises(KeystoreError, match="is malformed"):
        Keystore.load(store.path, "correct horse")
    _rewrite(store.path, lambda d: d["keys"][0].update(crv="Ed25519", nonce=5))
    with pytest.raises(KeystoreError, match="entry 'a' is malformed"):
        Keystore.load(store.path, "correct horse")


_VALUES = st.none() | st.integers(-5, 2**12) | st.text(max_size=20) | st.lists(st.integers())


@functools.cache
def _template() -> str:
    with tempfile.TemporaryDirectory() as directory:
        store = Keystore.create(Path(directory) / "t.json", "pw", scrypt_n=FAST_N)
        store.add_key(Jwk.generate(Curve.P256), kid="a")
        return store.path.read_text()


@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_property_mutated_keystore_raises_only_keystore_error(
    tmp_path: Path, data: st.DataObject
) -> None:
    path = tmp_path / "m.json"
    document = json.loads(_template())
    section = data.draw(st.sampled_from(["top", "kdf", "check", "key"]))
    target = {
        "top": document,
        "kdf": document["kdf"],
        "check": document["check"],
        "key": document["keys"][0],
    }[section]
    name = data.draw(st.sampled_from(sorted(target)))
    target[name] = data.draw(_VALUES)
    path.write_text(json.dumps(document))
    path.chmod(0o600)
    try:
        Keystore.load(path, "pw").get("a")
    except KeystoreError:
        pass


# -- SM4-GCM entries (national profile) ---------------------------------------------------------


def test_sm4_entries_round_trip_beside_aes_entries(tmp_path: Path) -> None:
    from wallet_sdk.keystore import KeystoreCipher

    store = _store(tmp_path)
    old = store.generate_key(Curve.ED25519, kid="old")
    new = store.generate_key(Curve.SM2, kid="new", cipher=KeystoreCipher.SM4_GCM)
    entries = {e["kid"]: e for e in json.loads(store.path.read_text())["keys"]}
    assert "cipher" not in entries["old"]  # AES-256-GCM entries keep the original layout
    assert entries["new"]["cipher"] == "SM4-GCM"
    loaded = Keystore.load(store.path, "correct horse")
    assert loaded.get("old").private_bytes() == old.private_bytes()
    assert loaded.get("new").private_bytes() == new.private_bytes()
    token = sign_compact(b"e-card", loaded.get("new"))
    assert verify_compact(token, new.public(), algorithms=["SM2SM3"]).payload == b"e-card"


def test_sm4_entry_relabelled_as_aes_does_not_decrypt(tmp_path: Path) -> None:
    from wallet_sdk.keystore import KeystoreCipher

    store = _store(tmp_path)
    store.generate_key(Curve.SM2, kid="a", cipher=KeystoreCipher.SM4_GCM)
    _rewrite(store.path, lambda d: d["keys"][0].pop("cipher"))
    with pytest.raises(KeystoreError, match="key 'a' cannot be decrypted"):
        Keystore.load(store.path, "correct horse").get("a")


def test_unknown_entry_cipher_is_malformed(tmp_path: Path) -> None:
    store = _store(tmp_path)
    store.generate_key(Curve.SM2, kid="a")
    _rewrite(store.path, lambda d: d["keys"][0].update(cipher="ChaCha20"))
    with pytest.raises(KeystoreError, match="entry 'a' is malformed"):
        Keystore.load(store.path, "correct horse")
