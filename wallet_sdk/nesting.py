"""The nesting limit of every JSON text the SDK and the service parse.

`json.loads` recurses once per array or object level, in C as in Python. A dependency of the
chain libraries raises the interpreter's recursion limit to 100,000 when imported, and with that
limit the C decoder overflows the process's stack (a segmentation fault, not an exception) on a
few hundred kilobytes of ``[``. So every JSON text from outside (request bodies, token headers
and payloads, disclosures, receipts, evidence packages, QR payloads) is measured here first, at
C speed and without recursion, and refused above `MAX_JSON_DEPTH` levels. No format of the SDK
comes near that depth.
"""

from __future__ import annotations

import json
from typing import Any

from wallet_sdk.errors import FormatError, JsonTooDeep

__all__ = ["MAX_JSON_DEPTH", "check_json_depth", "load_json"]

MAX_JSON_DEPTH = 32
"""Arrays and objects nested in each other, at most: ``[[1]]`` has depth 2."""

# The rest of the text reduced to brackets of one kind: "{" and "[" open a level alike.
_ONE_KIND = bytes.maketrans(b"{}", b"[]")
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def _deeper_than(text: bytes, limit: int) -> bool:
    # Out with the strings: with escaped backslashes gone, every backslash before a quote
    # escapes it; then the text between unescaped quotes, every other piece, is in strings.
    unescaped = text.replace(b"\\\\", b"").replace(b'\\"', b"")
    outside = b"".join(unescaped.split(b'"')[::2])
    brackets = outside.translate(_ONE_KIND, _NOT_BRACKETS)
    # Round n removes every pair of brackets that holds nothing but pairs removed before:
    # the pairs n levels high. Each round is one pass in C, and there are at most limit + 1.
    # Between rounds, limit + 1 "[" in a row are as many levels opened one inside the other:
    # found at once in the usual attack (a long run of "["), which rounds cross slowly.
    too_many_open = b"[" * (limit + 1)
    for height in range(1, limit + 2):
        if too_many_open in brackets:
            return True
        reduced = brackets.replace(b"[]", b"")
        if len(reduced) == len(brackets):
            # No pair is this high. What is left matches nothing ("]" * i + "[" * j), and a
            # parser enters each unclosed "[" before it fails: count them as levels too.
            return height - 1 + reduced.count(b"[") > limit
        brackets = reduced
    return True


def check_json_depth(data: str | bytes, *, what: str, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse JSON text nested deeper than ``limit`` before anything parses it.

    Brackets inside strings do not count; in text that is not JSON, every bracket left open
    counts as a level. Linear in the length of ``data`` (at most ``limit + 1`` passes in C),
    without recursion. Raises `JsonTooDeep` (a `FormatError`) naming ``what``.
    """
    if isinstance(data, str):
        if data.count("[") + data.count("{") <= limit:  # the common case, and its whole cost
            return
        text = data.encode("utf-8", "surrogatepass")
    else:
        if data.count(b"[") + data.count(b"{") <= limit:
            return
        text = bytes(data)
    if _deeper_than(text, limit):
        raise JsonTooDeep(what, limit)


def load_json(data: str | bytes, *, what: str, limit: int = MAX_JSON_DEPTH) -> Any:
    """``json.loads(data)`` once `check_json_depth` has passed it.

    Raises `JsonTooDeep` above ``limit`` levels, `FormatError` naming ``what`` when the text
    is not JSON (or not UTF-8).
    """
    check_json_depth(data, what=what, limit=limit)
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as err:
        raise FormatError(f"{what} is not valid JSON") from err
