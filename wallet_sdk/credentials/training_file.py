"""The lifelong training file (终身职业技能培训电子档案): one person's append-only sequence of
training records from different accredited institutions.

One person, one file: the file id is derived from the holder's credential key,
``urn:hrss:training-file:<RFC 7638 thumbprint of the key>`` (`training_file_id`). Each entry is
a `TrainingRecord`, a ``vc+jwt`` or an SD-JWT VC (without key binding), bound to that key
(``cnf``), whose issuer signed a ``trainingFile`` claim

    {"file": <file id>, "sequence": n, "previous": "0x<SHA-256 of entry n-1's issuer JWT>"}

(entry 0 links to 32 zero bytes; no other members; for an SD-JWT the issuer JWT is the part
before the first ``~``, so the holder may show a file with hours, dates and courses but without
the ID number: `TrainingFile.disclose`). The institution that adds entry n signs
the hash of entry n-1, so a verifier holding the whole file detects an entry removed from the
middle (a gap in the sequence), entries reordered (sequence numbers out of order) or an entry
altered or replaced (the next entry links to another one), without trusting the holder.

The file head on chain (`StatusRegistry.registerWithFileHeads`) covers what the file alone
cannot show: the service registers each entry and advances its file's head (number of entries,
last entry's digest) in one transaction, only to the next sequence and linking the current head,
so no second entry at a taken sequence exists on chain (no fork) and the verifier knows which
entry the file ends with (no truncation). The head is kept under a pseudonymous file key, a
keyed hash of the file id (`file_head_key`) that each issuer signs into the entry
(``trainingFileHead``): nothing on chain links a file to a person or to its holder key.

The holder presents the file (`TrainingFile.present`) with a key binding JWT over the
verifier's nonce and audience and the digest of the list of entries (`entries_digest`), signed
with the key the file belongs to: a file copied by someone else does not verify.

`verify_training_file` runs named file checks, in order:

1. ``format``: every entry a ``vc+jwt`` or SD-JWT training record of this file.
2. ``holder_binding``: the binding JWT is signed by the file's holder key, names the
   verifier's nonce and audience, is fresh, and covers exactly the presented entries.
3. ``one_person``: every entry is bound to the file's holder key and names one person (the
   identity claims ``id``, ``name`` and ``idNumber`` present agree with entry 0's); entries of
   anyone else are named.
4. ``entry_links``: sequence numbers 0..n-1, each entry linking the hash of the one before.
5. ``file_head``: every entry names the same file head key and the file's head on chain as of
   the verifier's time is exactly the presented last entry: fewer entries on chain than shown,
   entries dropped from the end, or a last entry that is not the head (a branch the chain never
   took) fail. Skipped only when the caller gives no chain view of file heads (`FileHeadView`).

Then every entry is verified by `CredentialVerifier` and its dates checked
(`training_period`); an entry that fails (forged, revoked, suspended, issuer not accredited,
impossible dates) is excluded from the totals and its report says why. The verdict is
``verified`` (all checks passed, nothing excluded), ``verified_with_excluded_entries`` (the
file is whole and one person's; some entries do not count) or ``failed``. Hours of a course
that spans several periods are split pro rata by days.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from enum import StrEnum
from functools import partial
from typing import Any, Literal, Protocol

from wallet_sdk.checks import (
    CheckFailed,
    CheckNotApplicable,
    CheckReport,
    CheckResult,
    CheckRunner,
    CheckStatus,
)
from wallet_sdk.credentials._model import canonical_json, credential_digest, rfc3339
from wallet_sdk.credentials.holder import PresentationError, _locate
from wallet_sdk.credentials.trust_state import TrustStateError
from wallet_sdk.credentials.types import TRAINING_RECORD
from wallet_sdk.credentials.verifier import (
    CredentialReport,
    CredentialVerificationError,
    CredentialVerifier,
)
from wallet_sdk.errors import FormatError, VerificationError, WalletError
from wallet_sdk.jose import Jwk, b64url_decode, b64url_encode, sign_compact, verify_compact
from wallet_sdk.nesting import load_json

__all__ = [
    "FILE_BINDING_TYP",
    "FILE_CHECKS",
    "FILE_FORMAT",
    "FILE_HEAD_CLAIM",
    "GENESIS",
    "PRESENTATION_FORMAT",
    "EntryOutcome",
    "FileHeadView",
    "FileVerdict",
    "TrainingEntryReport",
    "TrainingFile",
    "TrainingFileLink",
    "TrainingFilePresentation",
    "TrainingFileReport",
    "TrainingPeriod",
    "entries_digest",
    "file_head_key",
    "split_hours",
    "training_file_id",
    "training_period",
    "verify_training_file",
]

FILE_FORMAT = "hrss-training-file/1"
PRESENTATION_FORMAT = "hrss-training-file-presentation/1"
FILE_BINDING_TYP = "training-file-kb+jwt"
FILE_CHECKS = ("format", "holder_binding", "one_person", "entry_links", "file_head")
FILE_HEAD_CLAIM = "trainingFileHead"
"""The claim holding the entry's pseudonymous file head key (``0x`` and 64 hex digits)."""
GENESIS = bytes(32)
_FILE_ID_PREFIX = "urn:hrss:training-file:"
_FILE_ID = re.compile(r"urn:hrss:training-file:([A-Za-z0-9_-]{43})")
_LINK_MEMBERS = frozenset({"file", "sequence", "previous"})
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_IDENTITY_CLAIMS = ("id", "name", "idNumber")
_COUNTED_CLAIMS = ("hours", "startDate", "endDate")
_MAX_ENTRIES = 10_000
_DIGEST_DOMAIN = b"hrss-training-file/1 entries\n"
_HEAD_KEY_DOMAIN = b"hrss-training-file/1 head\n"
# Course dates are dates in China Standard Time, where every issuing province lies.
_CHINA = timezone(timedelta(hours=8))
Period = Literal["year", "quarter", "month"]


