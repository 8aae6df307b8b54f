"""Signed QR payloads: encode, parse, reject forged/expired/misaddressed, render."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallet_sdk import (
    QR_URI_PREFIX,
    Curve,
    FormatError,
    Jwk,
    JwsAlgorithm,
    QrPayloadType,
    SignatureError,
    VerificationError,
    b64url_encode,
    encode_qr_payload,
    parse_qr_payload,
    render_qr_png,
    render_qr_text,
    sign_compact,
)

NOW = 1_760_000_000
ISSUER = "hrss:province:440000"
AUDIENCE = "hrss-wallet"
KEY = Jwk.generate(Curve.ED25519)
P256_KEY = Jwk.generate(Curve.P256, kid="p256-2026")
TRUSTED = {ISSUER: [KEY.public(), P256_KEY.public()]}


def _encode(key: Jwk = KEY, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "type": QrPayloadType.LOGIN_CHALLENGE,
        "issuer": ISSUER,
        "audience": AUDIENCE,
        "issued_at": NOW,
        "expires_at": NOW + 120,
        "body": {"session": "s-1", "scopes": ["login"]},
        "key": key,
    }
    arguments.update(overrides)
    return encode_qr_payload(**arguments)


def _parse(text: str, **overrides: Any) -> Any:
    arguments: dict[str, Any] = {"trusted_keys": TRUSTED, "now": NOW + 10, "audience": AUDIENCE}
    arguments.update(overrides)
    return parse_qr_payload(text, **arguments)


def _reject(check: str, message: str, text: str, **overrides: Any) -> None:
    with pytest.raises(VerificationError, match=message) as info:
        _parse(text, **overrides)
    assert info.value.check == check


@pytest.mark.parametrize("kind", list(QrPayloadType))
def test_round_trip(kind: QrPayloadType) -> None:
    text = _encode(type=kind, nonce="n-123")
    assert text.startswith(QR_URI_PREFIX)
    payload = _parse(text)
    assert payload.type is kind
    assert (payload.issuer, payload.audience, payload.nonce) == (ISSUER, AUDIENCE, "n-123")
    assert (payload.issued_at, payload.expires_at) == (NOW, NOW + 120)
    assert payload.body["scopes"] == ("login",)
    assert payload.key_id == KEY.thumbprint_b64()
    with pytest.raises(TypeError):
        payload.body["session"] = "other"  # type: ignore[index]


def test_es256_key_with_kid() -> None:
    payload = _parse(_encode(P256_KEY))
    assert payload.key_id == "p256-2026"


@pytest.mark.parametrize("curve", [Curve.P384, Curve.P521, Curve.SM2])
def test_es384_es512_and_sm2_keys_verify_by_default(curve: Curve) -> None:
    key = Jwk.generate(curve, kid=f"{curve}-2026")
    payload = _parse(_encode(key), trusted_keys={ISSUER: [key.public()]})
    assert payload.key_id == f"{curve}-2026"
    _reject(
        "signature",
        "does not verify",
        _encode(Jwk.generate(curve, kid=f"{curve}-2026")),
        trusted_keys={ISSUER: [key.public()]},
    )


def test_secp256k1_keys_do_not_sign_qr_payloads_by_default() -> None:
    key = Jwk.generate(Curve.SECP256K1, kid="k1")
    _reject("algorithm", "not in the allowlist", _encode(key), trusted_keys={ISSUER: [key]})


def test_random_nonces_differ() -> None:
    assert _parse(_encode()).nonce != _parse(_encode()).nonce


def test_payload_is_compact_enough_for_a_small_qr() -> None:
    assert len(_encode()) < 512  # QR version 17 at error correction M


def test_any_audience_only_when_asked() -> None:
    assert _parse(_encode(), audience=None).audience == AUDIENCE
    _reject("audience", "is for 'hrss-wallet', not 'other'", _encode(), audience="other")


def test_rejects_expired() -> None:
    _reject("expired", "expired at", _encode(), now=NOW + 120 + 31)
    assert _parse(_encode(), now=NOW + 120 + 30)  # within leeway


def test_rejects_issued_in_future() -> None:
    _reject("not_yet_valid", "issued in the future", _encode(), now=NOW - 31)


def test_rejects_untrusted_issuer() -> None:
    _reject("issuer", "'evil' is not trusted", _encode(issuer="evil"))


def test_rejects_unknown_key() -> None:
    other = Jwk.generate(Curve.ED25519)
    _reject("key", "no trusted key", _encode(other))


def test_rejects_forged_signature_by_key_claiming_trusted_kid() -> None:
    forger = Jwk.generate(Curve.ED25519).with_kid(KEY.thumbprint_b64())
    _reject("signature", "does not verify", _encode(forger))


def test_rejects_tampered_payload() -> None:
    text = _encode()
    header, payload, signature = text[len(QR_URI_PREFIX) :].split(".")
    claims = json.loads(_b64d(payload))
    claims["exp"] = NOW + 10_000
    tampered = b64url_encode(json.dumps(claims).encode())
    _reject("signature", "does not verify", f"{QR_URI_PREFIX}{header}.{tampered}.{signature}")


def _b64d(text: str) -> bytes:
    from wallet_sdk import b64url_decode

    return b64url_decode(text)


def test_rejects_algorithm_outside_allowlist() -> None:
    _reject("algorithm", "not in the allowlist", _encode(P256_KEY), algorithms=[JwsAlgorithm.EDDSA])


def test_rejects_token_without_qr_typ() -> None:
    claims = {
        "type": "login_challenge",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": NOW,
        "exp": NOW + 60,
        "nonce": "n",
        "body": {},
    }
    token = sign_compact(json.dumps(claims).encode(), KEY, headers={"typ": "JWT"})
    _reject("typ", "'JWT' is not 'hrss-qr\\+jwt'", QR_URI_PREFIX + token)


def _signed(claims: dict[str, Any]) -> str:
    return QR_URI_PREFIX + sign_compact(
        json.dumps(claims).encode(), KEY, headers={"typ": "hrss-qr+jwt"}
    )


_GOOD = {
    "type": "login_challenge",
    "iss": ISSUER,
    "aud": AUDIENCE,
    "iat": NOW,
    "exp": NOW + 60,
    "nonce": "n",
    "body": {},
}


@pytest.mark.parametrize(
    ("changes", "check", "message"),
    [
        ({"type": "pay_now"}, "format", "unknown payload type"),
        ({"aud": 5}, "format", "'aud' must be a non-empty string"),
        ({"exp": "soon"}, "format", "'exp' must be an integer"),
        ({"iat": 1.5}, "format", "'iat' must be an integer"),
        ({"nonce": ""}, "format", "'nonce' must be a non-empty string"),
        ({"body": [1]}, "format", "'body' must be a JSON object"),
        ({"exp": NOW + 10 * 86400}, "expired", "lifetime is out of bounds"),
        ({"iss": 7}, "format", "'iss' must be a non-empty string"),
    ],
)
def test_rejects_malformed_claims(changes: dict[str, Any], check: str, message: str) -> None:
    _reject(check, message, _signed({**_GOOD, **changes}))


@pytest.mark.parametrize(
    ("text", "check", "message"),
    [
        ("https://example.com", "format", "does not start with 'hrss:'"),
        ("hrss:" + "a" * 3000, "size", "longer than"),
        ("hrss:abc", "format", "three segments"),
        ("hrss:e30.!!.AA", "format", "base64url JSON"),
        ("hrss:e30.WzFd.AA", "format", "must be a JSON object"),
    ],
)
def test_rejects_malformed_text(text: str, check: str, message: str) -> None:
    _reject(check, message, text)


def test_encode_rejects_bad_lifetime_and_body() -> None:
    with pytest.raises(FormatError, match="lifetime"):
        _encode(expires_at=NOW)
    with pytest.raises(FormatError, match="lifetime"):
        _encode(expires_at=NOW + 2 * 86400)
    with pytest.raises(FormatError, match="not JSON-serialisable"):
        _encode(body={"x": object()})
    with pytest.raises(FormatError, match="a QR code holds"):
        _encode(body={"x": "y" * 3000})
    with pytest.raises(SignatureError, match="no private part"):
        _encode(KEY.public())


def test_render_png_and_text() -> None:
    text = _encode()
    png = render_qr_png(text)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    terminal = render_qr_text(text)
    assert "\u2588" in terminal or "\u2580" in terminal or "\u2584" in terminal
    with pytest.raises(FormatError, match="does not fit a QR code"):
        render_qr_png("x" * 5000)


@settings(max_examples=200, deadline=None)
@given(
    st.one_of(
        st.text(max_size=200),
        st.text(max_size=200).map(lambda t: QR_URI_PREFIX + t),
        st.dictionaries(
            st.sampled_from(list(_GOOD)),
            st.one_of(
                st.text(max_size=5), st.integers(), st.none(), st.lists(st.integers(), max_size=2)
            ),
        ).map(lambda d: _signed({**_GOOD, **d})),
    )
)
def test_property_parse_raises_only_verification_error(text: str) -> None:
    try:
        _parse(text)
    except VerificationError:
        pass
