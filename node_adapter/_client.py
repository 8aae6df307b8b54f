"""Base of the typed contract clients (internal)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any, TypeVar

from web3 import Web3

from ._abi import ABI
from .artifacts import load_artifact
from .chain import BlockId, Chain, TxReceipt
from .errors import ChainError, ConfigurationError
from .signer import Signer

ZERO32 = bytes(32)

E = TypeVar("E", bound=IntEnum)


def as_enum(enum: type[E], value: int) -> E:
    """Parse an enum value read from the chain; raises `ChainError` on an unknown value."""
    try:
        return enum(int(value))
    except ValueError as err:
        raise ChainError(f"unexpected {enum.__name__} value {value} from chain") from err


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
        return str(Web3.to_checksum_address(value))
    except (ValueError, TypeError) as err:
        raise ConfigurationError(f"{name} is not an address: {value!r}") from err


class ContractClient:
    """A contract at an address on a chain, with its ABI (from the shipped artifact unless
    given)."""

    contract_name: str = ""

    def __init__(self, chain: Chain, address_: str, *, abi: ABI | None = None) -> None:
        self.chain = chain
        self.address = address("address", address_)
        self.abi: ABI = abi if abi is not None else load_artifact(self.contract_name)["abi"]

    def _call(self, fn_name: str, args: Sequence[Any] = (), block: BlockId = "latest") -> Any:
        return self.chain.call(self.address, self.abi, fn_name, args, block)

    def _transact(
        self, signer: Signer, fn_name: str, args: Sequence[Any], gas: int | None = None
    ) -> TxReceipt:
        return self.chain.transact(signer, self.address, self.abi, fn_name, args, gas=gas)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.address})"