def training_file_id(holder_key: Jwk) -> str:
    """The id of the one training file of the holder of `holder_key`."""
    return _FILE_ID_PREFIX + holder_key.thumbprint_b64()


def file_head_key(secret: bytes, file_id: str) -> bytes:
    """The pseudonymous key of a file's head on chain: HMAC-SHA256 under the service's
    `secret` (at least 32 bytes) of the file id. Without the secret nothing links the key to
    the file, its holder key or the person. Raises `FormatError` on a short secret or a file
    id that is not a holder's file."""
    if not isinstance(secret, bytes) or len(secret) < 32:
        raise FormatError("the file head secret must be at least 32 bytes")
    _holder_thumbprint(file_id)
    return hmac.new(secret, _HEAD_KEY_DOMAIN + file_id.encode("utf-8"), hashlib.sha256).digest()


class FileHeadView(Protocol):
    """Read access to file heads on chain (`DirectTrustView` implements it)."""

    def file_head_at(self, file_key: bytes, t: int) -> tuple[int, bytes]:
        """Number of entries registered at or before `t` and the last one's digest (zero
        when none). Raises `TrustStateError` when the chain cannot be read."""
        ...


def _holder_thumbprint(file_id: str) -> str:
    match = _FILE_ID.fullmatch(file_id) if isinstance(file_id, str) else None
    if match is None:
        raise FormatError(f"file id must be {_FILE_ID_PREFIX}<holder key thumbprint>")
    return match.group(1)


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
        """Parse the claim. Raises `FormatError` naming what is wrong (not an object, unknown
        or missing members, a file id that is not a holder's file, a negative sequence, a
        ``previous`` that is not 32 bytes of hex)."""
        if not isinstance(value, Mapping):
            raise FormatError("trainingFile claim must be an object")
        unknown = sorted(str(k) for k in set(value) - _LINK_MEMBERS)
        if unknown:
            raise FormatError(f"trainingFile has unknown members {unknown}")
        file_id, sequence, previous = (
            value.get("file"),
            value.get("sequence"),
            value.get("previous"),
        )
        if not isinstance(file_id, str) or not file_id:
            raise FormatError("trainingFile.file must be a non-empty string")
        _holder_thumbprint(file_id)
        if type(sequence) is not int or not 0 <= sequence < _MAX_ENTRIES:
            raise FormatError(
                f"trainingFile.sequence must be an integer from 0 to {_MAX_ENTRIES - 1}"
            )
        if not isinstance(previous, str) or not re.fullmatch(r"0x[0-9a-f]{64}", previous):
            raise FormatError("trainingFile.previous must be 0x and 64 lowercase hex digits")
        return cls(file_id, sequence, bytes.fromhex(previous[2:]))


def _json(text: str, what: str) -> Any:
    """`json.loads` behind the SDK's nesting bound (`wallet_sdk.nesting`). Raises `FormatError`."""
    return load_json(text, what=what)


