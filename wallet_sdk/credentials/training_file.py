"""The lifelong training file (终身职业技能培训电子档案): a cardholder's append-only sequence of
training records from different accredited institutions.

Each entry is a ``vc+jwt`` `TrainingRecord` whose issuer signed a ``trainingFile`` claim

    {"file": <file id>, "sequence": n, "previous": "0x<SHA-256 of entry n-1's JWT>"}

(entry 0 links to 32 zero bytes). The institution that adds entry n signs the hash of entry
n-1, so a verifier holding the whole file detects an entry removed from the middle (a gap in
the sequence and a broken link) or entries reordered (links that point elsewhere), without
trusting the holder. Dropping entries from the end cannot be detected from the file alone; it
only lowers the holder's own totals.

`verify_training_file` runs every entry through `CredentialVerifier` and computes totals
(hours per period) from verified entries only; entries that fail (revoked, forged, issuer not
accredited) are listed and left out of the totals.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from wallet_sdk.credentials._model import credential_digest
from wallet_sdk.credentials.types import TRAINING_RECORD
from wallet_sdk.credentials.verifier import (
    CredentialReport,
    CredentialVerificationError,
    CredentialVerifier,
)
from wallet_sdk.errors import FormatError
from wallet_sdk.jose import b64url_decode
from wallet_sdk.nesting import load_json
from wallet_sdk.receipt import CheckResult, CheckStatus

__all__ = [
    "FILE_FORMAT",
    "GENESIS",
    "TrainingFile",
    "TrainingFileLink",
    "TrainingFileReport",
    "verify_training_file",
]

FILE_FORMAT = "hrss-training-file/1"
GENESIS = bytes(32)
_MAX_ENTRIES = 10_000
Period = Literal["year", "quarter", "month"]


@dataclass(frozen=True, slots=True)
class TrainingFileLink:
    """The ``trainingFile`` claim an issuer signs into entry `sequence`."""

    file_id: str
    sequence: int
    previous: bytes

    def to_claim(self) -> dict[str, Any]:
        """The claim value, for ``issue_vc_jwt(extra_claims={"trainingFile": ...})``."""
        return {
            "file": self.file_id,
            "sequence": self.sequence,
            "previous": "0x" + self.previous.hex(),
        }

    @classmethod
    def from_claim(cls, value: object) -> TrainingFileLink:
        """Parse the claim. Raises `FormatError`."""
        if not isinstance(value, Mapping):
            raise FormatError("trainingFile claim must be an object")
        file_id, sequence, previous = (
            value.get("file"),
            value.get("sequence"),
            value.get("previous"),
        )
        if not isinstance(file_id, str) or not file_id:
            raise FormatError("trainingFile.file must be a non-empty string")
        if type(sequence) is not int or sequence < 0:
            raise FormatError("trainingFile.sequence must be a non-negative integer")
        if not isinstance(previous, str) or not previous.startswith("0x") or len(previous) != 66:
            raise FormatError("trainingFile.previous must be 0x and 64 hex digits")
        try:
            previous_bytes = bytes.fromhex(previous[2:])
        except ValueError as err:
            raise FormatError("trainingFile.previous is not hex") from err
        return cls(file_id, sequence, previous_bytes)


def _payload(token: str) -> dict[str, Any]:
    parts = token.split(".")
    if len(parts) != 3:
        raise FormatError("a training file entry is a compact vc+jwt")
    value = load_json(b64url_decode(parts[1]), what="entry payload")
    if not isinstance(value, dict):
        raise FormatError("entry payload must be an object")
    return value


@dataclass(frozen=True, slots=True)
class TrainingFile:
    """A holder's training file: its id and the entries (``vc+jwt`` tokens) in order."""

    file_id: str
    entries: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.file_id, str) or not self.file_id:
            raise FormatError("file id must be a non-empty string")
        if not isinstance(self.entries, tuple) or not all(isinstance(e, str) for e in self.entries):
            raise FormatError("entries must be a tuple of tokens")
        if len(self.entries) > _MAX_ENTRIES:
            raise FormatError(f"a training file holds at most {_MAX_ENTRIES} entries")

    @property
    def head(self) -> bytes:
        """The hash the next entry must link to (`GENESIS` for an empty file)."""
        return credential_digest(self.entries[-1]) if self.entries else GENESIS

    def next_link(self) -> TrainingFileLink:
        """The link the issuer of the next entry signs."""
        return TrainingFileLink(self.file_id, len(self.entries), self.head)

    def append(self, token: str) -> TrainingFile:
        """A new file with `token` appended. Raises `FormatError` when the token does not carry
        the expected link (the holder's wallet refuses to store a broken file)."""
        link = TrainingFileLink.from_claim(_payload(token).get("trainingFile"))
        if link != self.next_link():
            raise FormatError("entry does not link to the head of this file")
        return TrainingFile(self.file_id, (*self.entries, token))

    def to_json(self) -> str:
        """The file as JSON (what the holder presents)."""
        return json.dumps(
            {"format": FILE_FORMAT, "file": self.file_id, "entries": list(self.entries)},
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, data: str | Mapping[str, Any]) -> TrainingFile:
        """Parse a presented file. Raises `FormatError`."""
        if isinstance(data, str):
            data = load_json(data, what="training file")
        if not isinstance(data, Mapping) or data.get("format") != FILE_FORMAT:
            raise FormatError(f"not a {FILE_FORMAT} document")
        entries = data.get("entries")
        if not isinstance(entries, list):
            raise FormatError("entries must be a list")
        return cls(str(data.get("file", "")), tuple(entries))


