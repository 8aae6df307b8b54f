"""RFC 8785 (JCS) with the specification's own examples: every number of Appendix B, the
§3.2.2 serialisation example and the §3.2.3 sorting example."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pytest

from wallet_sdk.errors import FormatError
from wallet_sdk.jcs import canonicalize

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
