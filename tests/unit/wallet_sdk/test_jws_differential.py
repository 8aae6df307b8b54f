"""Compact JWS is parsed twice: by `wallet_sdk.jose` (every signed token of the SDK and the
service) and by the speed copy inside `wallet_sdk.credentials.verifier` (issue #16 item 2).
Fed the same inputs, the two must give the same verdict, and the same bytes when both accept:
base64url segments (padding, other alphabets, non-canonical tails, whitespace) and JSON
objects (duplicate members, other encodings, non-objects, trailing data, deep nesting)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wallet_sdk import jose
from wallet_sdk.credentials import verifier
from wallet_sdk.errors import FormatError

B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def _verdict(parse: Callable[[], Any], *errors: type[BaseException]) -> tuple[bool, Any]:
    try:
        return True, parse()
    except errors:
        return False, None


def _sdk_segment(segment: str) -> tuple[bool, Any]:
    return _verdict(lambda: jose.b64url_decode(segment), FormatError)


def _fast_segment(segment: str) -> tuple[bool, Any]:
    return _verdict(lambda: verifier._decode_segment(segment, "segment"), verifier._Failed)


def _sdk_object(data: bytes) -> tuple[bool, Any]:
    return _verdict(lambda: jose._loads_object(data, "header"), FormatError)


def _fast_object(data: bytes) -> tuple[bool, Any]:
    return _verdict(lambda: verifier._json_object(data, "header"), verifier._Failed)


SEGMENTS = [
    "",
    "e30",
    "e30=",  # padded
    "e30==",
    "e3",  # tail bits not zero... or a valid one-byte segment
    "e31",  # non-canonical: unused low bits set
    "eyJhbGciOiJFZERTQSJ9",
    "eyJhbGciOiJFZERTQSJ9 ",  # trailing space
    " eyJhbGciOiJFZERTQSJ9",
    "eyJhbGciOi\nJFZERTQSJ9",  # newline inside
    "e+0",  # standard alphabet
    "e/0",
    "a",  # length 1 mod 4
    "abcde",
    "AAAA",
    "AA",
    "AB",  # non-canonical
    "AAE",  # non-canonical
    "é30",
    "e30\x00",
]

OBJECTS = [
    b"{}",
    b'{"alg":"EdDSA"}',
    b' {"alg":"EdDSA"} ',
    b'{"alg":"EdDSA","alg":"ES256"}',  # duplicate member
    b'{"a":{"b":1,"b":2}}',  # nested duplicate
    b"[]",
    b'"text"',
    b"1",
    b"null",
    b'{"alg":"EdDSA"}x',  # trailing data
    b'{"alg":"EdDSA"}{}',
    b'{"alg":NaN}',
    b'{"alg":Infinity}',
    b'{"alg":"\xff"}',  # not UTF-8
    '{"alg":"EdDSA"}'.encode("utf-16"),  # another encoding with a BOM
    '{"alg":"EdDSA"}'.encode("utf-16-le"),
    '{"alg":"EdDSA"}'.encode("utf-32"),
    b'\xef\xbb\xbf{"alg":"EdDSA"}',  # UTF-8 BOM
    b'{"a":' * 40 + b"1" + b"}" * 40,  # too deep
    b'{"a":"\\ud800"}',  # lone surrogate escape
    b"",
]


@pytest.mark.parametrize("segment", SEGMENTS)
def test_segments_get_the_same_verdict(segment: str) -> None:
    assert _sdk_segment(segment) == _fast_segment(segment)


@pytest.mark.parametrize("data", OBJECTS, ids=range(len(OBJECTS)))
def test_json_objects_get_the_same_verdict(data: bytes) -> None:
    assert _sdk_object(data)[0] == _fast_object(data)[0]
    assert _sdk_object(data) == _fast_object(data)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=B64URL + "=+/ .\n", max_size=24))
def test_random_segments_get_the_same_verdict(segment: str) -> None:
    assert _sdk_segment(segment) == _fast_segment(segment)


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=8),
        lambda inner: (
            st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
        ),
        max_leaves=10,
    ),
    st.sampled_from(["utf-8", "utf-16", "utf-32"]),
)
def test_random_json_gets_the_same_verdict(value: Any, encoding: str) -> None:
    data = json.dumps(value, ensure_ascii=False).encode(encoding)
    assert _sdk_object(data) == _fast_object(data)
