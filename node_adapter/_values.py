"""Checks of contract call arguments (internal), free of web3: each raises
`ConfigurationError`."""

from __future__ import annotations

from eth_utils.address import to_checksum_address

from .errors import ConfigurationError


def bytes32(name: str, value: bytes) -> bytes:
    """Validate a `bytes32` argument; raises `ConfigurationError`."""
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise ConfigurationError(f"{name} must be 32 bytes")
    return bytes(value)


def uint(name: str, value: int, bits: int) -> int:
    """Validate an unsigned integer argument; raises `ConfigurationError`."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**bits:
        raise ConfigurationError(f"{name} must be an integer in [0, 2**{bits})")
    return int(value)


def address(name: str, value: str) -> str:
    """Validate and checksum an address argument; raises `ConfigurationError`."""
    try:
        return str(to_checksum_address(value))
    except (ValueError, TypeError) as err:
        raise ConfigurationError(f"{name} is not an address: {value!r}") from err
