"""Base of the typed contract clients (internal)."""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum
from typing import Any, TypeVar

from ._abi import ABI

# The argument checks live in the web3-free `_values`, with the consent format that needs them.
from ._values import address as address
from ._values import bytes32 as bytes32
from ._values import uint as uint
from .artifacts import load_artifact
from .chain import BlockId, Chain, TxReceipt
from .errors import ChainError
from .signer import Signer

ZERO32 = bytes(32)

E = TypeVar("E", bound=IntEnum)


def as_enum(enum: type[E], value: int) -> E:
    """Parse an enum value read from the chain; raises `ChainError` on an unknown value."""
    try:
        return enum(int(value))
    except ValueError as err:
        raise ChainError(f"unexpected {enum.__name__} value {value} from chain") from err


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
