"""The service's chain boundary: the one translation of ``node_adapter`` errors into the
service's.

Every ledger implementation (``services.chain``, ``credentials.chain``, ``consent.chain``,
``anchoring.chain``) runs its chain operations through `ledger_errors` (or `guarded`), so a
revert, an outage and any other chain failure read the same wherever they happen:

- ``TransactionReverted`` becomes `LedgerRejected` (``chain_rejected``), its ``detail``
  ``{"error": <contract error name>, "reason": <revert reason>}``;
- ``ChainUnavailable`` (no node answers) becomes `LedgerUnavailable` (``chain_unavailable``);
- every other ``ChainError`` (a timeout, an RPC error, a transaction that left the chain)
  becomes `LedgerUnavailable` too, naming the failure.

Errors that are not the chain's pass through unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from credential_service.errors import LedgerRejected, LedgerUnavailable
from node_adapter import ChainError, ChainUnavailable, TransactionReverted

__all__ = ["guarded", "ledger_errors"]

T = TypeVar("T")


@contextmanager
def ledger_errors(what: str) -> Iterator[None]:
    """Translate the ``node_adapter`` errors raised in the block; `what` says what was being
    done (a verb phrase: "register a key") and goes into the message.

    Raises `LedgerRejected` for a revert and `LedgerUnavailable` for any other chain failure,
    each ``from`` the chain's error."""
    try:
        yield
    except TransactionReverted as err:
        raise LedgerRejected(
            f"the chain refused to {what}: {err.reason}",
            detail={"error": err.error_name, "reason": err.reason},
        ) from err
    except ChainUnavailable as err:
        raise LedgerUnavailable(f"no chain node answers ({what})") from err
    except ChainError as err:
        raise LedgerUnavailable(f"chain failure while trying to {what}: {err}") from err


def guarded(what: str, op: Callable[[], T]) -> T:
    """``op()`` inside `ledger_errors` (`what` as there)."""
    with ledger_errors(what):
        return op()
