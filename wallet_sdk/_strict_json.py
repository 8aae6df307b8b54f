"""Strict JSON for the SDK's document formats (anchor receipts, evidence packages).

Duplicate members, floats, NaN/Infinity, oversized and too deeply nested text
(`wallet_sdk.nesting`) are rejected, then the object is
checked against the format's JSON Schema (draft 2020-12, shipped in ``wallet_sdk/schemas``).
Raises `FormatError` and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

import jsonschema

from wallet_sdk.errors import FormatError
from wallet_sdk.nesting import check_json_depth


@cache
def schema_validator(filename: str) -> jsonschema.protocols.Validator:
    """The checked validator of ``wallet_sdk/schemas/<filename>``, built once."""
    text = resources.files("wallet_sdk").joinpath(f"schemas/{filename}").read_text("utf-8")
    schema = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise FormatError(f"duplicate member {key!r}")
        result[key] = value
    return result


def _reject_float(text: str) -> float:
    raise FormatError(f"non-integer number {text!r}")


def _reject_constant(text: str) -> float:
    raise FormatError(f"non-standard number {text!r}")


def load_object(
    data: str | bytes | Mapping[str, Any],
    *,
    what: str,
    size_label: str,
    max_bytes: int,
    validator: jsonschema.protocols.Validator,
    schema_label: str,
) -> Mapping[str, Any]:
    """Parse ``data`` (JSON text, or an already decoded mapping) into a schema-valid object.

    Raises `FormatError` naming ``what`` ("receipt", "package") and, for a schema failure, the
    first failing location in document order.
    """
    if isinstance(data, str | bytes):
        if len(data) > max_bytes:
            raise FormatError(f"{size_label} is larger than {max_bytes} bytes")
        check_json_depth(data, what=what)
        try:
            decoded = json.loads(
                data,
                object_pairs_hook=reject_duplicates,
                parse_float=_reject_float,
                parse_constant=_reject_constant,
            )
        except (ValueError, RecursionError) as err:
            raise FormatError(f"{what} is not valid JSON: {err}") from err
    else:
        decoded = data
    if not isinstance(decoded, Mapping):
        raise FormatError(f"{what} must be a JSON object")
    errors = sorted(validator.iter_errors(decoded), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        where = "/".join(str(p) for p in first.absolute_path) or "(root)"
        raise FormatError(f"{what} does not match {schema_label} at {where}: {first.message}")
    return decoded
