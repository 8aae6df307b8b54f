"""Canonical JSON, each byte form written once.

- `canonical_json`: compact UTF-8 JSON with sorted keys (Python's code-point order), no
  whitespace, non-ASCII kept as UTF-8, NaN and Infinity refused. The form of every signed
  payload (credentials, key bindings, consent receipts) and of what the consent commitments
  and request digests hash.
- `canonical_json_without_floats`: the same bytes, refusing floats anywhere in the value. The
  form of labour-contract records and their seals, whose digests are anchored: amounts are
  strings or integers, so no two writers can disagree on a number.
- `canonicalize`: the JSON Canonicalization Scheme (JCS, RFC 8785), the one byte form of a
  JSON value that every implementation computes alike, so a digest of it (a credential type's
  schema digest, committed on chain) can be recomputed by anyone from the parsed value. It
  differs from `canonical_json` in two places that matter across implementations: object
  members are sorted by their names' UTF-16 code units (not code points), and numbers are
  written as ECMAScript writes an IEEE 754 double (``1e+21``, ``1e-7``,
  ``10000000000000000``, ``4.5``), so ``1.0`` and ``1`` are the same.

Changing any of these changes digests already signed or anchored: each is pinned by a test.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

from wallet_sdk.errors import FormatError

__all__ = ["canonical_json", "canonical_json_without_floats", "canonicalize"]

_MAX_SAFE_INTEGER = 2**53
"""An integer beyond this is not exactly an IEEE 754 double: RFC 8785 §3.2.2.3 cannot write it."""


def canonical_json(value: Any) -> bytes:
    """Compact UTF-8 JSON with sorted keys (the signed payload form).

    Raises `FormatError` for a value JSON cannot carry (NaN, Infinity, another type).
    """
    try:
        return json.dumps(
            value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
        ).encode("utf-8")
    except (TypeError, ValueError) as err:
        raise FormatError(f"value is not JSON-serialisable: {err}") from err


def canonical_json_without_floats(value: Any) -> bytes:
    """`canonical_json` of a value that holds no float (the labour-record form).

    Raises `FormatError` for a float anywhere in `value`, or a value JSON cannot carry.
    """
    _reject_floats(value)
    return canonical_json(value)


def _reject_floats(value: Any) -> None:
    if isinstance(value, float):
        raise FormatError("floats are not allowed in canonical records")
    if isinstance(value, Mapping):
        for item in value.values():
            _reject_floats(item)
    elif isinstance(value, list | tuple):
        for item in value:
            _reject_floats(item)


def canonicalize(value: Any) -> bytes:
    """The RFC 8785 canonical UTF-8 bytes of `value` (dicts, lists, str, int, float, bool,
    None).

    Raises `FormatError` for what I-JSON cannot carry: a non-finite number, an integer beyond
    2**53, a string with a lone surrogate, a non-string member name, another type.
    """
    out: list[str] = []
    _write(value, out)
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as err:
        raise FormatError("a string holds a lone surrogate (not I-JSON)") from err


def _write(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=False))
    elif isinstance(value, int):
        if abs(value) > _MAX_SAFE_INTEGER:
            raise FormatError(f"integer {value} is not exactly representable (RFC 8785)")
        out.append(str(value))
    elif isinstance(value, float):
        out.append(_number(value))
    elif isinstance(value, Mapping):
        names = list(value)
        if not all(isinstance(name, str) for name in names):
            raise FormatError("object member names must be strings")
        out.append("{")
        for index, name in enumerate(sorted(names, key=_utf16)):
            if index:
                out.append(",")
            out.append(json.dumps(name, ensure_ascii=False))
            out.append(":")
            _write(value[name], out)
        out.append("}")
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write(item, out)
        out.append("]")
    else:
        raise FormatError(f"{type(value).__name__} is not a JSON value")


def _utf16(name: str) -> bytes:
    # Big-endian UTF-16 sorts bytewise as its code units do (RFC 8785 §3.2.3).
    return name.encode("utf-16-be", "surrogatepass")


def _number(value: float) -> str:
    """ECMAScript's Number.prototype.toString (ECMA-262 §7.1.12.1) of a finite double:
    Python's repr has the same shortest round-trip digits, written differently."""
    if not math.isfinite(value):
        raise FormatError("NaN and Infinity are not JSON numbers")
    if value == 0:
        return "0"  # -0 too
    sign = "-" if value < 0 else ""
    mantissa, _, exponent = repr(abs(value)).partition("e")
    whole, _, fraction = mantissa.partition(".")
    # ECMA-262's n: value = 0.digits x 10**n. Each leading zero dropped moves the point left.
    every = whole + fraction
    digits = every.lstrip("0")
    point = len(whole) + (int(exponent) if exponent else 0) - (len(every) - len(digits))
    digits = digits.rstrip("0")
    k = len(digits)
    if k <= point <= 21:
        text = digits + "0" * (point - k)
    elif 0 < point <= 21:
        text = digits[:point] + "." + digits[point:]
    elif -6 < point <= 0:
        text = "0." + "0" * -point + digits
    else:
        e = point - 1
        text = digits[0] + ("." + digits[1:] if k > 1 else "") + ("e+" if e >= 0 else "e-")
        text += str(abs(e))
    return sign + text
