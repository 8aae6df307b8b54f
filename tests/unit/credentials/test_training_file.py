"""The lifelong training file: order, completeness, totals from verified entries only."""

from __future__ import annotations

import pytest

from node_adapter import CredentialStatus
from tests.unit.credentials.world import DemoIssuer, TrustWorld, training_subject
from wallet_sdk.credentials import (
    CredentialVerificationError,
    TrainingFile,
    verify_training_file,
)
from wallet_sdk.errors import FormatError

COURSES = [
    ("电工基础", 40, "2025-03-31"),
    ("安全生产", 16, "2025-11-15"),
    ("PLC 编程", 64, "2026-05-20"),
    ("焊接", 24, "2026-08-10"),
]


def build_file(world: TrustWorld, issuers: list[DemoIssuer]) -> tuple[TrainingFile, list]:  # type: ignore[type-arg]
    training_file = TrainingFile("file-7f3a")
    issued = []
    for (course, hours, end), issuer in zip(COURSES, issuers * 2, strict=False):
        credential = world.issue(
            issuer,
            "TrainingRecord",
            training_subject(course, hours, end),
            extra_claims={"trainingFile": training_file.next_link().to_claim()},
        )
        training_file = training_file.append(credential.token)
        issued.append(credential)
    return training_file, issued


def test_file_from_two_institutions_verifies_and_totals_hours(
    world: TrustWorld, school: DemoIssuer, assessor: DemoIssuer, make_verifier
) -> None:  # type: ignore[no-untyped-def]
    training_file, issued = build_file(world, [school, assessor])
    parsed = TrainingFile.parse(training_file.to_json())
    report = verify_training_file(parsed, make_verifier(), as_of=world.now())
    assert report.passed and report.excluded == ()
    assert report.verified_hours == 144
    assert dict(report.hours_by_period) == {"2025": 56, "2026": 88}
    quarterly = verify_training_file(parsed, make_verifier(), as_of=world.now(), period="quarter")
    assert quarterly.hours_by_period["2026-Q2"] == 64

    # A revoked record stays in the file (order intact) but its hours no longer count.
    world.set_status(school, issued[2], CredentialStatus.REVOKED, reason=40)
    report = verify_training_file(parsed, make_verifier(), as_of=world.now())
    assert report.passed and report.excluded == (2,)
    assert report.verified_hours == 144 - 64


def test_entry_removed_or_reordered_fails_entry_links(
    world: TrustWorld, school: DemoIssuer, assessor: DemoIssuer, make_verifier
) -> None:  # type: ignore[no-untyped-def]
    training_file, _ = build_file(world, [school, assessor])
    entries = list(training_file.entries)
    removed = TrainingFile(training_file.file_id, tuple(entries[:1] + entries[2:]))
    with pytest.raises(CredentialVerificationError) as err:
        verify_training_file(removed, make_verifier(), as_of=world.now())
    assert err.value.check == "entry_links" and "removed" in err.value.message
    reordered = TrainingFile(training_file.file_id, (entries[1], entries[0], *entries[2:]))
    with pytest.raises(CredentialVerificationError) as err:
        verify_training_file(reordered, make_verifier(), as_of=world.now())
    assert err.value.check == "entry_links" and "reordered" in err.value.message
    first_dropped = TrainingFile(training_file.file_id, tuple(entries[1:]))
    with pytest.raises(CredentialVerificationError) as err:
        verify_training_file(first_dropped, make_verifier(), as_of=world.now())
    assert err.value.check == "entry_links"


def test_entry_of_another_file_fails_format(
    world: TrustWorld, school: DemoIssuer, make_verifier
) -> None:  # type: ignore[no-untyped-def]
    training_file, _ = build_file(world, [school])
    foreign = TrainingFile("someone-else", training_file.entries)
    with pytest.raises(CredentialVerificationError) as err:
        verify_training_file(foreign, make_verifier(), as_of=world.now())
    assert err.value.check == "format" and "another file" in err.value.message


def test_wallet_refuses_an_entry_with_the_wrong_link(world: TrustWorld, school: DemoIssuer) -> None:
    training_file = TrainingFile("file-1")
    stale_link = training_file.next_link().to_claim()
    first = world.issue(
        school,
        "TrainingRecord",
        training_subject("a", 8, "2026-01-31"),
        extra_claims={"trainingFile": stale_link},
        register_status=False,
    )
    training_file = training_file.append(first.token)
    second = world.issue(
        school,
        "TrainingRecord",
        training_subject("b", 8, "2026-02-28"),
        extra_claims={"trainingFile": stale_link},
        register_status=False,
    )
    with pytest.raises(FormatError, match="head"):
        training_file.append(second.token)
