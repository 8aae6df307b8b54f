"""The canonical JSON forms, each pinned: RFC 8785 (JCS) with the specification's own examples
(every number of Appendix B, the §3.2.2 serialisation example and the §3.2.3 sorting example);
the signed-payload form (`canonical_json`) and the labour-record form that refuses floats
(`canonical_json_without_floats`), whose bytes are signed and anchored already."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from wallet_sdk.errors import FormatError
from wallet_sdk.jcs import canonical_json, canonical_json_without_floats, canonicalize

VECTORS = json.loads(
    (Path(__file__).parents[2] / "assets" / "wallet_sdk" / "rfc8785_jcs.json").read_text(
        encoding="utf-8"
    )
)


@pytest.mark.parametrize("case", VECTORS["numbers"], ids=lambda c: c["ieee754"])
def test_numbers_are_written_as_ecmascript_writes_them(case: dict[str, str]) -> None:
    (value,) = struct.unpack(">d", bytes.fromhex(case["ieee754"]))
    assert canonicalize(value) == case["text"].encode("ascii")


@pytest.mark.parametrize("example", VECTORS["examples"], ids=["3.2.2", "3.2.3"])
def test_the_specification_examples(example: dict[str, str]) -> None:
    assert canonicalize(json.loads(example["input"])) == example["output"].encode("utf-8")


def test_integers_and_equal_doubles_are_one_form() -> None:
    assert canonicalize({"b": 1.0, "a": [2, 2.5]}) == b'{"a":[2,2.5],"b":1}'


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (float("nan"), "NaN"),
        (float("inf"), "NaN and Infinity"),
        (2**53 + 1, "not exactly representable"),
        ({1: "x"}, "member names must be strings"),
        ({"x": {1, 2}}, "set is not a JSON value"),
        ("\ud800", "lone surrogate"),
    ],
)
def test_what_i_json_cannot_carry_is_refused(value: Any, words: str) -> None:
    with pytest.raises(FormatError, match=words):
        canonicalize(value)


SIGNED_FORM = {"b": [1, "工资", None], "a": {"y": True, "x": "Ab\u00e9"}, "B": -7}
SIGNED_BYTES = '{"B":-7,"a":{"x":"Abé","y":true},"b":[1,"工资",null]}'.encode()


def test_the_signed_payload_form_is_compact_sorted_utf8() -> None:
    assert canonical_json(SIGNED_FORM) == SIGNED_BYTES
    # Floats as Python writes them (unlike JCS), code-point order of member names.
    assert canonical_json({"f": 1.0, "\ue000": 0, "\U0001f600": 1.5}) == (
        '{"f":1.0,"\ue000":0,"\U0001f600":1.5}'.encode()
    )


def test_the_labour_record_form_is_the_same_bytes_and_refuses_floats() -> None:
    assert canonical_json_without_floats(SIGNED_FORM) == SIGNED_BYTES
    assert canonical_json_without_floats({"b": 1, "a": "工资"}) == '{"a":"工资","b":1}'.encode()
    for value in ({"wage": 1.5}, [[0.0]], ({"x": [float("nan")]},)):
        with pytest.raises(FormatError, match="floats"):
            canonical_json_without_floats(value)


@pytest.mark.parametrize("form", [canonical_json, canonical_json_without_floats])
@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"x": object()}, "not JSON-serialisable"),
        ({1: "a", "b": 2}, "not JSON-serialisable"),
        ({"x": b"raw"}, "not JSON-serialisable"),
    ],
)
def test_what_json_cannot_carry_is_refused_in_both_forms(form: Any, value: Any, words: str) -> None:
    with pytest.raises(FormatError, match=words):
        form(value)


def test_nan_is_refused_by_the_signed_payload_form() -> None:
    with pytest.raises(FormatError, match="not JSON-serialisable"):
        canonical_json({"x": float("inf")})
