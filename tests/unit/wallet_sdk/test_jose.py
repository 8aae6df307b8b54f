"""JWK and compact JWS: RFC vectors, jwcrypto interop, and every reject path."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jwcrypto import jwk as jc_jwk
from jwcrypto import jws as jc_jws

from tests.unit.wallet_sdk.conftest import load_asset
from wallet_sdk import (
    Curve,
    FormatError,
    Jwk,
    JwsAlgorithm,
    SignatureError,
    VerificationError,
    WalletError,
    b64url_decode,
    b64url_encode,
    read_unverified_header,
    sign_compact,
    verify_compact,
)

RFC8037 = load_asset("rfc8037_ed25519.json")
RFC7515_A3 = load_asset("rfc7515_a3_es256.json")
RFC7515_A4 = load_asset("rfc7515_a4_es512.json")
RFC7520_4_3 = load_asset("rfc7520_4_3_es512.json")


def _token(header: dict[str, Any], payload: bytes = b"{}", signature: bytes = b"x" * 64) -> str:
    encoded = b64url_encode(json.dumps(header).encode())
    return f"{encoded}.{b64url_encode(payload)}.{b64url_encode(signature)}"


def _check(check: str, message: str, token: str, key: Jwk, **kwargs: Any) -> None:
    kwargs.setdefault("algorithms", [key.algorithm])
    with pytest.raises(VerificationError, match=message) as info:
        verify_compact(token, key, **kwargs)
    assert info.value.check == check


# -- RFC vectors ---------------------------------------------------------------------------


def test_rfc8037_a3_thumbprint() -> None:
    key = Jwk.from_jwk(RFC8037["public_jwk"])
    assert key.thumbprint_b64() == RFC8037["thumbprint_b64url"]
    assert key.thumbprint().hex() == RFC8037["thumbprint_hex"]
    assert len(key.thumbprint()) == 32


def test_rfc8037_a4_signature_matches_exactly() -> None:
    key = Jwk.from_jwk(RFC8037["private_jwk"])
    token = sign_compact(RFC8037["payload"].encode(), key, include_kid=False)
    assert token == RFC8037["jws"]


def test_rfc8037_a5_verification() -> None:
    key = Jwk.from_jwk(RFC8037["public_jwk"])
    verified = verify_compact(RFC8037["jws"], key, algorithms=[JwsAlgorithm.EDDSA])
    assert verified.payload == RFC8037["payload"].encode()
    assert verified.algorithm is JwsAlgorithm.EDDSA
    assert dict(verified.header) == {"alg": "EdDSA"}


def test_rfc7515_a3_es256_verification() -> None:
    key = Jwk.from_jwk(RFC7515_A3["private_jwk"]).public()
    verified = verify_compact(RFC7515_A3["jws"], key, algorithms=["ES256"])
    assert verified.payload.decode() == RFC7515_A3["payload_text"]
    assert verified.payload_json()["iss"] == "joe"


def test_rfc7515_a3_tampered_payload_fails() -> None:
    key = Jwk.from_jwk(RFC7515_A3["private_jwk"])
    header, _, signature = RFC7515_A3["jws"].split(".")
    forged = f"{header}.{b64url_encode(b'{}')}.{signature}"
    _check("signature", "does not verify", forged, key)


def test_rfc7515_a4_es512_verification() -> None:
    key = Jwk.from_jwk(RFC7515_A4["private_jwk"])  # its d matches x, y (checked on import)
    verified = verify_compact(RFC7515_A4["jws"], key.public(), algorithms=["ES512"])
    assert verified.payload.decode() == RFC7515_A4["payload_text"] == "Payload"
    assert dict(verified.header) == {"alg": "ES512"}
    assert verified.algorithm is JwsAlgorithm.ES512 and key.curve is Curve.P521
    assert len(b64url_decode(RFC7515_A4["jws"].split(".")[2])) == 132  # 66-byte r || s


def test_rfc7515_a4_tampered_or_not_allowed_fails() -> None:
    key = Jwk.from_jwk(RFC7515_A4["private_jwk"]).public()
    header, payload, signature = RFC7515_A4["jws"].split(".")
    _check("signature", "does not verify", f"{header}.{b64url_encode(b'payload')}.{signature}", key)
    raw = bytearray(b64url_decode(signature))
    raw[70] ^= 1  # inside s
    _check("signature", "does not verify", f"{header}.{payload}.{b64url_encode(bytes(raw))}", key)
    _check("signature", "132 bytes", f"{header}.{payload}.{b64url_encode(bytes(raw[:-1]))}", key)
    _check("algorithm", "not in the allowlist", RFC7515_A4["jws"], key, algorithms=["ES256"])
    p384 = Jwk.generate(Curve.P384)
    _check("key_type", "P-384", RFC7515_A4["jws"], p384, algorithms=["ES512", "ES384"])


def test_rfc7520_4_3_es512_verification() -> None:
    key = Jwk.from_jwk(RFC7520_4_3["public_jwk"])
    assert key.kid == "bilbo.baggins@hobbiton.example"
    verified = verify_compact(RFC7520_4_3["jws"], key, algorithms=["ES512"])
    assert verified.payload.decode() == RFC7520_4_3["payload_text"]
    assert verified.header["kid"] == "bilbo.baggins@hobbiton.example"


def test_rfc7520_4_3_signing_with_the_published_key() -> None:
    # ECDSA is randomised: what §4.3 can check of a new signature is that it verifies, here
    # and in jwcrypto, under the published public key.
    private = Jwk.from_jwk(RFC7520_4_3["private_jwk"])
    token = sign_compact(RFC7520_4_3["payload_text"].encode(), private)
    assert read_unverified_header(token) == {"alg": "ES512", "kid": private.kid}
    public = Jwk.from_jwk(RFC7520_4_3["public_jwk"])
    assert verify_compact(token, public, algorithms=["ES512"]).payload == (
        RFC7520_4_3["payload_text"].encode()
    )
    theirs = jc_jws.JWS()
    theirs.deserialize(token, jc_jwk.JWK(**RFC7520_4_3["public_jwk"]), alg="ES512")
    assert theirs.payload == RFC7520_4_3["payload_text"].encode()


# -- keys ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("curve", list(Curve))
def test_private_and_public_jwk_round_trip(curve: Curve) -> None:
    key = Jwk.generate(curve, kid="k1")
    private = Jwk.from_jwk(key.private_jwk())
    assert private.private_bytes() == key.private_bytes()
    public = Jwk.from_jwk(json.dumps(key.public_jwk()))
    assert not public.has_private
    assert public == key.public()
    assert public.kid == "k1"
    assert public.thumbprint() == key.thumbprint()
    assert public.public_jwk()["alg"] == curve.algorithm.value


@pytest.mark.parametrize(
    ("curve", "length"),
    [
        (Curve.ED25519, 32),
        (Curve.P256, 65),
        (Curve.SECP256K1, 65),
        (Curve.P384, 97),
        (Curve.P521, 133),
        (Curve.SM2, 65),
    ],
)
def test_raw_public_key_lengths(curve: Curve, length: int) -> None:
    raw = Jwk.generate(curve).raw_public_key()
    assert len(raw) == length
    if curve is not Curve.ED25519:
        assert raw[0] == 4


def test_rfc7515_p256_raw_public_key_is_uncompressed_point() -> None:
    jwk = RFC7515_A3["private_jwk"]
    raw = Jwk.from_jwk(jwk).raw_public_key()
    assert raw == b"\x04" + b64url_decode(jwk["x"]) + b64url_decode(jwk["y"])


def test_thumbprint_ignores_optional_members() -> None:
    bare = Jwk.from_jwk(RFC8037["public_jwk"])
    decorated = Jwk.from_jwk({**RFC8037["public_jwk"], "kid": "other", "use": "sig"})
    assert bare.thumbprint() == decorated.thumbprint()


def test_thumbprint_matches_jwcrypto_for_every_curve() -> None:
    for curve in Curve:
        key = Jwk.generate(curve)
        theirs = jc_jwk.JWK(**key.public_jwk())
        assert theirs.thumbprint() == key.thumbprint_b64()


def test_private_jwk_of_public_key_fails() -> None:
    with pytest.raises(SignatureError, match="no private part"):
        Jwk.generate(Curve.ED25519).public().private_jwk()


def test_repr_hides_private_key() -> None:
    key = Jwk.from_jwk(RFC8037["private_jwk"])
    assert RFC8037["private_jwk"]["d"] not in repr(key)
    assert "private_key" not in repr(key)


_ED = RFC8037["public_jwk"]
_EC = {k: v for k, v in RFC7515_A3["private_jwk"].items() if k != "d"}


@pytest.mark.parametrize(
    ("jwk", "message"),
    [
        ({"kty": "RSA", "n": "AQAB", "e": "AQAB"}, "unsupported curve"),
        ({"kty": "oct", "k": "c2VjcmV0"}, "unsupported curve"),
        ({**_ED, "kty": "EC"}, "needs kty 'OKP'"),
        ({**_EC, "kty": "OKP"}, "needs kty 'EC'"),
        ({**_ED, "crv": "X25519"}, "unsupported curve"),
        ({**_ED, "x": _ED["x"][:-3]}, "must be 32 bytes"),
        ({**_ED, "x": _ED["x"] + "="}, "not unpadded base64url"),
        ({**_ED, "x": 5}, "missing or not a string"),
        ({**_ED, "alg": "ES256"}, "does not match curve"),
        ({**_ED, "kid": 3}, "'kid' must be a string"),
        ({**_EC, "y": _EC["x"]}, "not a valid P-256 public key"),
        ({**_EC, "d": RFC8037["private_jwk"]["d"]}, "does not match its public part"),
        ({**RFC8037["private_jwk"], "x": _EC["x"]}, "does not match its public part"),
        ("[]", "must be a JSON object"),
        ("{not json", "not valid JSON"),
        ('{"kty": "OKP", "kty": "OKP"}', "duplicate member"),
    ],
)
def test_from_jwk_rejects(jwk: Any, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        Jwk.from_jwk(jwk)


@pytest.mark.parametrize("text", ["a", "ab=", "a+b/", "ab!c", "AB"[:1] * 5])
def test_b64url_decode_is_strict(text: str) -> None:
    with pytest.raises(FormatError):
        b64url_decode(text)


def test_b64url_rejects_non_canonical_tail() -> None:
    assert b64url_decode("AA") == b"\x00"
    with pytest.raises(FormatError, match="non-canonical"):
        b64url_decode("AB")


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=100),
        st.dictionaries(
            st.sampled_from(["kty", "crv", "x", "y", "d", "alg", "kid"]),
            st.one_of(st.text(max_size=90), st.integers(), st.none()),
        ),
    )
)
def test_property_from_jwk_raises_only_format_error(data: Any) -> None:
    try:
        Jwk.from_jwk(data)
    except FormatError:
        pass


# -- JWS ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("curve", list(Curve))
def test_sign_verify_round_trip(curve: Curve) -> None:
    key = Jwk.generate(curve)
    token = sign_compact(b"payload", key, headers={"typ": "test+jwt"})
    verified = verify_compact(token, key.public(), algorithms=[curve.algorithm], typ="test+jwt")
    assert verified.payload == b"payload"
    assert verified.header["kid"] == key.thumbprint_b64()
    # RFC 7518 §3.4: r || s, each as wide as the curve's order.
    expected = {Curve.P384: 96, Curve.P521: 132}.get(curve, 64)
    assert len(b64url_decode(token.split(".")[2])) == expected


# jwcrypto has no SM2: SM2 interoperates with OpenSSL instead (test_sm2.py).
_JWCRYPTO_CURVES = [curve for curve in Curve if curve is not Curve.SM2]


@pytest.mark.parametrize("curve", _JWCRYPTO_CURVES)
def test_jwcrypto_verifies_our_tokens(curve: Curve) -> None:
    key = Jwk.generate(curve)
    token = sign_compact(b"hello interop", key)
    theirs = jc_jws.JWS()
    theirs.deserialize(token)
    theirs.verify(jc_jwk.JWK(**key.public_jwk()), alg=curve.algorithm.value)
    assert theirs.payload == b"hello interop"


@pytest.mark.parametrize("curve", _JWCRYPTO_CURVES)
def test_we_verify_jwcrypto_tokens(curve: Curve) -> None:
    key = Jwk.generate(curve)
    signer = jc_jws.JWS(b"from jwcrypto")
    signer.add_signature(
        jc_jwk.JWK(**key.private_jwk()),
        alg=curve.algorithm.value,
        protected=json.dumps({"alg": curve.algorithm.value}),
    )
    token = signer.serialize(compact=True)
    assert verify_compact(token, key.public(), algorithms=[curve.algorithm]).payload == (
        b"from jwcrypto"
    )


def test_sign_requires_private_key() -> None:
    with pytest.raises(SignatureError, match="no private part"):
        sign_compact(b"x", Jwk.generate(Curve.ED25519).public())


@pytest.mark.parametrize("name", ["alg", "crit", "b64", "jwk", "x5c", "x5u", "jku"])
def test_sign_refuses_dangerous_headers(name: str) -> None:
    with pytest.raises(SignatureError, match="headers may not set"):
        sign_compact(b"x", Jwk.generate(Curve.ED25519), headers={name: "v"})


def test_sign_refuses_unserialisable_headers() -> None:
    with pytest.raises(SignatureError, match="JSON-serialisable"):
        sign_compact(b"x", Jwk.generate(Curve.ED25519), headers={"typ": object()})


def test_empty_allowlist_is_an_error() -> None:
    key = Jwk.generate(Curve.ED25519)
    _check("algorithm", "allowlist is empty", sign_compact(b"x", key), key, algorithms=[])


def test_allowlist_rejects_unknown_algorithm_names() -> None:
    key = Jwk.generate(Curve.ED25519)
    _check(
        "algorithm",
        "'HS256' is not a supported",
        sign_compact(b"x", key),
        key,
        algorithms=["HS256"],
    )


def test_rejects_alg_none() -> None:
    key = Jwk.generate(Curve.ED25519)
    token = _token({"alg": "none"}, signature=b"")
    _check("algorithm", "'none' is never accepted", token, key)
    _check("algorithm", "'none' is never accepted", _token({"alg": "None"}), key)


def test_rejects_missing_alg() -> None:
    key = Jwk.generate(Curve.ED25519)
    _check("algorithm", "no 'alg'", _token({"typ": "JWT"}), key)


def test_rejects_hs256_key_confusion() -> None:
    # An attacker HMACs with the public key bytes as the secret; we never accept HS*.
    import hashlib
    import hmac

    key = Jwk.generate(Curve.P256)
    header = b64url_encode(b'{"alg":"HS256"}')
    payload = b64url_encode(b"{}")
    secret = json.dumps(key.public_jwk()).encode()
    mac = hmac.new(secret, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    _check(
        "algorithm",
        "'HS256' is not in the allowlist",
        f"{header}.{payload}.{b64url_encode(mac)}",
        key,
    )


def test_rejects_alg_outside_allowlist() -> None:
    key = Jwk.generate(Curve.P256)
    _check(
        "algorithm",
        "'ES256' is not in the allowlist",
        sign_compact(b"x", key),
        key,
        algorithms=[JwsAlgorithm.EDDSA],
    )


def test_rejects_header_alg_that_does_not_fit_the_key() -> None:
    ed = Jwk.generate(Curve.ED25519)
    p256 = Jwk.generate(Curve.P256)
    token = sign_compact(b"x", p256)
    _check("key_type", "does not match the Ed25519", token, ed, algorithms=["ES256", "EdDSA"])


def test_rejects_es256k_token_for_p256_key() -> None:
    k1 = Jwk.generate(Curve.SECP256K1)
    p256 = Jwk.generate(Curve.P256)
    token = sign_compact(b"x", k1)
    _check("key_type", "P-256", token, p256, algorithms=["ES256", "ES256K"])


@pytest.mark.parametrize(
    "extra",
    [{"crit": ["exp"], "exp": 1}, {"crit": []}, {"b64": False, "crit": ["b64"]}, {"b64": True}],
)
def test_rejects_crit_extensions(extra: dict[str, Any]) -> None:
    key = Jwk.generate(Curve.ED25519)
    _check("crit", "not supported", _token({"alg": "EdDSA", **extra}), key)


@pytest.mark.parametrize("name", ["jwk", "jku", "x5c", "x5u"])
def test_rejects_embedded_keys(name: str) -> None:
    key = Jwk.generate(Curve.ED25519)
    _check("embedded_key", name, _token({"alg": "EdDSA", name: key.public_jwk()}), key)


def test_rejects_wrong_typ() -> None:
    key = Jwk.generate(Curve.ED25519)
    token = sign_compact(b"x", key, headers={"typ": "other"})
    _check("typ", "'other' is not 'vc\\+jwt'", token, key, typ="vc+jwt")


def test_rejects_oversized_token() -> None:
    key = Jwk.generate(Curve.ED25519)
    token = sign_compact(b"x" * 70_000, key)
    _check("size", "longer than 65536", token, key)
    _check("size", "longer than 100", sign_compact(b"x" * 100, key), key, max_size=100)
    assert verify_compact(token, key, algorithms=["EdDSA"], max_size=200_000).payload


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("a.b", "exactly three segments"),
        ("a.b.c.d", "exactly three segments"),
        ("!!.e30.AA", "header"),
        (f"{b64url_encode(b'[1]')}.e30.AA", "must be a JSON object"),
        (f"{b64url_encode(b'{}{')}.e30.AA", "not valid JSON"),
        (b64url_encode(b'{"alg":1,"alg":2}') + ".e30.AA", "duplicate member"),
        (b64url_encode(b'{"alg":"EdDSA"}') + ".e30=.AA", "payload or signature"),
    ],
)
def test_rejects_malformed_tokens(token: str, message: str) -> None:
    _check("format", message, token, Jwk.generate(Curve.ED25519))


def test_rejects_wrong_signature_length_and_forgery() -> None:
    key = Jwk.generate(Curve.P256)
    header, payload, signature = sign_compact(b"x", key).split(".")
    raw = b64url_decode(signature)
    _check("signature", "is 64 bytes", f"{header}.{payload}.{b64url_encode(raw[:-1])}", key)
    forged = bytes([raw[0] ^ 1]) + raw[1:]
    _check("signature", "does not verify", f"{header}.{payload}.{b64url_encode(forged)}", key)
    other = Jwk.generate(Curve.P256)
    _check("signature", "does not verify", f"{header}.{payload}.{signature}", other)


def test_read_unverified_header() -> None:
    key = Jwk.generate(Curve.ED25519, kid="abc")
    assert read_unverified_header(sign_compact(b"x", key))["kid"] == "abc"
    with pytest.raises(VerificationError) as info:
        read_unverified_header("nope")
    assert info.value.check == "format"


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=300),
        st.lists(st.text(alphabet="ABCDEFabcdef0123456789-_=.", max_size=60), max_size=4).map(
            ".".join
        ),
        st.dictionaries(
            st.sampled_from(["alg", "crit", "kid", "b64", "jwk", "typ"]),
            st.one_of(st.text(max_size=8), st.integers(), st.none(), st.lists(st.text(max_size=3))),
        ).map(lambda h: _token(h)),
    )
)
def test_property_verify_raises_only_wallet_errors(token: str) -> None:
    key = Jwk.from_jwk(RFC8037["public_jwk"])
    with pytest.raises(WalletError):
        verify_compact(token, key, algorithms=["EdDSA"])


@pytest.mark.parametrize("curve", [Curve.P256, Curve.SECP256K1, Curve.P384, Curve.P521])
@pytest.mark.parametrize("pattern", ["zero", "r_zero", "above_order"])
def test_degenerate_ecdsa_signatures_fail_as_signature(curve: Curve, pattern: str) -> None:
    key = Jwk.generate(curve)
    header, payload, signature = sign_compact(b"x", key).split(".")
    size = len(b64url_decode(signature)) // 2
    raw = {
        "zero": bytes(2 * size),
        "r_zero": bytes(size) + b"\x01" * size,
        "above_order": b"\xff" * (2 * size),
    }[pattern]
    _check("signature", "does not verify", f"{header}.{payload}.{b64url_encode(raw)}", key)
