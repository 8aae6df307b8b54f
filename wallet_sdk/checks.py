"""Named checks: the results a verification reports, and the runner that produces them.

Every verification in the SDK (anchor receipts, credentials, evidence packages) is a fixed
sequence of named checks. Each check either passes with a detail, fails with the reason, or is
skipped: because it does not apply (no document given, no chain to ask), or because a check it
depends on failed, in which case it counts as failed for the checks that depend on it in turn
("not run: X failed"). A check that raises anything else fails (verification fails closed).

`CheckRunner` records the results of checks that describe themselves in text;
`OutcomeRunner` is its generic base for a pipeline whose checks return something richer (the
evidence pipeline's `Reason`, which carries a code and parameters for translation).
`CheckReport` gives a report the usual questions over its results.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from typing import Generic, NamedTuple, TypeVar

from wallet_sdk.errors import VerificationError, WalletError

__all__ = [
    "CheckFailed",
    "CheckNotApplicable",
    "CheckReport",
    "CheckResult",
    "CheckRunner",
    "CheckStatus",
    "OutcomeRunner",
]


class CheckStatus(enum.Enum):
    """Outcome of one named check."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # not applicable, or not run because a check it depends on failed


class CheckResult(NamedTuple):
    """One step of a verification report: its name, outcome, and why.

    Immutable. A named tuple rather than a frozen dataclass because a verification builds
    one per check on the hot path, and a tuple is built in a fraction of the time."""

    name: str
    status: CheckStatus
    detail: str

    @property
    def passed(self) -> bool:
        """True only for `CheckStatus.PASSED`."""
        return self.status is CheckStatus.PASSED


_PASSED, _FAILED, _SKIPPED = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.SKIPPED
# `CheckResult` is a named tuple: building it through `tuple.__new__` skips the generated
# Python-level `__new__`, which matters at ten results per credential.
_result: Callable[[type[CheckResult], tuple[str, CheckStatus, str]], CheckResult] = tuple.__new__


class CheckFailed(Exception):
    """Raised by a check to fail with this reason (the message is the report's detail).

    Only a runner catches it: it never leaves a verification."""


class CheckNotApplicable(Exception):
    """Raised by a check that does not apply (no document, no chain): it is reported as
    skipped with this reason, and the checks that depend on it still run."""


Outcome = TypeVar("Outcome")


class OutcomeRunner(ABC, Generic[Outcome]):
    """Runs named checks in order and records one outcome each.

    A check is a function of no arguments returning its outcome when it passes. Subclasses say
    how an outcome is recorded and what the outcome of a skip or a failure is."""

    __slots__ = ("failed",)

    def __init__(self) -> None:
        self.failed: set[str] = set()
        """The checks that failed or were not run because a check they depend on failed."""

    def run(self, name: str, check: Callable[[], Outcome], *, after: Collection[str] = ()) -> None:
        """Run `check` as check `name`, unless one of the checks in `after` failed or was not
        run (it is then reported as not run, and counts as failed for its own dependants)."""
        failed = self.failed
        if failed:
            blocked = [dep for dep in after if dep in failed]
            if blocked:
                failed.add(name)
                self._record(name, _SKIPPED, self._not_run(blocked))
                return
        try:
            outcome = check()
        except CheckNotApplicable as skip:
            self._record(name, _SKIPPED, self._not_applicable(skip))
            return
        except Exception as err:  # a chain view that cannot answer fails the check: fail closed
            failed.add(name)
            self._record(name, _FAILED, self._failure(err))
            return
        self._record(name, _PASSED, outcome)

    @abstractmethod
    def _record(self, name: str, status: CheckStatus, outcome: Outcome) -> None:
        """A subclass says how its reports record this."""

    @abstractmethod
    def _not_run(self, blocked: list[str]) -> Outcome:
        """A subclass says how its reports record this."""

    @abstractmethod
    def _not_applicable(self, skip: CheckNotApplicable) -> Outcome:
        """A subclass says how its reports record this."""

    @abstractmethod
    def _failure(self, err: Exception) -> Outcome:
        """A subclass says how its reports record this."""


class CheckRunner(OutcomeRunner[str]):
    """Runs checks that return their detail as text, and keeps the results in order.

    A failure's detail is the message of the `CheckFailed`, `VerificationError` or
    `WalletError` the check raised; any other exception is reported as
    ``<unexpected><ExceptionType>: <message>``, `unexpected` being what the caller's checks
    could have raised it doing (``"chain query failed: "`` for a chain view)."""

    __slots__ = ("results", "unexpected")

    def __init__(self, *, unexpected: str = "") -> None:
        super().__init__()
        self.results: list[CheckResult] = []
        self.unexpected = unexpected

    def _record(self, name: str, status: CheckStatus, outcome: str) -> None:
        self.results.append(_result(CheckResult, (name, status, outcome)))

    def _not_run(self, blocked: list[str]) -> str:
        return f"not run: {', '.join(blocked)} failed"

    def _not_applicable(self, skip: CheckNotApplicable) -> str:
        return str(skip)

    def _failure(self, err: Exception) -> str:
        if isinstance(err, CheckFailed):
            return str(err)
        if isinstance(err, VerificationError):
            return err.message
        if isinstance(err, WalletError):
            return str(err)
        return f"{self.unexpected}{type(err).__name__}: {err}"


class CheckReport:
    """The questions every verification report answers over its ``checks``, in run order.

    A mixin for frozen report dataclasses: it declares ``checks`` and holds no state."""

    __slots__ = ()
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        """True when some check ran and none failed (skipped checks were not applicable)."""
        return bool(self.checks) and self.first_failure is None

    @property
    def first_failure(self) -> CheckResult | None:
        """The first check that failed, or ``None``."""
        for result in self.checks:
            if result.status is _FAILED:
                return result
        return None

    def check(self, name: str) -> CheckResult:
        """The result of check `name`. Raises `KeyError` when the report has no such check."""
        for result in self.checks:
            if result.name == name:
                return result
        raise KeyError(name)
