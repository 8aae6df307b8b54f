"""The lifelong training file: one person's, presented by that person, complete and in order;
totals from counted entries only, split by period; every excluded entry named with why."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

import pytest

from node_adapter import CredentialStatus, FileAdvance
from tests.unit.wallet_sdk.credentials.forge import replace_payload, sign, split
from tests.unit.wallet_sdk.credentials.world import DemoIssuer, TrustWorld, training_subject
from wallet_sdk.credentials import (
    FILE_HEAD_CLAIM,
    CredentialVerificationError,
    CredentialVerifier,
    EntryOutcome,
    FileVerdict,
    IssuedCredential,
    TrainingFile,
    TrainingFileLink,
    TrainingFilePresentation,
    file_head_key,
    training_file_id,
    training_period,
    verify_training_file,
)
from wallet_sdk.credentials.training_file import PRESENTATION_FORMAT, TrainingPeriod, split_hours
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import Curve, Jwk, b64url_encode
from wallet_sdk.receipt import CheckStatus

AUDIENCE = "https://rsj.sh.example/training-check"
NONCE = "n-5d0c"
PERSON = {"name": "王小明", "idNumber": "11010519900307123X"}
OTHER_PERSON = {"name": "李四", "idNumber": "440300199001011234"}
COURSES = [
    ("电工基础", 40, "2025-03-31"),
    ("安全生产", 16, "2025-11-15"),
    ("PLC 编程", 64, "2026-05-20"),
    ("焊接", 24, "2026-08-10"),
]
MakeVerifier = Callable[..., CredentialVerifier]
FILE_ID = "urn:hrss:training-file:" + "A" * 43


def person_subject(course: str, hours: int, end: str, **over: Any) -> dict[str, Any]:
    return {**training_subject(course, hours, end), **PERSON, **over}


def add_entry(
    world: TrustWorld,
    training_file: TrainingFile,
    issuer: DemoIssuer,
    subject: Mapping[str, Any],
    holder: Jwk,
) -> tuple[TrainingFile, IssuedCredential]:
    """An institution issues the next entry; the wallet appends it (unchecked when the
    entry is bound to another key, as a tampered file would hold it)."""
    credential = world.issue(
        issuer,
        "TrainingRecord",
        subject,
        holder_key=holder,
        extra_claims={"trainingFile": training_file.next_link().to_claim()},
    )
    return TrainingFile(
        training_file.file_id, (*training_file.entries, credential.token)
    ), credential


def build_file(
    world: TrustWorld, issuers: list[DemoIssuer], holder: Jwk
) -> tuple[TrainingFile, list[IssuedCredential]]:
    training_file = TrainingFile.for_holder(holder)
    issued = []
    for (course, hours, end), issuer in zip(COURSES, issuers * 2, strict=False):
        credential = world.issue(
            issuer,
            "TrainingRecord",
            person_subject(course, hours, end),
            holder_key=holder,
            extra_claims={"trainingFile": training_file.next_link().to_claim()},
        )
        training_file = training_file.append(credential.token)
        issued.append(credential)
    return training_file, issued


def check(
    world: TrustWorld,
    training_file: TrainingFile,
    verifier: CredentialVerifier,
    holder: Jwk,
    **options: Any,
) -> Any:
    presentation = training_file.present(
        holder_key=holder, nonce=NONCE, audience=AUDIENCE, issued_at=world.now()
    )
    parsed = TrainingFilePresentation.parse(presentation.to_json())
    return verify_training_file(
        parsed, verifier, nonce=NONCE, audience=AUDIENCE, as_of=world.now(), **options
    )


@pytest.fixture
def holder() -> Jwk:
    return Jwk.generate(Curve.ED25519)


def test_file_from_two_institutions_verifies_and_totals_hours(
    world: TrustWorld,
    school: DemoIssuer,
    assessor: DemoIssuer,
    make_verifier: MakeVerifier,
    holder: Jwk,
) -> None:
    training_file, issued = build_file(world, [school, assessor], holder)
    assert TrainingFile.parse(training_file.to_json()) == training_file
    report = check(world, training_file, make_verifier(), holder)
    assert report.verdict is FileVerdict.VERIFIED and report.passed and report.excluded == ()
    assert [c.name for c in report.checks] == [
        "format",
        "holder_binding",
        "one_person",
        "entry_links",
        "file_head",
    ]
    # Without a chain view of file heads the head check is named as not run.
    assert report.checks[-1].status is CheckStatus.SKIPPED
    assert report.check_detail("file_head") == "not run: no chain view of file heads was given"
    assert report.verified_hours == 144
    assert dict(report.hours_by_period) == {"2025": 56, "2026": 88}
    quarterly = check(world, training_file, make_verifier(), holder, period="quarter")
    assert quarterly.hours_by_period["2026-Q2"] == 64
    document = report.to_dict()
    assert document["verdict"] == "verified"
    assert document["as_of"].endswith("Z") and document["entries"][0]["issued_at"].endswith("Z")
    assert document["entries"][1]["issuer"]["id"] == "0x" + assessor.entity_id.hex()

    # A revoked record stays in the file (order intact) but no longer counts, and says so.
    world.set_status(school, issued[2], CredentialStatus.REVOKED, reason=40)
    report = check(world, training_file, make_verifier(), holder)
    assert report.verdict is FileVerdict.VERIFIED_WITH_EXCLUDED_ENTRIES and not report.passed
    assert report.excluded == (2,)
    assert report.entries[2].outcome is EntryOutcome.REVOKED
    assert "status" in report.entries[2].reason and "revoked" in report.entries[2].reason
    assert report.verified_hours == 144 - 64


def test_entry_of_another_person_is_named_and_fails_the_file(
    world: TrustWorld, school: DemoIssuer, make_verifier: MakeVerifier, holder: Jwk
) -> None:
    training_file = TrainingFile.for_holder(holder)
    training_file, _ = add_entry(
        world, training_file, school, person_subject("电工", 8, "2026-01-31"), holder
    )
    training_file, _ = add_entry(
        world,
        training_file,
        school,
        {**training_subject("焊接", 700, "2026-02-28"), **OTHER_PERSON},
        holder,
    )
    with pytest.raises(CredentialVerificationError) as err:
        check(world, training_file, make_verifier(), holder)
    assert err.value.check == "one_person"
    assert "entry 1 names another person (name, idNumber differ)" in err.value.message
    assert OTHER_PERSON["idNumber"] not in err.value.message
    report = check(world, training_file, make_verifier(), holder, strict=False)
    assert report.verdict is FileVerdict.FAILED and report.verified_hours == 0
    assert report.entries[1].outcome is EntryOutcome.FOREIGN


def test_entry_bound_to_another_holder_is_named(
    world: TrustWorld, school: DemoIssuer, make_verifier: MakeVerifier, holder: Jwk
) -> None:
    training_file = TrainingFile.for_holder(holder)
    training_file, _ = add_entry(
        world, training_file, school, person_subject("电工", 8, "2026-01-31"), holder
    )
    stranger = Jwk.generate(Curve.ED25519)
    training_file, _ = add_entry(
        world, training_file, school, person_subject("焊接", 700, "2026-02-28"), stranger
    )
    report = check(world, training_file, make_verifier(), holder, strict=False)
    assert report.verdict is FileVerdict.FAILED
    assert report.check_detail("one_person") == (
        "entries of someone else: entry 1 bound to another holder's key"
    )
    assert report.entries[1].outcome is EntryOutcome.FOREIGN


def test_file_presented_by_someone_else_fails_holder_binding(
    world: TrustWorld, school: DemoIssuer, make_verifier: MakeVerifier, holder: Jwk
) -> None:
    training_file, _ = build_file(world, [school], holder)
    thief = Jwk.generate(Curve.ED25519)
    with pytest.raises(FormatError, match="not the holder key of the file"):
        training_file.present(holder_key=thief, nonce=NONCE, audience=AUDIENCE, issued_at=1)
    # The thief signs a binding anyway, swapping in its own signature.
    own = training_file.present(
        holder_key=holder, nonce=NONCE, audience=AUDIENCE, issued_at=world.now()
    )
    header, payload, _ = split(own.binding)
    forged = TrainingFilePresentation(training_file, sign(header, payload, thief))
    with pytest.raises(CredentialVerificationError) as err:
        verify_training_file(
            forged, make_verifier(), nonce=NONCE, audience=AUDIENCE, as_of=world.now()
        )
    assert err.value.check == "holder_binding"
    assert "not signed by the file's holder key" in err.value.message
    # The holder's own binding, replayed to another verifier or over fewer entries.
    with pytest.raises(CredentialVerificationError) as err:
        verify_training_file(own, make_verifier(), nonce="other", audience=AUDIENCE)
    assert err.value.check == "holder_binding" and "nonce" in err.value.message
    shorter = TrainingFilePresentation(
        TrainingFile(training_file.file_id, training_file.entries[:-1]), own.binding
    )
    with pytest.raises(CredentialVerificationError) as err:
        verify_training_file(shorter, make_verifier(), nonce=NONCE, audience=AUDIENCE)
    assert err.value.check == "holder_binding" and "another list of entries" in err.value.message


def test_entry_removed_or_reordered_fails_entry_links(
    world: TrustWorld,
    school: DemoIssuer,
    assessor: DemoIssuer,
    make_verifier: MakeVerifier,
    holder: Jwk,
) -> None:
    training_file, _ = build_file(world, [school, assessor], holder)
    entries = list(training_file.entries)
    removed = TrainingFile(training_file.file_id, tuple(entries[:1] + entries[2:]))
    with pytest.raises(CredentialVerificationError) as err:
        check(world, removed, make_verifier(), holder)
    assert err.value.check == "entry_links" and "removed" in err.value.message
    reordered = TrainingFile(training_file.file_id, (entries[1], entries[0], *entries[2:]))
    with pytest.raises(CredentialVerificationError) as err:
        check(world, reordered, make_verifier(), holder)
    assert err.value.check == "entry_links" and "reordered" in err.value.message
    first_dropped = TrainingFile(training_file.file_id, tuple(entries[1:]))
    with pytest.raises(CredentialVerificationError) as err:
        check(world, first_dropped, make_verifier(), holder)
    assert err.value.check == "entry_links"


def test_forged_middle_entry_is_named_not_called_a_reordering(
    world: TrustWorld, school: DemoIssuer, make_verifier: MakeVerifier, holder: Jwk
) -> None:
    training_file, _ = build_file(world, [school, school], holder)
    _, payload, _ = split(training_file.entries[1])
    payload["credentialSubject"]["hours"] = 800
    entries = list(training_file.entries)
    entries[1] = replace_payload(entries[1], payload)
    forged = TrainingFile(training_file.file_id, tuple(entries))
    report = check(world, forged, make_verifier(), holder, strict=False)
    assert report.verdict is FileVerdict.FAILED
    detail = report.check_detail("entry_links")
    assert "entry 1 is not the one entry 2's issuer linked to: altered or replaced" in detail
    assert "reordered" not in detail
    assert report.excluded == (1,)
    assert report.entries[1].outcome is EntryOutcome.FORGED
    # The altered token is not the one its issuer registered under that id on chain.
    assert report.entries[1].reason.startswith("registration: credential id is registered with")


def test_impossible_dates_are_excluded_and_named(
    world: TrustWorld, school: DemoIssuer, make_verifier: MakeVerifier, holder: Jwk
) -> None:
    cases = [
        ({"endDate": "2026-13-45"}, "endDate 2026-13-45 is not a calendar date"),
        ({"endDate": "2026-00-00"}, "endDate 2026-00-00 is not a calendar date"),
        ({"startDate": "2026-03-01", "endDate": "2026-02-01"}, "is before startDate"),
        ({"endDate": "9999-12-31"}, "endDate 9999-12-31 is after the issue date"),
    ]
    training_file = TrainingFile.for_holder(holder)
    for over, _ in cases:
        subject = person_subject("电工", 8, "2026-01-31", **over)
        training_file, _ = add_entry(world, training_file, school, subject, holder)
    report = check(world, training_file, make_verifier(), holder, period="quarter")
    assert report.verdict is FileVerdict.VERIFIED_WITH_EXCLUDED_ENTRIES
    assert report.verified_hours == 0 and dict(report.hours_by_period) == {}
    for entry, (_, message) in zip(report.entries, cases, strict=True):
        assert entry.outcome is EntryOutcome.INVALID_DATES
        assert message in entry.reason


def test_course_spanning_months_is_split_pro_rata(
    world: TrustWorld, school: DemoIssuer, make_verifier: MakeVerifier, holder: Jwk
) -> None:
    subject = person_subject("PLC", 60, "2026-03-31", startDate="2026-01-01")
    training_file, _ = add_entry(world, TrainingFile.for_holder(holder), school, subject, holder)
    monthly = check(world, training_file, make_verifier(), holder, period="month")
    # 31, 28 and 31 of 90 days: 20.67, 18.67, 20.67 hours; the two spare hours go to the
    # largest fractions, earlier first.
    assert dict(monthly.hours_by_period) == {"2026-01": 21, "2026-02": 19, "2026-03": 20}
    quarterly = check(world, training_file, make_verifier(), holder, period="quarter")
    assert dict(quarterly.hours_by_period) == {"2026-Q1": 60}


def test_split_hours_across_a_year_end() -> None:
    span = TrainingPeriod(date(2025, 12, 22), date(2026, 1, 10))  # 10 + 10 days
    assert split_hours(40, span, "year") == {"2025": 20, "2026": 20}
    assert split_hours(40, span, "quarter") == {"2025-Q4": 20, "2026-Q1": 20}
    assert split_hours(1, span, "month") == {"2025-12": 1}


def test_training_period_rejects_impossible_dates() -> None:
    issued = 1_780_000_000  # 2026-05-29 04:26 in China, 2026-05-28 in UTC
    ok = training_period({"startDate": "2026-01-01", "endDate": "2026-05-29"}, issued_at=issued)
    assert ok.days == 149
    for subject, message in (
        ({"startDate": "2026-02-30", "endDate": "2026-03-01"}, "startDate 2026-02-30 is not"),
        ({"startDate": "2026-01-01"}, "endDate must be a date YYYY-MM-DD"),
        ({"startDate": "2026-01-01", "endDate": "2026-05-30"}, "after the issue date 2026-05-29"),
    ):
        with pytest.raises(FormatError, match=message):
            training_period(subject, issued_at=issued)


@pytest.mark.parametrize(
    ("claim", "message"),
    [
        ({"foo": 1}, r"unknown members \['foo'\]"),
        ({"file": "", "sequence": -5, "previous": "zz"}, "file must be a non-empty string"),
        ({}, "file must be a non-empty string"),
        ("file-1", "must be an object"),
        ({"file": "file-7f3a", "sequence": 0, "previous": "0x" + "00" * 32}, "file id must be"),
    ],
)
def test_malformed_file_claims_are_refused(claim: object, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        TrainingFileLink.from_claim(claim)


def test_file_claim_sequence_and_previous_checked(holder: Jwk) -> None:
    file_id = TrainingFile.for_holder(holder).file_id
    with pytest.raises(FormatError, match="sequence must be an integer"):
        TrainingFileLink.from_claim({"file": file_id, "sequence": -5, "previous": "0x" + "00" * 32})
    with pytest.raises(FormatError, match="previous must be 0x and 64"):
        TrainingFileLink.from_claim({"file": file_id, "sequence": 0, "previous": "zz"})


def test_wallet_refuses_an_entry_with_the_wrong_link_or_holder(
    world: TrustWorld, school: DemoIssuer, holder: Jwk
) -> None:
    training_file = TrainingFile.for_holder(holder)
    stale_link = training_file.next_link().to_claim()
    first = world.issue(
        school,
        "TrainingRecord",
        person_subject("a", 8, "2026-01-31"),
        holder_key=holder,
        extra_claims={"trainingFile": stale_link},
        register_status=False,
    )
    training_file = training_file.append(first.token)
    second = world.issue(
        school,
        "TrainingRecord",
        person_subject("b", 8, "2026-02-28"),
        holder_key=holder,
        extra_claims={"trainingFile": stale_link},
        register_status=False,
    )
    with pytest.raises(FormatError, match="head"):
        training_file.append(second.token)
    unbound = world.issue(
        school,
        "TrainingRecord",
        person_subject("b", 8, "2026-02-28"),
        holder_key=Jwk.generate(Curve.ED25519),
        extra_claims={"trainingFile": training_file.next_link().to_claim()},
        register_status=False,
    )
    with pytest.raises(FormatError, match="not bound to the holder key"):
        training_file.append(unbound.token)


def _token(payload: str) -> str:
    return "eyJhbGciOiJFZERTQSJ9." + b64url_encode(payload.encode()) + ".c2ln"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("not-a-jwt", "entry 0: a training file entry is a compact vc+jwt"),
        # Deep nesting would overflow the C stack: web3 raised the recursion limit.
        (
            _token("[" * 100_000),
            "entry 0: entry payload nests arrays and objects deeper than 32 levels",
        ),
        (_token("{"), "entry 0: entry payload is not valid JSON"),
        (_token('{"type": 5}'), "entry 0: not a TrainingRecord"),
        (_token('{"type": ["TrainingRecord"], "trainingFile": 1}'), "must be an object"),
    ],
)
def test_hostile_entries_fail_format_not_the_verifier(
    make_verifier: MakeVerifier, holder: Jwk, entry: str, message: str
) -> None:
    training_file = TrainingFile(TrainingFile.for_holder(holder).file_id, (entry,))
    presentation = training_file.present(
        holder_key=holder, nonce=NONCE, audience=AUDIENCE, issued_at=1
    )
    report = verify_training_file(
        presentation, make_verifier(), nonce=NONCE, audience=AUDIENCE, strict=False
    )
    assert report.verdict is FileVerdict.FAILED and report.entries == ()
    assert report.check_detail("format") == message or message in report.check_detail("format")
    assert report.check_detail("entry_links") == "not run: format failed"


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"format": "x"}, "not a hrss-training-file-presentation/1 document"),
        (
            "[" * 100_000,
            "training file presentation nests arrays and objects deeper than 32 levels",
        ),
        ("{", "training file presentation is not valid JSON"),
        (
            {"format": PRESENTATION_FORMAT, "file": "f", "entries": [], "binding": "a.b.c"},
            "file id must be urn:hrss:training-file:<holder key thumbprint>",
        ),
        (
            {"format": PRESENTATION_FORMAT, "file": FILE_ID, "entries": [1], "binding": "a.b.c"},
            "entries must be a tuple of tokens",
        ),
        (
            {"format": PRESENTATION_FORMAT, "file": FILE_ID, "entries": [], "binding": "x"},
            "binding must be a compact JWS",
        ),
    ],
)
def test_malformed_presentations_are_refused(document: Any, message: str) -> None:
    with pytest.raises(FormatError) as err:
        TrainingFilePresentation.parse(document)
    assert str(err.value) == message


def test_sd_jwt_entries_shown_without_the_id_number(
    world: TrustWorld, school: DemoIssuer, make_verifier: MakeVerifier, holder: Jwk
) -> None:
    """Entries issued as SD-JWT VCs: the holder shows hours, dates and courses, withholds the
    ID number and name; the links still hold and the hours count. An entry shown without its
    hours is named and does not count."""
    training_file = TrainingFile.for_holder(holder)
    for course, hours, end in COURSES[:3]:
        issued = world.issue(
            school,
            "TrainingRecord",
            person_subject(course, hours, end),
            sd=True,
            holder_key=holder,
            disclosable=["hours", "course", "startDate", "endDate"],
            extra_claims={"trainingFile": training_file.next_link().to_claim()},
        )
        training_file = training_file.append(issued.token)
    shown = training_file.disclose(["hours", "course", "startDate", "endDate"])
    report = check(world, shown, make_verifier(), holder)
    assert report.verdict is FileVerdict.VERIFIED and report.verified_hours == 120
    presented = shown.present(holder_key=holder, nonce=NONCE, audience=AUDIENCE, issued_at=1)
    assert (
        PERSON["idNumber"] not in presented.to_json() and PERSON["name"] not in presented.to_json()
    )
    subject = report.entries[0].credential.credential
    assert subject is not None and "idNumber" not in subject.subject

    too_little = TrainingFile(
        shown.file_id, (*shown.entries[:2], training_file.disclose(["course"]).entries[2])
    )
    report = check(world, too_little, make_verifier(), holder)
    assert report.verdict is FileVerdict.VERIFIED_WITH_EXCLUDED_ENTRIES
    assert report.entries[2].outcome is EntryOutcome.NOT_VERIFIED
    assert report.entries[2].reason == "not disclosed, so not counted: hours, startDate, endDate"


# ------------------------------------------------------------------------------- file head

HEAD_SECRET = b"k" * 32


def build_headed_file(
    world: TrustWorld,
    issuer: DemoIssuer,
    holder: Jwk,
    count: int,
    *,
    start: TrainingFile | None = None,
    advance: bool = True,
) -> tuple[TrainingFile, list[int]]:
    """`count` entries issued and registered as the service does, each advancing the file's
    head in its registration transaction (unless not `advance`: an entry registered beside
    the head, a branch). Returns the file and the block time of each entry."""
    training_file = start or TrainingFile.for_holder(holder)
    key = file_head_key(HEAD_SECRET, training_file.file_id)
    times = []
    for course, hours, end in COURSES[len(training_file.entries) :][:count]:
        link = training_file.next_link()
        credential = world.issue(
            issuer,
            "TrainingRecord",
            person_subject(course, hours, end),
            holder_key=holder,
            register_status=False,
            extra_claims={"trainingFile": link.to_claim(), FILE_HEAD_CLAIM: "0x" + key.hex()},
        )
        registry = world.clients.status_registry
        if advance:
            receipt = registry.register_with_file_heads(
                issuer.controller,
                issuer=issuer.entity_id,
                credential_ids=[credential.credential_id],
                digests=[credential.digest],
                advances=[FileAdvance(0, key, link.sequence, link.previous)],
            )
            times.append(world.chain.block(receipt.block_number).timestamp)
        else:
            times.append(world.register_status(issuer, credential))
        training_file = training_file.append(credential.token)
        world.chain.set_next_block_timestamp(world.now() + 10)
    return training_file, times


def head_check(world: TrustWorld, training_file: TrainingFile, holder: Jwk, **options: Any) -> Any:
    presentation = training_file.present(
        holder_key=holder, nonce=NONCE, audience=AUDIENCE, issued_at=world.now()
    )
    verifier = world.verifier(world.cached_state())
    return verify_training_file(
        presentation,
        verifier,
        nonce=NONCE,
        audience=AUDIENCE,
        heads=world.direct_view(),
        **{"strict": False, **options},
    )


def test_file_at_its_head_passes_file_head(
    world: TrustWorld, school: DemoIssuer, holder: Jwk
) -> None:
    training_file, _ = build_headed_file(world, school, holder, 3)
    report = head_check(world, training_file, holder)
    assert report.verdict is FileVerdict.VERIFIED, report.checks
    assert (
        report.check_detail("file_head") == "the head on chain is entry 2, the presented last entry"
    )


def test_truncated_file_fails_file_head(world: TrustWorld, school: DemoIssuer, holder: Jwk) -> None:
    """Finding 2: entries dropped from the end verified (the file alone cannot show it)."""
    training_file, _ = build_headed_file(world, school, holder, 3)
    truncated = TrainingFile(training_file.file_id, training_file.entries[:2])
    report = head_check(world, truncated, holder)
    assert report.verdict is FileVerdict.FAILED and report.verified_hours == 0
    assert [c.name for c in report.checks if c.status is CheckStatus.FAILED] == ["file_head"]
    assert report.check_detail("file_head") == (
        "the file shows 2 entries but its head on chain is entry 2: entries dropped from the end"
    )
    with pytest.raises(CredentialVerificationError, match="entries dropped from the end"):
        head_check(world, truncated, holder, strict=True)


def test_forked_file_fails_file_head(world: TrustWorld, school: DemoIssuer, holder: Jwk) -> None:
    """Finding 1: two branches from entry 1; only the one the head took verifies as a file,
    whether the other is as long or shorter (hiding entries)."""
    trunk, _ = build_headed_file(world, school, holder, 2)
    taken, _ = build_headed_file(world, school, holder, 2, start=trunk)
    branch, _ = build_headed_file(world, school, holder, 2, start=trunk, advance=False)
    assert taken.entries[2] != branch.entries[2]
    assert head_check(world, taken, holder).verdict is FileVerdict.VERIFIED
    for shown, detail in (
        (branch, "entry 3 is not the head on chain: a branch the file never took (a fork)"),
        (
            TrainingFile(branch.file_id, branch.entries[:3]),
            "the file shows 3 entries but its head on chain is entry 3: "
            "entries dropped from the end",
        ),
    ):
        report = head_check(world, shown, holder)
        assert report.verdict is FileVerdict.FAILED
        assert [c.name for c in report.checks if c.status is CheckStatus.FAILED] == ["file_head"]
        assert report.check_detail("file_head") == detail


def test_file_head_as_of_the_verifiers_time(
    world: TrustWorld, school: DemoIssuer, holder: Jwk
) -> None:
    training_file, times = build_headed_file(world, school, holder, 2)
    first = TrainingFile(training_file.file_id, training_file.entries[:1])
    assert head_check(world, first, holder, as_of=times[0]).verdict is FileVerdict.VERIFIED
    report = head_check(world, training_file, holder, as_of=times[0])
    assert report.check_detail("file_head") == (
        "the file shows 2 entries but the chain has 1 as of the verification time: "
        "entries the file head never took (a fork)"
    )
    report = head_check(world, first, holder, as_of=times[0] - 1)
    assert report.check_detail("file_head") == (
        "the chain has no head for this file as of the verification time"
    )


def test_entries_without_one_head_key_fail_file_head(
    world: TrustWorld, school: DemoIssuer, holder: Jwk
) -> None:
    unheaded, _ = build_file(world, [school], holder)
    report = head_check(world, unheaded, holder)
    assert report.check_detail("file_head") == "entries carry no file head key (trainingFileHead)"
    headed, _ = build_headed_file(world, school, holder, 1)
    mixed, _ = add_entry(world, headed, school, person_subject("焊接", 8, "2026-01-01"), holder)
    report = head_check(world, mixed, holder)
    assert report.verdict is FileVerdict.FAILED
    assert report.check_detail("file_head") == (
        "the entries name 2 different file head keys, not one"
    )


def test_file_head_key_is_keyed_and_refuses_a_short_secret(holder: Jwk) -> None:
    file_id = training_file_id(holder)
    assert file_head_key(HEAD_SECRET, file_id) != file_head_key(b"j" * 32, file_id)
    assert file_head_key(HEAD_SECRET, file_id) != hashlib.sha256(file_id.encode()).digest()
    with pytest.raises(FormatError, match="the file head secret must be at least 32 bytes"):
        file_head_key(b"short", file_id)
    with pytest.raises(FormatError, match="file id must be urn:hrss:training-file:"):
        file_head_key(HEAD_SECRET, "urn:other")
