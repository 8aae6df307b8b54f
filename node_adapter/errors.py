"""The one exception family of `node_adapter`.

Every public function of the package raises only these; errors from web3, requests, eth-tester
and eth-abi are translated at the boundary and chained (`raise ... from err`).
"""

from __future__ import annotations

__all__ = [
    "ChainError",
    "ChainRollback",
    "ChainTimeout",
    "ChainUnavailable",
    "ConfigurationError",
    "TransactionReverted",
]


class ChainError(Exception):
    """Root of every error raised by `node_adapter`."""


class TransactionReverted(ChainError):
    """A transaction or call was reverted by the EVM.

    `reason` is human readable (`Error(string)` text, `Panic(0x11)`, or `Name(arg, ...)` for a
    custom error); `error_name` and `args` carry the decoded custom error when its selector is
    known from the contract ABIs (`"Error"` / `"Panic"` for the built-in ones, `None` when the
    revert data could not be decoded). `tx_hash` is the mined transaction's hash (hex string) when
    the revert happened on chain, `None` when it was caught before sending (gas estimation or
    `eth_call`). `data` holds the raw revert data when the node returned it.
    """

    def __init__(
        self,
        reason: str,
        error_name: str | None = None,
        args: tuple[object, ...] = (),
        tx_hash: str | None = None,
        data: bytes | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.error_name = error_name
        # `args` holds the decoded custom-error arguments (not the message, unlike a plain
        # `Exception`): `exc.error_name, exc.args == "NotController", (id, account)`.
        self.args = tuple(args)
        self.tx_hash = tx_hash
        self.data = data

    @property
    def error_args(self) -> tuple[object, ...]:
        """Alias of `args`: the decoded custom-error arguments."""
        return tuple(self.args)

    def __reduce__(self) -> tuple[object, ...]:
        return (
            type(self),
            (self.reason, self.error_name, tuple(self.args), self.tx_hash, self.data),
        )

    def __str__(self) -> str:
        where = f" (tx {self.tx_hash})" if self.tx_hash else ""
        return f"transaction reverted: {self.reason}{where}"


class ChainUnavailable(ChainError):
    """No node could be reached (every configured URL failed to connect or timed out).

    When it happens after a transaction was signed, `tx_hash` names it: it may or may not have
    reached a node, so look it up (`Chain.find_receipt`) before sending the operation again.
    """

    def __init__(self, message: str, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class ChainTimeout(ChainError):
    """A transaction was sent but no receipt arrived within the timeout."""

    def __init__(self, message: str, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class ConfigurationError(ChainError):
    """The adapter was set up wrongly: missing artifact or binary, bad URL, unknown function."""


class ChainRollback(ChainError):
    """The chain no longer contains a block the caller had already read (a reorg or a node
    restarted from older state). Data read from `from_block` onwards must be discarded."""

    def __init__(self, from_block: int, message: str | None = None) -> None:
        super().__init__(message or f"chain rolled back: blocks from {from_block} changed")
        self.from_block = from_block
