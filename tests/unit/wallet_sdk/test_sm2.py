"""SM2 with SM3 (GB/T 32918.2, GM/T 0009 identity) in `wallet_sdk.jose`: the standard's
example, JWK form and thumbprint, the ``SM2SM3`` JWS algorithm and where it is refused, and
interoperability both ways with the system's OpenSSL command line."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from wallet_sdk import FormatError, VerificationError
from wallet_sdk.jose import (
    Curve,
    Jwk,
    JwsAlgorithm,
    b64url_decode,
    b64url_encode,
    sign_compact,
    verify_compact,
)

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "wallet_sdk"
VECTOR: dict[str, str] = json.loads((ASSETS / "gbt32918_sm2.json").read_text())
_ORDER = int("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123", 16)


def _standard_key() -> Jwk:
    return Jwk.from_private_bytes(Curve.SM2, bytes.fromhex(VECTOR["d"]))


def test_standard_key_derives_the_published_public_key() -> None:
    key = _standard_key()
    assert key.raw_public_key() == bytes.fromhex("04" + VECTOR["x"] + VECTOR["y"])


def test_standard_signature_verifies_with_the_published_public_key() -> None:
    from wallet_sdk._sm2 import Sm2PublicKey

    public = Sm2PublicKey.from_point(bytes.fromhex("04" + VECTOR["x"] + VECTOR["y"]))
    signature = bytes.fromhex(VECTOR["r"] + VECTOR["s"])
    public.verify(signature, VECTOR["message"].encode())


def test_standard_signature_fails_on_another_message() -> None:
    from wallet_sdk._sm2 import Sm2PublicKey, Sm2SignatureInvalid

    public = Sm2PublicKey.from_point(bytes.fromhex("04" + VECTOR["x"] + VECTOR["y"]))
    with pytest.raises(Sm2SignatureInvalid, match="does not verify"):
        public.verify(bytes.fromhex(VECTOR["r"] + VECTOR["s"]), b"message digesT")


def test_signatures_are_randomised_and_verify() -> None:
    key = Jwk.generate(Curve.SM2)
    first = sign_compact(b"payload", key)
    second = sign_compact(b"payload", key)
    assert first != second  # the nonce is drawn inside the library
    for token in (first, second):
        verified = verify_compact(token, key.public(), algorithms=["SM2SM3"])
        assert verified.algorithm is JwsAlgorithm.SM2SM3
        assert verified.payload == b"payload"


def test_jwk_round_trip_and_members() -> None:
    key = _standard_key()
    public = key.public_jwk()
    assert public["kty"] == "EC"
    assert public["crv"] == "SM2"
    assert public["alg"] == "SM2SM3"
    assert b64url_decode(public["x"]) == bytes.fromhex(VECTOR["x"])
    assert Jwk.from_jwk(public) == key.public()
    private = Jwk.from_jwk(key.private_jwk())
    assert private.private_bytes() == bytes.fromhex(VECTOR["d"])


def test_thumbprint_is_rfc7638_over_required_members() -> None:
    key = _standard_key()
    canonical = json.dumps(
        {"crv": "SM2", "kty": "EC", "x": key.public_jwk()["x"], "y": key.public_jwk()["y"]},
        separators=(",", ":"),
        sort_keys=True,
    )
    import hashlib

    assert key.thumbprint() == hashlib.sha256(canonical.encode()).digest()


def test_sm2_is_refused_where_the_allowlist_does_not_name_it() -> None:
    key = Jwk.generate(Curve.SM2)
    token = sign_compact(b"x", key)
    with pytest.raises(VerificationError, match="not in the allowlist") as info:
        verify_compact(token, key.public(), algorithms=["ES256", "EdDSA"])
    assert info.value.check == "algorithm"


def test_sm2_token_against_a_p256_key_is_key_confusion() -> None:
    token = sign_compact(b"x", Jwk.generate(Curve.SM2))
    p256 = Jwk.generate(Curve.P256)
    with pytest.raises(VerificationError, match="does not match") as info:
        verify_compact(token, p256.public(), algorithms=["SM2SM3", "ES256"])
    assert info.value.check == "key_type"


def test_es256_header_on_an_sm2_key_is_key_confusion() -> None:
    sm2 = Jwk.generate(Curve.SM2)
    token = sign_compact(b"x", Jwk.generate(Curve.P256))
    with pytest.raises(VerificationError, match="does not match") as info:
        verify_compact(token, sm2.public(), algorithms=["SM2SM3", "ES256"])
    assert info.value.check == "key_type"


@pytest.mark.parametrize(
    ("signature", "message"),
    [
        (b"\x00" * 64, "out of range"),
        (_ORDER.to_bytes(32, "big") + (1).to_bytes(32, "big"), "out of range"),
        (b"\x01" * 63, "64 bytes"),
    ],
)
def test_malformed_signatures_fail_the_signature_check(signature: bytes, message: str) -> None:
    key = Jwk.generate(Curve.SM2)
    head, payload, _ = sign_compact(b"x", key).split(".")
    with pytest.raises(VerificationError, match=message) as info:
        verify_compact(
            f"{head}.{payload}.{b64url_encode(signature)}", key.public(), algorithms=["SM2SM3"]
        )
    assert info.value.check == "signature"


def _jwk_with(**members: Any) -> dict[str, Any]:
    jwk: dict[str, Any] = dict(_standard_key().public_jwk())
    jwk.update(members)
    return {k: v for k, v in jwk.items() if v is not None}


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        (_jwk_with(y=b64url_encode(b"\x01" * 32)), "not a valid SM2 public key"),
        (_jwk_with(x=b64url_encode(b"\x01" * 31)), "must be 32 bytes"),
        (_jwk_with(kty="OKP"), "needs kty 'EC'"),
        (_jwk_with(alg="ES256"), "does not match curve SM2"),
        (_jwk_with(d=b64url_encode(b"\x00" * 32)), "invalid SM2 private key"),
        (_jwk_with(d=b64url_encode(b"\x07" * 32)), "does not match its public part"),
    ],
)
def test_bad_sm2_jwks_are_rejected(jwk: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        Jwk.from_jwk(jwk)


# Interoperability with an independent implementation: the system's OpenSSL (3.x) CLI.

_OPENSSL = shutil.which("openssl")


def _openssl(*args: str, cwd: Path) -> None:
    assert _OPENSSL is not None, "the openssl command line is required for these tests"
    subprocess.run([_OPENSSL, *args], cwd=cwd, check=True, capture_output=True)


def _public_pem(key: Jwk) -> bytes:
    # SubjectPublicKeyInfo: id-ecPublicKey with the SM2 curve OID 1.2.156.10197.1.301.
    point = key.raw_public_key()
    algorithm = bytes.fromhex("301306072a8648ce3d020106082a811ccf5501822d")
    bit_string = b"\x03\x42\x00" + point
    body = algorithm + bit_string
    der = b"\x30" + bytes([len(body)]) + body
    import base64

    return b"-----BEGIN PUBLIC KEY-----\n" + base64.encodebytes(der) + b"-----END PUBLIC KEY-----\n"


def _der_to_raw(der: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    r, s = decode_dss_signature(der)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def _raw_to_der(raw: bytes) -> bytes:
    from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

    return encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))


def test_openssl_signatures_verify_here(tmp_path: Path) -> None:
    _openssl("genpkey", "-algorithm", "SM2", "-out", "key.pem", cwd=tmp_path)
    _openssl("pkey", "-in", "key.pem", "-text", "-noout", "-out", "key.txt", cwd=tmp_path)
    _openssl(
        "pkey", "-in", "key.pem", "-pubout", "-outform", "DER", "-out", "pub.der", cwd=tmp_path
    )
    (tmp_path / "message").write_bytes(b"labour contract digest")
    _openssl(
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", "key.pem",
        "-in", "message", "-out", "sig.der", "-pkeyopt", "distid:1234567812345678",
        cwd=tmp_path,
    )  # fmt: skip
    point = (tmp_path / "pub.der").read_bytes()[-65:]
    x, y = point[1:33], point[33:]
    public = Jwk.from_jwk({"kty": "EC", "crv": "SM2", "x": b64url_encode(x), "y": b64url_encode(y)})
    signature = _der_to_raw((tmp_path / "sig.der").read_bytes())
    header = b64url_encode(b'{"alg":"SM2SM3"}')
    # Sign the JWS signing input itself with OpenSSL, then verify it as a compact JWS here.
    payload = b64url_encode(b"labour contract digest")
    (tmp_path / "input").write_bytes(f"{header}.{payload}".encode())
    _openssl(
        "pkeyutl", "-sign", "-rawin", "-digest", "sm3", "-inkey", "key.pem",
        "-in", "input", "-out", "jws.der", "-pkeyopt", "distid:1234567812345678",
        cwd=tmp_path,
    )  # fmt: skip
    jws_sig = b64url_encode(_der_to_raw((tmp_path / "jws.der").read_bytes()))
    verified = verify_compact(f"{header}.{payload}.{jws_sig}", public, algorithms=["SM2SM3"])
    assert verified.payload == b"labour contract digest"
    from wallet_sdk._sm2 import Sm2PublicKey

    Sm2PublicKey.from_point(point).verify(signature, b"labour contract digest")


def test_our_signatures_verify_in_openssl(tmp_path: Path) -> None:
    key = Jwk.generate(Curve.SM2)
    token = sign_compact(b"access token claims", key)
    header, payload, signature = token.split(".")
    (tmp_path / "pub.pem").write_bytes(_public_pem(key))
    (tmp_path / "input").write_bytes(f"{header}.{payload}".encode())
    (tmp_path / "sig.der").write_bytes(_raw_to_der(b64url_decode(signature)))
    _openssl(
        "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "pub.pem",
        "-in", "input", "-sigfile", "sig.der", "-pkeyopt", "distid:1234567812345678",
        cwd=tmp_path,
    )  # fmt: skip
    # A flipped byte must make OpenSSL refuse it: the check above can fail.
    (tmp_path / "input").write_bytes(f"{header}.{payload}x".encode())
    with pytest.raises(subprocess.CalledProcessError):
        _openssl(
            "pkeyutl", "-verify", "-rawin", "-digest", "sm3", "-pubin", "-inkey", "pub.pem",
            "-in", "input", "-sigfile", "sig.der", "-pkeyopt", "distid:1234567812345678",
            cwd=tmp_path,
        )  # fmt: skip