@dataclass(frozen=True, slots=True)
class TrainingFileReport:
    """Result of a training file verification.

    `checks` are ``format`` and ``entry_links``; `entries` holds one credential report per
    entry; totals count verified entries only.
    """

    checks: tuple[CheckResult, ...]
    entries: tuple[CredentialReport, ...]
    verified_hours: int
    hours_by_period: Mapping[str, int] = field(default_factory=dict)
    excluded: tuple[int, ...] = ()

    @property
    def passed(self) -> bool:
        """True when the file is complete and in order (entries may still be excluded)."""
        return all(c.status is CheckStatus.PASSED for c in self.checks)


def _period_key(date: str, period: Period) -> str:
    year, month = date[:4], int(date[5:7])
    if period == "year":
        return year
    if period == "quarter":
        return f"{year}-Q{(month - 1) // 3 + 1}"
    return f"{year}-{month:02d}"


def verify_training_file(
    training_file: TrainingFile,
    verifier: CredentialVerifier,
    *,
    as_of: int | None = None,
    period: Period = "year",
    strict: bool = True,
) -> TrainingFileReport:
    """Check that the file is complete and in order, verify every entry, and total the hours
    of verified entries by `period` (of each record's ``endDate``).

    Checks: ``format`` (every entry a training record of this file) and ``entry_links``
    (sequence numbers 0..n-1, each entry linking the hash of the one before). Raises
    `CredentialVerificationError` naming the failed check when `strict`.
    """
    checks: list[CheckResult] = []
    links: list[TrainingFileLink] = []
    try:
        for index, token in enumerate(training_file.entries):
            payload = _payload(token)
            if TRAINING_RECORD not in payload.get("type", []):
                raise FormatError(f"entry {index} is not a {TRAINING_RECORD}")
            link = TrainingFileLink.from_claim(payload.get("trainingFile"))
            if link.file_id != training_file.file_id:
                raise FormatError(f"entry {index} belongs to another file")
            links.append(link)
        if not training_file.entries:
            raise FormatError("the file has no entries")
        checks.append(CheckResult("format", CheckStatus.PASSED, f"{len(links)} entries"))
    except FormatError as err:
        checks.append(CheckResult("format", CheckStatus.FAILED, str(err)))
        checks.append(CheckResult("entry_links", CheckStatus.SKIPPED, "not run: format failed"))
        return _finish(TrainingFileReport(tuple(checks), (), 0), strict)

    problem = None
    sequences = [link.sequence for link in links]
    expected = list(range(len(links)))
    if sequences != expected:
        if sorted(sequences) == expected:
            problem = f"sequence numbers {sequences} are out of order: entries were reordered"
        elif len(set(sequences)) != len(sequences):
            problem = f"sequence numbers {sequences} repeat: an entry was duplicated"
        else:
            missing = sorted(set(range(max(sequences) + 1)) - set(sequences))
            problem = f"sequence numbers {missing} are missing: an entry was removed"
    previous = GENESIS
    for index, (token, link) in enumerate(zip(training_file.entries, links, strict=True)):
        if problem is not None:
            break
        if not hmac.compare_digest(link.previous, previous):
            problem = f"entry {index} does not link to the entry before it: entries were reordered"
            break
        previous = credential_digest(token)
    if problem is None:
        checks.append(
            CheckResult("entry_links", CheckStatus.PASSED, f"sequence 0..{len(links) - 1} linked")
        )
    else:
        checks.append(CheckResult("entry_links", CheckStatus.FAILED, problem))
        return _finish(TrainingFileReport(tuple(checks), (), 0), strict)

    reports: list[CredentialReport] = []
    excluded: list[int] = []
    total = 0
    by_period: dict[str, int] = {}
    for index, token in enumerate(training_file.entries):
        report = verifier.verify_credential(token, as_of=as_of, strict=False)
        reports.append(report)
        if not report.passed or report.credential is None:
            excluded.append(index)
            continue
        subject = report.credential.subject
        hours = int(subject["hours"])
        total += hours
        key = _period_key(str(subject["endDate"]), period)
        by_period[key] = by_period.get(key, 0) + hours
    return _finish(
        TrainingFileReport(tuple(checks), tuple(reports), total, by_period, tuple(excluded)),
        strict,
    )


def _finish(report: TrainingFileReport, strict: bool) -> TrainingFileReport:
    if strict:
        for check in report.checks:
            if check.status is CheckStatus.FAILED:
                raise CredentialVerificationError(check.name, check.detail, report)  # type: ignore[arg-type]
    return report