def _link_digest(token: str) -> bytes:
    """What the next entry links to: the digest of the issuer-signed JWT (for an SD-JWT, the
    part before the first ``~``, which commits to every disclosure), so that choosing which
    claims to disclose leaves the links intact."""
    return credential_digest(token.split("~", 1)[0])


def _payload(token: str) -> dict[str, Any]:
    parts = token.split("~", 1)[0].split(".")
    if len(parts) != 3:
        raise FormatError("a training file entry is a compact vc+jwt")
    try:
        text = b64url_decode(parts[1]).decode("utf-8")
    except UnicodeDecodeError as err:
        raise FormatError("entry payload is not UTF-8") from err
    value = _json(text, "entry payload")
    if not isinstance(value, dict):
        raise FormatError("entry payload must be an object")
    return value


def _cnf_thumbprint(payload: Mapping[str, Any]) -> str | None:
    cnf = payload.get("cnf")
    if not isinstance(cnf, Mapping) or not isinstance(cnf.get("jwk"), Mapping):
        return None
    try:
        return Jwk.from_jwk(cnf["jwk"]).thumbprint_b64()
    except WalletError:
        return None


def entries_digest(file_id: str, entries: tuple[str, ...]) -> bytes:
    """SHA-256 over the file id and the list of entry digests (what the holder signs). An
    entry's digest is its `credential_digest` (SHA-256, or the hash its header names); an
    entry whose header does not parse counts by its SHA-256, as every entry did before SM3,
    and is refused by the verifier's ``format`` check."""
    h = hashlib.sha256(_DIGEST_DOMAIN)
    h.update(file_id.encode("utf-8") + b"\n")
    for token in entries:
        try:
            h.update(credential_digest(token))
        except FormatError:
            h.update(hashlib.sha256(token.encode("ascii")).digest())
    return h.digest()


@dataclass(frozen=True, slots=True)
class TrainingFile:
    """A holder's training file: its id and the entries (``vc+jwt`` or SD-JWT tokens) in order.

    Raises `FormatError` when the id is not a holder's file id or entries are not tokens."""

    file_id: str
    entries: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _holder_thumbprint(self.file_id)
        if not isinstance(self.entries, tuple) or not all(isinstance(e, str) for e in self.entries):
            raise FormatError("entries must be a tuple of tokens")
        if len(self.entries) > _MAX_ENTRIES:
            raise FormatError(f"a training file holds at most {_MAX_ENTRIES} entries")

    @classmethod
    def for_holder(cls, holder_key: Jwk) -> TrainingFile:
        """The (empty) file of the holder of `holder_key`."""
        return cls(training_file_id(holder_key))

    @property
    def head(self) -> bytes:
        """The hash the next entry must link to (`GENESIS` for an empty file)."""
        return _link_digest(self.entries[-1]) if self.entries else GENESIS

    def next_link(self) -> TrainingFileLink:
        """The link the issuer of the next entry signs."""
        return TrainingFileLink(self.file_id, len(self.entries), self.head)

    def append(self, token: str) -> TrainingFile:
        """A new file with `token` appended. Raises `FormatError` when the token does not carry
        the expected link or is not bound to the file's holder key (the holder's wallet
        refuses to store a broken file)."""
        payload = _payload(token)
        link = TrainingFileLink.from_claim(payload.get("trainingFile"))
        if link != self.next_link():
            raise FormatError("entry does not link to the head of this file")
        if _cnf_thumbprint(payload) != _holder_thumbprint(self.file_id):
            raise FormatError("entry is not bound to the holder key of this file")
        return TrainingFile(self.file_id, (*self.entries, token))

    def disclose(self, claims: Collection[str]) -> TrainingFile:
        """The file with each SD-JWT entry carrying only the disclosures of `claims` (e.g.
        hours, dates and course, not the ID number); ``vc+jwt`` entries are shown whole.
        Raises `FormatError` on a malformed disclosure."""
        chosen = set(claims)
        shown = []
        for token in self.entries:
            if "~" not in token:
                shown.append(token)
                continue
            try:
                jwt, located = _locate(token)
            except PresentationError as err:
                raise FormatError(str(err)) from err
            kept = [
                disclosure
                for disclosure, path in located.items()
                if len(path) == 2 and path[0] == "credentialSubject" and path[1] in chosen
            ]
            shown.append("~".join([jwt, *kept]) + "~")
        return TrainingFile(self.file_id, tuple(shown))

    def present(
        self, *, holder_key: Jwk, nonce: str, audience: str, issued_at: int, lifetime: int = 300
    ) -> TrainingFilePresentation:
        """The whole file with a key binding JWT over `nonce`, `audience` and the entries.

        Raises `FormatError` when `holder_key` is not the key the file belongs to, or nonce
        or audience is empty; `SignatureError` when the key cannot sign."""
        if holder_key.thumbprint_b64() != _holder_thumbprint(self.file_id):
            raise FormatError("this is not the holder key of the file")
        if not nonce or not audience:
            raise FormatError("nonce and audience are required")
        payload = {
            "aud": audience,
            "nonce": nonce,
            "iat": issued_at,
            "exp": issued_at + lifetime,
            "file": self.file_id,
            "entries": len(self.entries),
            "entries_hash": b64url_encode(entries_digest(self.file_id, self.entries)),
        }
        binding = sign_compact(
            canonical_json(payload),
            holder_key,
            headers={"typ": FILE_BINDING_TYP},
            include_kid=False,
        )
        return TrainingFilePresentation(self, binding)

    def to_json(self) -> str:
        """The file as JSON (what the holder keeps)."""
        return json.dumps(
            {"format": FILE_FORMAT, "file": self.file_id, "entries": list(self.entries)},
            separators=(",", ":"),
        )

    @classmethod
    def parse(cls, data: str | Mapping[str, Any]) -> TrainingFile:
        """Parse a stored file. Raises `FormatError`."""
        data = _object(data, "training file")
        if data.get("format") != FILE_FORMAT:
            raise FormatError(f"not a {FILE_FORMAT} document")
        return cls._from(data)

    @classmethod
    def _from(cls, data: Mapping[str, Any]) -> TrainingFile:
        entries = data.get("entries")
        if not isinstance(entries, list):
            raise FormatError("entries must be a list")
        file_id = data.get("file")
        if not isinstance(file_id, str):
            raise FormatError("file must be a string")
        return cls(file_id, tuple(entries))


