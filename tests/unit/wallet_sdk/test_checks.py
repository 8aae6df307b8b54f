"""The named-check runner every verification shares: order, skips, failures, report helpers."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from wallet_sdk.checks import (
    CheckFailed,
    CheckNotApplicable,
    CheckReport,
    CheckResult,
    CheckRunner,
    CheckStatus,
)
from wallet_sdk.errors import FormatError, VerificationError

PASSED, FAILED, SKIPPED = CheckStatus.PASSED, CheckStatus.FAILED, CheckStatus.SKIPPED


def _raise(err: Exception) -> str:
    raise err


def test_checks_are_recorded_in_run_order_with_their_detail() -> None:
    runner = CheckRunner()
    runner.run("a", lambda: "first")
    runner.run("b", lambda: "second", after=("a",))
    assert runner.results == [CheckResult("a", PASSED, "first"), CheckResult("b", PASSED, "second")]
    assert runner.failed == set()


def test_a_check_whose_prerequisite_failed_is_not_run_and_blocks_its_own_dependants() -> None:
    ran: list[str] = []
    runner = CheckRunner()
    runner.run("a", lambda: _raise(CheckFailed("broken")))
    runner.run("b", lambda: ran.append("b") or "b", after=("a",))
    runner.run("c", lambda: ran.append("c") or "c", after=("b",))
    runner.run("d", lambda: "independent")
    assert ran == []
    assert runner.results == [
        CheckResult("a", FAILED, "broken"),
        CheckResult("b", SKIPPED, "not run: a failed"),
        CheckResult("c", SKIPPED, "not run: b failed"),
        CheckResult("d", PASSED, "independent"),
    ]
    assert runner.failed == {"a", "b", "c"}


def test_a_check_that_does_not_apply_is_skipped_but_blocks_nothing() -> None:
    runner = CheckRunner()
    runner.run("a", lambda: _raise(CheckNotApplicable("not applicable: no document")))
    runner.run("b", lambda: "ran", after=("a",))
    assert runner.results == [
        CheckResult("a", SKIPPED, "not applicable: no document"),
        CheckResult("b", PASSED, "ran"),
    ]
    assert runner.failed == set()


@pytest.mark.parametrize(
    ("error", "detail"),
    [
        (CheckFailed("the reason"), "the reason"),
        (VerificationError("signature", "does not verify"), "does not verify"),
        (FormatError("bad JSON"), "bad JSON"),
        (ConnectionError("node down"), "chain query failed: ConnectionError: node down"),
    ],
)
def test_any_exception_fails_the_check_with_its_message(error: Exception, detail: str) -> None:
    runner = CheckRunner(unexpected="chain query failed: ")
    runner.run("a", lambda: _raise(error))
    assert runner.results == [CheckResult("a", FAILED, detail)]


def test_an_unexpected_exception_is_named_by_its_type_without_a_prefix_by_default() -> None:
    runner = CheckRunner()
    runner.run("a", lambda: _raise(KeyError("x")))
    assert runner.results == [CheckResult("a", FAILED, "KeyError: 'x'")]


@dataclass(frozen=True, slots=True)
class _Report(CheckReport):
    checks: tuple[CheckResult, ...]


def test_report_helpers() -> None:
    report = _Report(
        (
            CheckResult("a", SKIPPED, "not applicable"),
            CheckResult("b", FAILED, "broken"),
            CheckResult("c", SKIPPED, "not run: b failed"),
        )
    )
    assert not report.passed
    assert report.first_failure == CheckResult("b", FAILED, "broken")
    assert report.check("c").detail == "not run: b failed"
    with pytest.raises(KeyError):
        report.check("z")
    assert _Report((CheckResult("a", SKIPPED, "not applicable"),)).passed
    assert not _Report(()).passed


def test_the_receipt_module_still_exports_the_result_types() -> None:
    from wallet_sdk import receipt

    assert receipt.CheckResult is CheckResult
    assert receipt.CheckStatus is CheckStatus
