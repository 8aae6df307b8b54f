"""ABI encoding and decoding for calls, reverts and logs (internal).

Kept apart from web3's contract machinery so that the hot paths (views, log decoding) do not
rebuild contract objects, and so that revert data from any backend decodes the same way.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_abi.abi import encode as abi_encode
from eth_abi.exceptions import DecodingError, EncodingError
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from .errors import ConfigurationError

ABI = Sequence[Mapping[str, Any]]

ERROR_STRING_SELECTOR = bytes.fromhex("08c379a0")
PANIC_SELECTOR = bytes.fromhex("4e487b71")

_PANIC_REASONS = {
    0x00: "generic panic",
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division or modulo by zero",
    0x21: "invalid enum value",
    0x22: "invalid storage byte array",
    0x31: "pop on empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to zero-initialized function",
}


def type_string(param: Mapping[str, Any]) -> str:
    """The canonical ABI type of a parameter, with tuples collapsed: `(address,bytes32)[]`."""
    typ = str(param["type"])
    if typ.startswith("tuple"):
        inner = ",".join(type_string(c) for c in param.get("components", ()))
        return f"({inner}){typ[len('tuple') :]}"
    return typ


def _checksum_outputs(types: Sequence[str], values: Sequence[Any]) -> tuple[Any, ...]:
    return tuple(_checksum_value(t, v) for t, v in zip(types, values, strict=True))


def _checksum_value(typ: str, value: Any) -> Any:
    if typ.endswith("]"):
        inner = typ[: typ.rindex("[")]
        return tuple(_checksum_value(inner, v) for v in value)
    if typ.startswith("("):
        return _checksum_outputs(_split_tuple(typ), value)
    if typ == "address":
        return to_checksum_address(value)
    return value


def _split_tuple(typ: str) -> list[str]:
    body = typ[1:-1]
    parts: list[str] = []
    depth = 0
    start = 0
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    if body:
        parts.append(body[start:])
    return parts


def _check_fixed_bytes(typ: str, value: Any) -> None:
    """eth-abi pads short `bytesN` values silently; a short hash must be an error instead."""
    if typ.endswith("]"):
        inner = typ[: typ.rindex("[")]
        if isinstance(value, list | tuple):
            for item in value:
                _check_fixed_bytes(inner, item)
        return
    if typ.startswith("("):
        if isinstance(value, list | tuple):
            for sub, item in zip(_split_tuple(typ), value, strict=False):
                _check_fixed_bytes(sub, item)
        return
    if typ.startswith("bytes") and typ != "bytes":
        size = int(typ[len("bytes") :])
        if not isinstance(value, bytes | bytearray) or len(value) != size:
            raise ValueError(f"{typ} needs exactly {size} bytes, got {value!r:.80}")


def encode_strict(types: Sequence[str], args: Sequence[Any]) -> bytes:
    for typ, value in zip(types, args, strict=True):
        _check_fixed_bytes(typ, value)
    return abi_encode(list(types), list(args))


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    selector: bytes
    input_types: tuple[str, ...]
    output_types: tuple[str, ...]
    input_names: tuple[str, ...]

    def encode(self, args: Sequence[Any]) -> bytes:
        if len(args) != len(self.input_types):
            raise ConfigurationError(
                f"{self.name} takes {len(self.input_types)} arguments, got {len(args)}"
            )
        try:
            return self.selector + encode_strict(self.input_types, args)
        except (EncodingError, TypeError, ValueError, OverflowError) as err:
            raise ConfigurationError(f"cannot encode arguments of {self.name}: {err}") from err

    def decode_output(self, data: bytes) -> Any:
        """One output: the value; several: a tuple; none: `None`."""
        if not self.output_types:
            return None
        try:
            values = abi_decode(list(self.output_types), data)
        except (DecodingError, ValueError, OverflowError) as err:
            raise ConfigurationError(
                f"cannot decode the result of {self.name} (wrong address or ABI?): {err}"
            ) from err
        out = _checksum_outputs(self.output_types, values)
        return out[0] if len(out) == 1 else out


@dataclass(frozen=True)
class ErrorSpec:
    name: str
    selector: bytes
    input_types: tuple[str, ...]


@dataclass(frozen=True)
class EventSpec:
    name: str
    topic: bytes
    inputs: tuple[tuple[str, str, bool], ...]  # (name, type, indexed)
    anonymous: bool


@dataclass(frozen=True)
class DecodedRevert:
    reason: str
    error_name: str | None
    args: tuple[Any, ...]


class Codec:
    """Encoders and decoders derived once from one contract ABI."""

    def __init__(self, abi: ABI) -> None:
        self.functions: dict[str, FunctionSpec] = {}
        self.errors: dict[bytes, ErrorSpec] = {}
        self.events: dict[bytes, EventSpec] = {}
        self.constructor_types: tuple[str, ...] = ()
        for entry in abi:
            kind = entry.get("type", "function")
            inputs = tuple(entry.get("inputs", ()))
            types = tuple(type_string(p) for p in inputs)
            if kind == "function":
                name = str(entry["name"])
                sig = f"{name}({','.join(types)})"
                spec = FunctionSpec(
                    name=name,
                    selector=keccak(text=sig)[:4],
                    input_types=types,
                    output_types=tuple(type_string(p) for p in entry.get("outputs", ())),
                    input_names=tuple(str(p.get("name", "")) for p in inputs),
                )
                # Overloads are not used by our contracts; the first declaration wins.
                self.functions.setdefault(name, spec)
            elif kind == "error":
                name = str(entry["name"])
                selector = keccak(text=f"{name}({','.join(types)})")[:4]
                self.errors[selector] = ErrorSpec(name, selector, types)
            elif kind == "event":
                name = str(entry["name"])
                topic = keccak(text=f"{name}({','.join(types)})")
                self.events[topic] = EventSpec(
                    name=name,
                    topic=topic,
                    inputs=tuple(
                        (str(p.get("name", "")), t, bool(p.get("indexed", False)))
                        for p, t in zip(inputs, types, strict=True)
                    ),
                    anonymous=bool(entry.get("anonymous", False)),
                )
            elif kind == "constructor":
                self.constructor_types = types

    def function(self, name: str) -> FunctionSpec:
        try:
            return self.functions[name]
        except KeyError:
            raise ConfigurationError(f"function {name!r} is not in the ABI") from None

    def encode_constructor(self, args: Sequence[Any]) -> bytes:
        if len(args) != len(self.constructor_types):
            raise ConfigurationError(
                f"constructor takes {len(self.constructor_types)} arguments, got {len(args)}"
            )
        try:
            return encode_strict(self.constructor_types, args)
        except (EncodingError, TypeError, ValueError, OverflowError) as err:
            raise ConfigurationError(f"cannot encode constructor arguments: {err}") from err

    def decode_event(
        self, topics: Sequence[bytes], data: bytes
    ) -> tuple[str, dict[str, Any]] | None:
        """`(event name, arguments)` for a log of this ABI, `None` when it is not one."""
        if not topics:
            return None
        spec = self.events.get(bytes(topics[0]))
        if spec is None or spec.anonymous:
            return None
        indexed = [(n, t) for n, t, ix in spec.inputs if ix]
        plain = [(n, t) for n, t, ix in spec.inputs if not ix]
        if len(topics) - 1 != len(indexed):
            return None
        try:
            args: dict[str, Any] = {}
            for (name, typ), topic in zip(indexed, topics[1:], strict=True):
                if _is_dynamic(typ):
                    args[name] = bytes(topic)  # only the hash of a dynamic value is logged
                else:
                    (value,) = abi_decode([typ], bytes(topic))
                    args[name] = _checksum_value(typ, value)
            values = abi_decode([t for _, t in plain], data)
            for (name, typ), value in zip(plain, values, strict=True):
                args[name] = _checksum_value(typ, value)
        except (DecodingError, ValueError, OverflowError):
            return None
        ordered = {name: args[name] for name, _, _ in spec.inputs}
        return spec.name, ordered

    def decode_revert(self, data: bytes | None, message: str = "") -> DecodedRevert:
        return decode_revert(data, message, [self])


def encode_error_string(text: str) -> bytes:
    """The revert data of `Error(text)`."""
    return ERROR_STRING_SELECTOR + abi_encode(["string"], [text])


def _is_dynamic(typ: str) -> bool:
    return typ in ("bytes", "string") or typ.endswith("[]") or typ.startswith("(")


def decode_revert(data: bytes | None, message: str, codecs: Sequence[Codec]) -> DecodedRevert:
    """Decode revert data: `Error(string)`, `Panic(uint256)` or a custom error of `codecs`."""
    if not data:
        return DecodedRevert(message or "execution reverted (no revert data)", None, ())
    selector, body = data[:4], data[4:]
    try:
        if selector == ERROR_STRING_SELECTOR:
            (text,) = abi_decode(["string"], body)
            return DecodedRevert(str(text), "Error", (text,))
        if selector == PANIC_SELECTOR:
            (code,) = abi_decode(["uint256"], body)
            what = _PANIC_REASONS.get(int(code), "unknown panic")
            return DecodedRevert(f"Panic(0x{int(code):02x}): {what}", "Panic", (int(code),))
        for codec in codecs:
            spec = codec.errors.get(bytes(selector))
            if spec is not None:
                values = _checksum_outputs(
                    spec.input_types, abi_decode(list(spec.input_types), body)
                )
                shown = ", ".join(_show(v) for v in values)
                return DecodedRevert(f"{spec.name}({shown})", spec.name, values)
    except (DecodingError, ValueError, OverflowError):
        pass
    return DecodedRevert(f"unknown custom error 0x{data.hex()}", None, ())


def _show(value: Any) -> str:
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return repr(value) if isinstance(value, str) else str(value)


_cache_lock = threading.Lock()
_codec_cache: dict[int, tuple[ABI, Codec]] = {}


def codec_for(abi: ABI) -> Codec:
    """The codec of an ABI object, cached by identity (the ABI is kept alive with it)."""
    key = id(abi)
    with _cache_lock:
        hit = _codec_cache.get(key)
        if hit is not None and hit[0] is abi:
            return hit[1]
    codec = Codec(abi)
    with _cache_lock:
        if len(_codec_cache) > 512:
            _codec_cache.clear()
        _codec_cache[key] = (abi, codec)
    return codec
