"""Field checks shared by the consent modules (internal): each raises `FormatError`."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from typing import Any

from eth_utils.address import to_checksum_address

from wallet_sdk.errors import FormatError

MAX_TEXT = 1000
_UINT64_MAX = 2**64 - 1
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")


def text_field(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise FormatError(f"{name!r} must be a non-empty string of at most {MAX_TEXT} chars")
    return value


def uint64_field(data: Mapping[str, Any], name: str) -> int:
    value = data.get(name)
    if type(value) is not int or not 0 <= value <= _UINT64_MAX:
        raise FormatError(f"{name!r} must be an unsigned 64-bit integer")
    return value


def hex32(value: object, name: str) -> bytes:
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, str):
        try:
            raw = bytes.fromhex(value.removeprefix("0x"))
        except ValueError as err:
            raise FormatError(f"{name!r} is not hex") from err
    else:
        raise FormatError(f"{name!r} must be 32 bytes of hex")
    if len(raw) != 32:
        raise FormatError(f"{name!r} must be 32 bytes")
    return raw


def checksum_address(value: object, name: str = "address") -> str:
    if not isinstance(value, str) or not _ADDRESS.fullmatch(value):
        raise FormatError(f"{name!r} must be a 0x-prefixed 20-byte hex address")
    return str(to_checksum_address(value))


def vocabulary_tuple(values: Iterable[Any], kind: type[enum.StrEnum], name: str) -> tuple[Any, ...]:
    items = []
    for value in values:
        try:
            items.append(kind(value))
        except (ValueError, TypeError) as err:
            allowed = ", ".join(member.value for member in kind)
            raise FormatError(
                f"{name}: {value!r} is not in the controlled vocabulary; allowed: {allowed}"
            ) from err
    if not items:
        raise FormatError(f"{name} must not be empty")
    if len(set(items)) != len(items):
        raise FormatError(f"{name} must not repeat a value")
    return tuple(sorted(items))


def hex_bytes(value: object, name: str, length: int) -> bytes:
    if not isinstance(value, str):
        raise FormatError(f"{name!r} must be hex")
    try:
        raw = bytes.fromhex(value.removeprefix("0x"))
    except ValueError as err:
        raise FormatError(f"{name!r} is not hex") from err
    if len(raw) != length:
        raise FormatError(f"{name!r} must be {length} bytes")
    return raw