def _object(data: str | Mapping[str, Any], what: str) -> Mapping[str, Any]:
    if isinstance(data, str):
        data = _json(data, what)
    if not isinstance(data, Mapping):
        raise FormatError(f"{what} must be a JSON object")
    return data


@dataclass(frozen=True, slots=True)
class TrainingFilePresentation:
    """A file as its holder presents it: the entries and the key binding JWT."""

    file: TrainingFile
    binding: str

    def __post_init__(self) -> None:
        if not isinstance(self.binding, str) or self.binding.count(".") != 2:
            raise FormatError("binding must be a compact JWS")

    def to_json(self) -> str:
        """The presentation as JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        """The presentation as a JSON-ready object."""
        return {
            "format": PRESENTATION_FORMAT,
            "file": self.file.file_id,
            "entries": list(self.file.entries),
            "binding": self.binding,
        }

    @classmethod
    def parse(cls, data: str | Mapping[str, Any]) -> TrainingFilePresentation:
        """Parse a presented file. Raises `FormatError`."""
        data = _object(data, "training file presentation")
        if data.get("format") != PRESENTATION_FORMAT:
            raise FormatError(f"not a {PRESENTATION_FORMAT} document")
        binding = data.get("binding")
        if not isinstance(binding, str):
            raise FormatError("binding must be a string")
        return cls(TrainingFile._from(data), binding)


# ------------------------------------------------------------------------------- dates


@dataclass(frozen=True, slots=True)
class TrainingPeriod:
    """The first and last day of a course (both included)."""

    start: date
    end: date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


def _calendar_date(value: object, name: str) -> date:
    if not isinstance(value, str) or not _DATE.fullmatch(value):
        raise FormatError(f"{name} must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError as err:
        raise FormatError(f"{name} {value} is not a calendar date") from err


def training_period(subject: Mapping[str, Any], *, issued_at: int) -> TrainingPeriod:
    """The course dates of a training record subject, checked: calendar dates, the end not
    before the start, and not after the issue day (China Standard Time).

    Raises `FormatError` naming the claim that is wrong."""
    start = _calendar_date(subject.get("startDate"), "startDate")
    end = _calendar_date(subject.get("endDate"), "endDate")
    if end < start:
        raise FormatError(f"endDate {end} is before startDate {start}")
    issue_day = datetime.fromtimestamp(issued_at, UTC).astimezone(_CHINA).date()
    if end > issue_day:
        raise FormatError(f"endDate {end} is after the issue date {issue_day}")
    return TrainingPeriod(start, end)


def _period_key(day: date, period: Period) -> str:
    if period == "year":
        return f"{day.year}"
    if period == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}-{day.month:02d}"


def _next_period_start(day: date, period: Period) -> date:
    if period == "year":
        return date(day.year + 1, 1, 1)
    step = 3 if period == "quarter" else 1
    month = ((day.month - 1) // step) * step + step  # 0-based month after this period
    return date(day.year + month // 12, month % 12 + 1, 1)


def split_hours(hours: int, span: TrainingPeriod, period: Period) -> dict[str, int]:
    """`hours` split over the periods the course spans, pro rata by days; whole hours, the
    remainder going to the periods with the largest fractions (earlier first on a tie), so
    the parts add up to `hours`."""
    days: dict[str, int] = {}
    day = span.start
    while day <= span.end:
        following = min(_next_period_start(day, period), span.end + timedelta(days=1))
        days[_period_key(day, period)] = (following - day).days
        day = following
    total = span.days
    shares = {key: hours * n // total for key, n in days.items()}
    remainder = hours - sum(shares.values())
    by_fraction = sorted(days, key=lambda key: -((hours * days[key]) % total))
    for key in by_fraction[:remainder]:
        shares[key] += 1
    return {key: value for key, value in shares.items() if value}


# ------------------------------------------------------------------------------- reports


class FileVerdict(StrEnum):
    """What a verifier may conclude from a training file."""

    VERIFIED = "verified"
    VERIFIED_WITH_EXCLUDED_ENTRIES = "verified_with_excluded_entries"
    FAILED = "failed"


class EntryOutcome(StrEnum):
    """Whether an entry counts and, when not, why."""

    COUNTED = "counted"
    FORGED = "forged"  # does not parse, or its signature or key does not check out
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    ISSUER_NOT_ACCREDITED = "issuer_not_accredited"
    INVALID_DATES = "invalid_dates"
    FOREIGN = "foreign"  # bound to another holder key, or naming another person
    NOT_VERIFIED = "not_verified"  # any other failed check (validity period, anchoring)


_OUTCOME_BY_CHECK = {
    "format": EntryOutcome.FORGED,
    "algorithm_allowlist": EntryOutcome.FORGED,
    "registration": EntryOutcome.FORGED,  # not the token its issuer registered under that id
    "key_valid": EntryOutcome.FORGED,
    "signature": EntryOutcome.FORGED,
    "issuer_accredited": EntryOutcome.ISSUER_NOT_ACCREDITED,
}


@dataclass(frozen=True, slots=True)
class TrainingEntryReport:
    """One entry: its credential report, whether it counts and why not, and its hours."""

    index: int
    outcome: EntryOutcome
    reason: str
    credential: CredentialReport
    issuer_id: bytes | None = None
    issued_at: int | None = None
    hours: int = 0
    hours_by_period: Mapping[str, int] = field(default_factory=dict)

    @property
    def counted(self) -> bool:
        return self.outcome is EntryOutcome.COUNTED


@dataclass(frozen=True, slots=True)
class TrainingFileReport(CheckReport):
    """Result of a training file verification: the file checks (`FILE_CHECKS` order), one
    report per entry, and totals over counted entries (zero when the file failed)."""

    checks: tuple[CheckResult, ...]
    entries: tuple[TrainingEntryReport, ...]
    verified_hours: int
    hours_by_period: Mapping[str, int] = field(default_factory=dict)
    as_of: int = 0

    @property
    def verdict(self) -> FileVerdict:
        if not self.checks or any(c.status is CheckStatus.FAILED for c in self.checks):
            return FileVerdict.FAILED
        if self.excluded:
            return FileVerdict.VERIFIED_WITH_EXCLUDED_ENTRIES
        return FileVerdict.VERIFIED

    @property
    def passed(self) -> bool:
        """True only for the verdict ``verified`` (every entry counts)."""
        return self.verdict is FileVerdict.VERIFIED

    def check_detail(self, name: str) -> str:
        """The detail of file check `name`. Raises `KeyError` when it was not run."""
        return self.check(name).detail

    @property
    def excluded(self) -> tuple[int, ...]:
        """Indices of the entries that do not count."""
        return tuple(e.index for e in self.entries if not e.counted)

    def to_dict(
        self, *, describe_issuer: Callable[[bytes], Mapping[str, Any]] | None = None
    ) -> dict[str, Any]:
        """A JSON-ready report; times in RFC 3339 (UTC). `describe_issuer` adds what a
        registry says about each issuer (name, province, accreditation path)."""
        return {
            "verdict": self.verdict.value,
            "verified": self.verdict is not FileVerdict.FAILED,
            "as_of": rfc3339(self.as_of),
            "checks": [
                {"check": c.name, "status": c.status.value, "detail": c.detail} for c in self.checks
            ],
            "verified_hours": self.verified_hours,
            "hours_by_period": dict(self.hours_by_period),
            "excluded": list(self.excluded),
            "entries": [
                {
                    "index": e.index,
                    "outcome": e.outcome.value,
                    "reason": e.reason,
                    "issuer": None
                    if e.issuer_id is None
                    else {
                        "id": "0x" + e.issuer_id.hex(),
                        **(describe_issuer(e.issuer_id) if describe_issuer else {}),
                    },
                    "issued_at": None if e.issued_at is None else rfc3339(e.issued_at),
                    "hours": e.hours,
                    "hours_by_period": dict(e.hours_by_period),
                    "checks": [
                        {"check": c.name, "status": c.status.value, "detail": c.detail}
                        for c in e.credential.checks
                    ],
                }
                for e in self.entries
            ],
        }


# ------------------------------------------------------------------------------- verification


@dataclass
class _FileState:
    """What the file checks read and leave for the ones after them."""

    presentation: TrainingFilePresentation
    nonce: str
    audience: str
    now: int
    verifier: CredentialVerifier
    heads: FileHeadView | None = None
    as_of: int = 0
    payloads: list[dict[str, Any]] = field(default_factory=list)
    links: list[TrainingFileLink] = field(default_factory=list)
    foreign: dict[int, str] = field(default_factory=dict)
    altered: set[int] = field(default_factory=set)


def _check_format(state: _FileState) -> str:
    training_file = state.presentation.file
    if not training_file.entries:
        raise CheckFailed("the file has no entries")
    for index, token in enumerate(training_file.entries):
        try:
            payload = _payload(token)
            types = payload.get("type")
            if not isinstance(types, list) or TRAINING_RECORD not in types:
                raise FormatError(f"not a {TRAINING_RECORD}")
            link = TrainingFileLink.from_claim(payload.get("trainingFile"))
        except FormatError as err:
            raise CheckFailed(f"entry {index}: {err}") from err
        if link.file_id != training_file.file_id:
            raise CheckFailed(f"entry {index} belongs to another file")
        state.payloads.append(payload)
        state.links.append(link)
    return f"{len(state.links)} entries"


def _check_holder_binding(state: _FileState) -> str:
    training_file = state.presentation.file
    thumbprint = _holder_thumbprint(training_file.file_id)
    holder_key = next(
        (Jwk.from_jwk(p["cnf"]["jwk"]) for p in state.payloads if _cnf_thumbprint(p) == thumbprint),
        None,
    )
    if holder_key is None:
        raise CheckFailed("no entry carries the holder key the file belongs to")
    policy = state.verifier.policy
    try:
        verified = verify_compact(
            state.presentation.binding,
            holder_key,
            algorithms=policy.algorithms,
            typ=FILE_BINDING_TYP,
            max_size=policy.max_token_bytes,
        )
        claims = verified.payload_json()
    except (VerificationError, FormatError) as err:
        raise CheckFailed(f"the binding is not signed by the file's holder key: {err}") from err
    nonce, audience = claims.get("nonce"), claims.get("aud")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), state.nonce.encode()):
        raise CheckFailed("nonce does not match the verifier's nonce")
    if audience != state.audience:
        raise CheckFailed(f"audience {audience!r} is not {state.audience!r}")
    iat, exp = claims.get("iat"), claims.get("exp")
    if type(iat) is not int or type(exp) is not int:
        raise CheckFailed("iat and exp must be integers")
    if iat > state.now + policy.clock_skew:
        raise CheckFailed("presentation issued in the future")
    if iat < state.now - policy.max_presentation_age or exp <= state.now - policy.clock_skew:
        raise CheckFailed("presentation is too old")
    expected = b64url_encode(entries_digest(training_file.file_id, training_file.entries))
    if claims.get("file") != training_file.file_id or not hmac.compare_digest(
        str(claims.get("entries_hash")), expected
    ):
        raise CheckFailed(
            "the holder signed another list of entries (entries added, removed or changed)"
        )
    return "the file's holder presented exactly these entries, nonce and audience match"


def _check_one_person(state: _FileState) -> str:
    thumbprint = _holder_thumbprint(state.presentation.file.file_id)
    reference: dict[str, Any] = {}
    for index, payload in enumerate(state.payloads):
        if _cnf_thumbprint(payload) != thumbprint:
            state.foreign[index] = "bound to another holder's key"
            continue
        subject = payload.get("credentialSubject")
        subject = subject if isinstance(subject, Mapping) else {}
        differing = [
            name
            for name in _IDENTITY_CLAIMS
            if name in subject and name in reference and subject[name] != reference[name]
        ]
        if differing:
            # The values are personal data: the report names the claims, not what they say.
            state.foreign[index] = f"names another person ({', '.join(differing)} differ)"
            continue
        for name in _IDENTITY_CLAIMS:
            if name in subject:
                reference.setdefault(name, subject[name])
    if state.foreign:
        named = "; ".join(f"entry {i} {why}" for i, why in sorted(state.foreign.items()))
        raise CheckFailed(f"entries of someone else: {named}")
    return "every entry is bound to the holder's key and names one person"


def _check_entry_links(state: _FileState) -> str:
    entries = state.presentation.file.entries
    sequences = [link.sequence for link in state.links]
    expected = list(range(len(state.links)))
    if sequences != expected:
        if sorted(sequences) == expected:
            raise CheckFailed(f"sequence numbers {sequences} are out of order: entries reordered")
        if len(set(sequences)) != len(sequences):
            raise CheckFailed(f"sequence numbers {sequences} repeat: an entry was duplicated")
        missing = sorted(set(range(max(sequences) + 1)) - set(sequences))
        raise CheckFailed(f"sequence numbers {missing} are missing: an entry was removed")
    previous = GENESIS
    broken: list[int] = []
    for index, (token, link) in enumerate(zip(entries, state.links, strict=True)):
        if not hmac.compare_digest(link.previous, previous):
            broken.append(index - 1)
        previous = _link_digest(token)
    if broken:
        state.altered.update(i for i in broken if i >= 0)
        named = ", ".join(
            f"entry {i} is not the one entry {i + 1}'s issuer linked to" for i in broken
        )
        raise CheckFailed(f"{named}: altered or replaced")
    return f"sequence 0..{len(state.links) - 1} linked"


def _check_file_head(state: _FileState) -> str:
    if state.heads is None:
        raise CheckNotApplicable("not run: no chain view of file heads was given")
    keys = {payload.get(FILE_HEAD_CLAIM) for payload in state.payloads}
    if len(keys) != 1:
        raise CheckFailed(f"the entries name {len(keys)} different file head keys, not one")
    (key,) = keys
    if not isinstance(key, str) or not re.fullmatch(r"0x[0-9a-f]{64}", key):
        raise CheckFailed(f"entries carry no file head key ({FILE_HEAD_CLAIM})")
    try:
        length, digest = state.heads.file_head_at(bytes.fromhex(key[2:]), state.as_of)
    except TrustStateError as err:
        raise CheckFailed(f"the file head cannot be read from the chain: {err}") from err
    shown = len(state.presentation.file.entries)
    if length == 0:
        raise CheckFailed("the chain has no head for this file as of the verification time")
    last = _link_digest(state.presentation.file.entries[-1])
    if length > shown:
        lost = (
            "entries missing before the last" if last == digest else "entries dropped from the end"
        )
        raise CheckFailed(
            f"the file shows {shown} entries but its head on chain is entry {length - 1}: {lost}"
        )
    if length < shown:
        raise CheckFailed(
            f"the file shows {shown} entries but the chain has {length} as of the "
            "verification time: entries the file head never took (a fork)"
        )
    if not hmac.compare_digest(digest, last):
        raise CheckFailed(
            f"entry {shown - 1} is not the head on chain: a branch the file never took (a fork)"
        )
    return f"the head on chain is entry {length - 1}, the presented last entry"


_FILE_CHECK_FUNCTIONS: tuple[tuple[str, Callable[[_FileState], str]], ...] = (
    ("format", _check_format),
    ("holder_binding", _check_holder_binding),
    ("one_person", _check_one_person),
    ("entry_links", _check_entry_links),
    ("file_head", _check_file_head),
)


def _entry_report(
    index: int,
    token: str,
    state: _FileState,
    *,
    as_of: int,
    period: Period,
) -> TrainingEntryReport:
    report = state.verifier.verify_credential(token, as_of=as_of, strict=False)
    credential = report.credential
    payload = state.payloads[index] if index < len(state.payloads) else {}
    issuer_id, issued_at = _claimed_issuer(payload)
    if credential is not None:
        issuer_id, issued_at = credential.issuer_id, credential.issued_at

    def excluded(outcome: EntryOutcome, reason: str) -> TrainingEntryReport:
        return TrainingEntryReport(index, outcome, reason, report, issuer_id, issued_at)

    if index in state.foreign:
        return excluded(EntryOutcome.FOREIGN, state.foreign[index])
    failure = report.first_failure
    if failure is not None or credential is None:
        name = failure.name if failure is not None else "format"
        detail = failure.detail if failure is not None else "nothing was verified"
        outcome = _OUTCOME_BY_CHECK.get(name, EntryOutcome.NOT_VERIFIED)
        if name == "status":
            outcome = (
                EntryOutcome.SUSPENDED
                if "suspended" in detail
                else EntryOutcome.REVOKED
                if "revoked" in detail
                else EntryOutcome.NOT_VERIFIED
            )
        return excluded(outcome, f"{name}: {detail}")
    if index in state.altered:
        return excluded(EntryOutcome.FORGED, "the next entry's issuer linked another entry here")
    undisclosed = [name for name in _COUNTED_CLAIMS if name not in credential.subject]
    if undisclosed:
        return excluded(
            EntryOutcome.NOT_VERIFIED, f"not disclosed, so not counted: {', '.join(undisclosed)}"
        )
    try:
        span = training_period(credential.subject, issued_at=credential.issued_at)
    except FormatError as err:
        return excluded(EntryOutcome.INVALID_DATES, str(err))
    hours = int(credential.subject["hours"])
    return TrainingEntryReport(
        index,
        EntryOutcome.COUNTED,
        "verified",
        report,
        issuer_id,
        issued_at,
        hours,
        split_hours(hours, span, period),
    )


def _claimed_issuer(payload: Mapping[str, Any]) -> tuple[bytes | None, int | None]:
    """What an entry that did not verify claims about its issuer (reported as a claim)."""
    issuer, iat = payload.get("issuer"), payload.get("iat")
    issuer_id = None
    if isinstance(issuer, str) and re.fullmatch(r"urn:hrss:entity:0x[0-9a-f]{64}", issuer):
        issuer_id = bytes.fromhex(issuer[-64:])
    return issuer_id, iat if type(iat) is int and iat >= 0 else None


def verify_training_file(
    presentation: TrainingFilePresentation,
    verifier: CredentialVerifier,
    *,
    nonce: str,
    audience: str,
    as_of: int | None = None,
    period: Period = "year",
    strict: bool = True,
    heads: FileHeadView | None = None,
) -> TrainingFileReport:
    """Run the file checks (see the module docstring), verify every entry, and total the hours
    of counted entries by `period`, split pro rata by days. `heads` reads file heads on chain
    for the ``file_head`` check, as of `as_of`.

    Entries are verified whatever the file checks say, so the report names every forged,
    revoked or foreign entry. Raises `CredentialVerificationError` naming the first failed
    file check when `strict` (the verdict is then ``failed``); an excluded entry alone does
    not raise."""
    now = verifier.now()
    as_of = now if as_of is None else as_of
    state = _FileState(presentation, nonce, audience, now, verifier, heads, as_of)
    runner = CheckRunner()
    for name, check in _FILE_CHECK_FUNCTIONS:
        runner.run(name, partial(check, state), after=("format",))
    entries: tuple[TrainingEntryReport, ...] = ()
    if "format" not in runner.failed:
        entries = tuple(
            _entry_report(index, token, state, as_of=as_of, period=period)
            for index, token in enumerate(presentation.file.entries)
        )
    total, by_period = 0, dict[str, int]()
    if not runner.failed:
        for entry in entries:
            total += entry.hours
            for key, hours in entry.hours_by_period.items():
                by_period[key] = by_period.get(key, 0) + hours
    report = TrainingFileReport(
        tuple(runner.results), entries, total, dict(sorted(by_period.items())), as_of
    )
    failure = report.first_failure
    if strict and failure is not None:
        raise CredentialVerificationError(failure.name, failure.detail, report)  # type: ignore[arg-type]  # the training file's report stands in for the credential report
    return report
