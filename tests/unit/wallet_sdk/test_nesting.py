"""The JSON nesting limit (`wallet_sdk.nesting`) and the parsers that apply it before parsing:
receipts, evidence packages, JWS headers and payloads, disclosures, QR payloads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wallet_sdk import (
    QR_URI_PREFIX,
    AnchorReceipt,
    Curve,
    FormatError,
    Jwk,
    VerificationError,
    b64url_encode,
    parse_qr_payload,
    read_unverified_header,
)
from wallet_sdk.errors import JsonTooDeep
from wallet_sdk.evidence import EvidencePackage
from wallet_sdk.nesting import MAX_JSON_DEPTH, check_json_depth, load_json

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "wallet_sdk"
LIMIT = MAX_JSON_DEPTH


def nested(depth: int, *, opener: str = "[", closer: str = "]", inner: str = "1") -> str:
    return opener * depth + inner + closer * depth


def objects(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize(
    "text",
    [
        nested(LIMIT),
        objects(LIMIT),
        "[" + ",".join(["[[1]]"] * 10_000) + "]",  # wide: many brackets, depth 3
        json.dumps({"s": "[" * 100_000}),  # brackets inside a string do not count
        json.dumps(["\\", "[" * 50, ['\\"[[[[' * 40]]),  # escapes before quotes
        "]" * 1000 + "[1]",  # unmatched closers open nothing
        nested(LIMIT - 3, inner='{"k": [[1]]}'.replace("[[1]]", "[{}]")),
    ],
)
def test_text_at_or_under_the_limit_passes(text: str) -> None:
    check_json_depth(text, what="text")
    check_json_depth(text.encode(), what="text")


@pytest.mark.parametrize(
    "text",
    [
        nested(LIMIT + 1),
        objects(LIMIT + 1),
        nested(LIMIT // 2 + 1, opener='{"a":[', closer="]}"),
        "[" * 100_000 + "]" * 100_000,
        "[" * (LIMIT + 1),  # never closed: the parser enters every level before it fails
        '["x", ' * (LIMIT + 1),
        "[" * 10 + "]" * 10 + "[" * (LIMIT + 1) + "]" * (LIMIT + 1),
        "[[]," * (LIMIT + 1) + "0" + "]" * (LIMIT + 1),  # a run of "[" only once pairs go
        "".join("[" + "[" * LIMIT + "]" * LIMIT + "," for _ in range(LIMIT + 1)),
        '{"s": "\\\\"}' + "[" * (LIMIT + 1),  # an escaped backslash ends nothing early
    ],
)
def test_text_over_the_limit_is_refused_before_parsing(text: str) -> None:
    for data in (text, text.encode()):
        with pytest.raises(
            JsonTooDeep, match=rf"^text nests arrays and objects deeper than {LIMIT} levels$"
        ) as info:
            check_json_depth(data, what="text")
        assert isinstance(info.value, FormatError)
        assert info.value.limit == LIMIT


def test_a_mebibyte_of_nesting_is_refused() -> None:
    with pytest.raises(JsonTooDeep):
        check_json_depth(b"[" * 2**19 + b"]" * 2**19, what="the body")


def test_load_json_parses_and_refuses() -> None:
    assert load_json(b'{"a": [1, {"b": null}]}', what="x") == {"a": [1, {"b": None}]}
    with pytest.raises(JsonTooDeep, match=r"^x nests"):
        load_json(nested(LIMIT + 1), what="x")
    with pytest.raises(FormatError, match=r"^x is not valid JSON$"):
        load_json("[1,", what="x")
    with pytest.raises(FormatError, match=r"^x is not valid JSON$"):
        load_json(b"\xff", what="x")


def test_receipt_and_evidence_package_refuse_deep_text() -> None:
    receipt = (ASSETS / "anchor-receipt-1.example.json").read_text()
    deep = receipt[:-2] + ', "x": ' + nested(LIMIT) + "}"
    with pytest.raises(JsonTooDeep, match=r"^receipt nests arrays and objects deeper"):
        AnchorReceipt.parse(deep)
    package = (ASSETS / "evidence-1.example.json").read_text()
    with pytest.raises(JsonTooDeep, match=r"^package nests arrays and objects deeper"):
        EvidencePackage.parse(package.rstrip()[:-1] + ', "x": ' + nested(LIMIT) + "}")


def _compact(header: str, payload: str) -> str:
    return f"{b64url_encode(header.encode())}.{b64url_encode(payload.encode())}.c2ln"


def test_a_deep_jws_header_is_a_format_failure() -> None:
    with pytest.raises(VerificationError, match="JWS header nests arrays and objects") as info:
        read_unverified_header(_compact('{"alg": "EdDSA", "x": ' + nested(LIMIT) + "}", "{}"))
    assert info.value.check == "format"


def test_a_deep_qr_payload_is_a_format_failure() -> None:
    text = QR_URI_PREFIX + _compact('{"alg": "EdDSA"}', '{"iss": ' + nested(LIMIT) + "}")
    key = Jwk.generate(Curve.ED25519)
    with pytest.raises(VerificationError, match=r"^format: payload nests arrays") as info:
        parse_qr_payload(text, trusted_keys={"i": [key]}, now=0, audience="a")
    assert info.value.check == "format"
