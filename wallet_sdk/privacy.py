"""A privacy check any cardholder or auditor can run against the chain itself.

The project's rule is that no personal data goes on chain, ever: names, ID numbers and phone
numbers reach the chain only as salted or keyed commitments. `scan_chain_for` checks that
rule from the outside, with read access to any node and nothing else: it reads every
transaction input, every log topic and every log's data in a block range, and looks for the
given values in every encoding a careless system might have used::

    from node_adapter import Chain
    from wallet_sdk.privacy import PersonalValue, scan_chain_for

    report = scan_chain_for(
        [PersonalValue.person_name("张三丰"), PersonalValue.phone("138 0013 8000")],
        Chain.from_urls(["https://node.example:8545"]),
    )
    assert report.clean, report.describe()

What is searched, for each value (see `PersonalValue`): its spellings (as given, NFC, NFD,
NFKC, upper and lower case, full-width ASCII; an ID number's check character as X and x; a
phone number with and without +86 / 86 / 0086, and grouped with spaces or dashes), each in
UTF-8, UTF-16, UTF-32, GB18030, Big5, JSON ``\\uXXXX`` escapes and URL percent-encoding, and
digit strings as big-endian integers (a phone number in a ``uint256``). Each of those byte
strings is searched raw and through keccak256, SHA-256, SHA3-256, SHA-512, SHA-1, MD5 and SM3
(when the platform's OpenSSL has it), and every one of those again as lower- and upper-case hex
and as standard and URL-safe base64 at any alignment (so a value inside a longer base64 text is
found too). Matches are found anywhere in a blob: in an ABI word, packed, or inside a string.

What it proves, and what it cannot: the scan proves the *absence of plain and unsalted-hashed
forms*, which is exactly how careless systems leak (a keccak of a phone number as an id is
reversed by enumerating the 10^10 phone numbers). A salted or keyed commitment (HMAC-SHA256
with a per-record salt, as this project uses) cannot be detected without the key: that is the
point of it, so a clean report says nothing about such commitments. Contract storage is not
read: what is in storage came in through a transaction input, which is scanned.

The values never leave this module in clear: reports carry the label and a masked form
(``张*``, ``1101**********1234``, ``138****8000``); `PersonalValue` hides its value from
`repr`.

This module reads the chain through the small `ChainReader` protocol, which
`node_adapter.Chain` implements; it does not import the chain stack itself.
"""

from __future__ import annotations

import base64
import bisect
import enum
import hashlib
import json
import re
import sys
import unicodedata
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal, Protocol, TypeVar

from eth_utils.crypto import keccak

from wallet_sdk.errors import ChainReadError, FormatError

__all__ = [
    "DIGESTS",
    "TEXT_ENCODINGS",
    "ChainReadError",
    "ChainReader",
    "LogRecord",
    "PersonalValue",
    "PrivacyHit",
    "PrivacyScanReport",
    "ScannedValue",
    "TransactionRecord",
    "ValueKind",
    "mask",
    "scan_chain_for",
]

# Shorter needles would match arbitrary chain data by chance (a 3-byte string turns up every
# 16 MB of random bytes); the shortest encodings of real values are longer than this.
_MIN_NEEDLE = 4
_DEFAULT_WINDOW = 256

T = TypeVar("T")


class ValueKind(enum.Enum):
    """What a searched value is; it decides which spellings are tried and how it is masked."""

    NAME = "name"
    ID_NUMBER = "id_number"
    PHONE = "phone"
    TEXT = "text"
    BYTES = "bytes"


_ID_NUMBER = re.compile(r"\d{17}[\dXx]|\d{15}")
_PHONE_CHARS = re.compile(r"[\d\s\-+()]+")
_LABEL = re.compile(r"[A-Za-z0-9_.:\-]{1,64}")


@dataclass(frozen=True)
class PersonalValue:
    """A value to look for on chain, with a `label` that stands for it in reports.

    Build one with `person_name`, `id_number`, `phone`, `text` or `binary`; they validate
    their input and raise `FormatError` on an empty value, a malformed ID number (15 digits, or
    17 digits and a check digit or X) or phone number (5 to 15 digits after dropping spaces,
    dashes, brackets and a +86 / 0086 prefix), or a label outside ``[A-Za-z0-9_.:-]{1,64}``.
    The value itself is kept out of `repr` and `str`.
    """

    label: str
    kind: ValueKind
    value: str | bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not _LABEL.fullmatch(self.label):
            raise FormatError(f"bad label {self.label!r}: use 1-64 of [A-Za-z0-9_.:-]")
        if self.kind is ValueKind.BYTES:
            if not isinstance(self.value, bytes) or len(self.value) < _MIN_NEEDLE:
                raise FormatError(f"{self.label}: binary values need at least {_MIN_NEEDLE} bytes")
            return
        if not isinstance(self.value, str) or not self.value.strip():
            raise FormatError(f"{self.label}: empty value")
        if self.kind is ValueKind.ID_NUMBER:
            if not _ID_NUMBER.fullmatch(_nfkc(self.value).strip()):
                raise FormatError(
                    f"{self.label}: not an ID number (15 digits, or 17 digits and a digit or X)"
                )
        elif self.kind is ValueKind.PHONE:
            if not _PHONE_CHARS.fullmatch(_nfkc(self.value).strip()):
                raise FormatError(f"{self.label}: a phone number holds digits, spaces, - + ( )")
            digits = _national_number(self.value)
            if not 5 <= len(digits) <= 15:
                raise FormatError(f"{self.label}: a phone number has 5 to 15 digits")

    @classmethod
    def person_name(cls, value: str, *, label: str = "name") -> PersonalValue:
        """A person's name (any script)."""
        return cls(label, ValueKind.NAME, value)

    @classmethod
    def id_number(cls, value: str, *, label: str = "id_number") -> PersonalValue:
        """A resident identity card number (公民身份号码), 18 or 15 characters."""
        return cls(label, ValueKind.ID_NUMBER, value)

    @classmethod
    def phone(cls, value: str, *, label: str = "phone") -> PersonalValue:
        """A phone number, with or without +86 and separators."""
        return cls(label, ValueKind.PHONE, value)

    @classmethod
    def text(cls, label: str, value: str) -> PersonalValue:
        """Any other text (an address, an employer's name): spelled and encoded like a name."""
        return cls(label, ValueKind.TEXT, value)

    @classmethod
    def binary(cls, label: str, value: bytes) -> PersonalValue:
        """Raw bytes (a document digest, a consent id): searched raw, as hex and as base64, not
        hashed. Useful as a positive control: a value known to be on chain must be found."""
        return cls(label, ValueKind.BYTES, bytes(value))

    @property
    def masked(self) -> str:
        """The value masked for display (see `mask`)."""
        return mask(self)

    def __str__(self) -> str:
        return f"{self.label} {self.masked}"


def mask(value: PersonalValue) -> str:
    """The value as it may be shown: a name keeps its first character (``张*``), an ID number
    its first and last four (``1101**********1234``), a phone number its first three and last
    four digits (``138****8000``), other text its first and last characters when long enough,
    binary values their first two bytes and length."""
    raw = value.value
    if isinstance(raw, bytes):
        return f"0x{raw[:2].hex()}…({len(raw)} bytes)"
    text = _nfkc(raw).strip()
    if value.kind is ValueKind.NAME:
        return text[0] + "*"
    if value.kind is ValueKind.ID_NUMBER:
        return text[:4] + "*" * (len(text) - 8) + text[-4:]
    if value.kind is ValueKind.PHONE:
        digits = _national_number(raw)
        if len(digits) >= 8:
            return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
        return digits[:1] + "*" * (len(digits) - 1)
    if len(text) >= 8:
        return text[:2] + "*" * (len(text) - 4) + text[-2:]
    return text[0] + "*" * (len(text) - 1)


# -- encodings --------------------------------------------------------------------------


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _national_number(phone: str) -> str:
    digits = "".join(ch for ch in _nfkc(phone) if ch.isdigit())
    stripped = _nfkc(phone).strip()
    if stripped.startswith("+86") or (digits.startswith("0086") and len(digits) > 13):
        digits = digits[4:] if digits.startswith("0086") else digits[2:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def _full_width(text: str) -> str:
    return "".join(
        chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ("\u3000" if ch == " " else ch)
        for ch in text
    )


def _json_escaped(text: str) -> bytes:
    return json.dumps(text, ensure_ascii=True)[1:-1].encode("ascii")


def _json_escaped_upper(text: str) -> bytes:
    return re.sub(
        rb"\\u[0-9a-f]{4}",
        lambda m: m.group(0).upper().replace(b"\\U", b"\\u"),
        _json_escaped(text),
    )


def _percent(text: str) -> bytes:
    return urllib.parse.quote(text, safe="").encode("ascii")


def _percent_lower(text: str) -> bytes:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), _percent(text).decode()).encode()


#: Text encodings tried for every spelling: name → encoder (raises on unencodable text).
TEXT_ENCODINGS: Mapping[str, Callable[[str], bytes]] = {
    "utf-8": lambda t: t.encode("utf-8"),
    "utf-16-le": lambda t: t.encode("utf-16-le"),
    "utf-16-be": lambda t: t.encode("utf-16-be"),
    "utf-32-le": lambda t: t.encode("utf-32-le"),
    "utf-32-be": lambda t: t.encode("utf-32-be"),
    "gb18030": lambda t: t.encode("gb18030"),
    "big5": lambda t: t.encode("big5"),
    "json-escape": _json_escaped,
    "json-escape-upper": _json_escaped_upper,
    "percent": _percent,
    "percent-lower": _percent_lower,
}


def _sm3(data: bytes) -> bytes:
    return hashlib.new("sm3", data).digest()


_ALL_DIGESTS: dict[str, Callable[[bytes], bytes]] = {
    "keccak256": keccak,
    "sha256": lambda d: hashlib.sha256(d).digest(),
    "sha3-256": lambda d: hashlib.sha3_256(d).digest(),
    "sha512": lambda d: hashlib.sha512(d).digest(),
    # Weak hashes are looked for, not used.
    "sha1": lambda d: hashlib.sha1(d, usedforsecurity=False).digest(),
    "md5": lambda d: hashlib.md5(d, usedforsecurity=False).digest(),
    "sm3": _sm3,
}
#: Unsalted digests tried on every encoded form: name → function. SM3 only when this
#: platform's OpenSSL provides it.
DIGESTS: Mapping[str, Callable[[bytes], bytes]] = {
    name: fn
    for name, fn in _ALL_DIGESTS.items()
    if name != "sm3" or "sm3" in hashlib.algorithms_available
}


def _spellings(value: PersonalValue) -> list[tuple[str, str]]:
    """(variant name, text) for every spelling of a text value, the given one first."""
    assert isinstance(value.value, str)
    given = value.value
    base: list[tuple[str, str]] = [("as given", given)]
    if value.kind is ValueKind.ID_NUMBER:
        number = _nfkc(given).strip()
        base += [("check X", number.upper()), ("check x", number.lower())]
    elif value.kind is ValueKind.PHONE:
        national = _national_number(given)
        groups = [("", national)]
        if len(national) == 11:
            parts = (national[:3], national[3:7], national[7:])
            groups += [(" spaced", " ".join(parts)), (" dashed", "-".join(parts))]
        prefixes = [
            ("national", ""),
            ("86", "86"),
            ("+86", "+86"),
            ("0086", "0086"),
            ("+86 space", "+86 "),
            ("+86 dash", "+86-"),
            ("(+86)", "(+86)"),
        ]
        for prefix_name, prefix in prefixes:
            for group_name, digits in groups:
                base.append((prefix_name + group_name, prefix + digits))
    spellings: dict[str, str] = {}
    for name, text in base:
        for form_name, form in (
            ("", text),
            (", stripped", text.strip()),
            (", NFC", unicodedata.normalize("NFC", text)),
            (", NFD", unicodedata.normalize("NFD", text)),
            (", NFKC", _nfkc(text)),
            (", upper", text.upper()),
            (", lower", text.lower()),
            (", title", text.title()),
            (", full-width", _full_width(_nfkc(text))),
        ):
            if form and form not in spellings:
                spellings[form] = name + form_name
    return [(variant, text) for text, variant in spellings.items()]


@dataclass(frozen=True)
class _Origin:
    value: PersonalValue
    variant: str
    encoding: str


def _base64_slices(data: bytes) -> Iterator[tuple[str, bytes]]:
    """Base64 of `data` at the three alignments it can have inside a longer base64 text: the
    characters that depend on `data` alone, in the standard and URL-safe alphabets."""
    for shift in range(3):
        encoded = base64.b64encode(bytes(shift) + data).rstrip(b"=")
        first = -(-8 * shift // 6)
        last = 8 * (shift + len(data)) // 6
        piece = encoded[first:last]
        yield "base64", piece
        yield "base64url", piece.replace(b"+", b"-").replace(b"/", b"_")


def _forms(value: PersonalValue) -> Iterator[tuple[str, str, bytes]]:
    """(variant, encoding name, bytes) for every form of `value` searched for."""
    if isinstance(value.value, bytes):
        items: list[tuple[str, str, bytes]] = [("as given", "raw", value.value)]
    else:
        items = []
        for variant, text in _spellings(value):
            for codec, encode in TEXT_ENCODINGS.items():
                try:
                    encoded = encode(text)
                except UnicodeError:
                    continue
                items.append((variant, codec, encoded))
                for digest, fn in DIGESTS.items():
                    items.append((variant, f"{digest}({codec})", fn(encoded)))
            if text.isascii() and text.isdigit() and not text.startswith("0"):
                number = int(text)
                items.append((variant, "integer", number.to_bytes((number.bit_length() + 7) // 8)))
    for variant, name, data in items:
        yield variant, name, data
        yield variant, f"hex({name})", data.hex().encode()
        yield variant, f"HEX({name})", data.hex().upper().encode()
        for alphabet, piece in _base64_slices(data):
            yield variant, f"{alphabet}({name})", piece


class _NeedleIndex:
    """Every form of every value, keyed by its first four bytes read as a native integer.

    A blob is searched in C, not byte by byte in Python: its 4-byte windows at every offset
    are read as integers through four shifted `memoryview` casts and intersected with the
    keys; only the few windows that start some needle are then located and compared. This
    keeps the cost per byte flat however many thousand forms are searched.
    """

    def __init__(self, values: Sequence[PersonalValue]) -> None:
        self._by_key: dict[int, list[tuple[bytes, _Origin]]] = {}
        self.counts: dict[str, int] = {}
        seen: set[bytes] = set()
        for value in values:
            count = 0
            for variant, encoding, needle in _forms(value):
                if len(needle) < _MIN_NEEDLE or needle in seen:
                    continue
                seen.add(needle)
                count += 1
                key = int.from_bytes(needle[:_MIN_NEEDLE], sys.byteorder)
                self._by_key.setdefault(key, []).append((needle, _Origin(value, variant, encoding)))
            self.counts[value.label] = self.counts.get(value.label, 0) + count
        self._keys = frozenset(self._by_key)

    def find(self, blob: bytes) -> Iterator[tuple[int, bytes, _Origin]]:
        """(offset, needle, origin) of every needle found in `blob`."""
        size = len(blob)
        view = memoryview(blob)
        present: set[int] = set()
        for shift in range(_MIN_NEEDLE):
            usable = (size - shift) // _MIN_NEEDLE * _MIN_NEEDLE
            if usable > 0:
                present.update(self._keys.intersection(view[shift : shift + usable].cast("I")))
        for key in present:
            prefix = key.to_bytes(_MIN_NEEDLE, sys.byteorder)
            offset = blob.find(prefix)
            while offset != -1:
                for needle, origin in self._by_key[key]:
                    if blob.startswith(needle, offset):
                        yield offset, needle, origin
                offset = blob.find(prefix, offset + 1)


# -- the chain, as the scan reads it ----------------------------------------------------


class TransactionRecord(Protocol):
    """A mined transaction, as `node_adapter.ChainTransaction` has it."""

    @property
    def hash(self) -> str: ...
    @property
    def block_number(self) -> int: ...
    @property
    def to(self) -> str | None: ...
    @property
    def input(self) -> bytes: ...


class LogRecord(Protocol):
    """A log, as `node_adapter.RawLog` has it."""

    @property
    def address(self) -> str: ...
    @property
    def topics(self) -> tuple[bytes, ...]: ...
    @property
    def data(self) -> bytes: ...
    @property
    def block_number(self) -> int: ...
    @property
    def tx_hash(self) -> str: ...
    @property
    def log_index(self) -> int: ...


class ChainReader(Protocol):
    """What the scan needs from a chain; `node_adapter.Chain` provides it."""

    def block_number(self) -> int: ...

    def block_transactions(self, number: int) -> Sequence[TransactionRecord]: ...

    def get_logs(
        self, *, address: str | Sequence[str] | None, from_block: int, to_block: int
    ) -> Sequence[LogRecord]: ...


# -- the report -------------------------------------------------------------------------

Where = Literal["input", "topic", "data"]


@dataclass(frozen=True)
class PrivacyHit:
    """One value found on chain: which (`label`, `masked`), in which spelling (`variant`) and
    encoding (e.g. ``keccak256(utf-8)``, ``hex(sha256(gb18030))``), and where: a transaction's
    `input`, a log's `topic` (`topic_index`) or a log's `data`, at byte `offset`."""

    label: str
    masked: str
    variant: str
    encoding: str
    block_number: int
    tx_hash: str
    where: Where
    offset: int
    log_index: int | None = None
    topic_index: int | None = None
    address: str | None = None

    def describe(self) -> str:
        """One line for people: no value in clear."""
        place = {
            "input": "transaction input",
            "topic": f"log {self.log_index} topic {self.topic_index}",
            "data": f"log {self.log_index} data",
        }[self.where]
        return (
            f"{self.label} ({self.masked}) as {self.encoding} [{self.variant}] in block "
            f"{self.block_number}, tx {self.tx_hash}, {place} at byte {self.offset}"
        )

    def to_json(self) -> dict[str, Any]:
        """The hit as a JSON object (no value in clear)."""
        return {
            "label": self.label,
            "masked": self.masked,
            "variant": self.variant,
            "encoding": self.encoding,
            "block_number": self.block_number,
            "tx_hash": self.tx_hash,
            "where": self.where,
            "offset": self.offset,
            "log_index": self.log_index,
            "topic_index": self.topic_index,
            "address": self.address,
        }


@dataclass(frozen=True)
class ScannedValue:
    """A value searched for, as the report shows it: label, kind, masked form, and how many
    distinct byte strings (spellings × encodings × digests) were searched."""

    label: str
    kind: ValueKind
    masked: str
    forms: int


@dataclass(frozen=True)
class PrivacyScanReport:
    """What was scanned (blocks `from_block`..`to_block`, counts) and every hit, in chain
    order. `clean` is true when nothing was found."""

    from_block: int
    to_block: int
    addresses: tuple[str, ...] | None
    values: tuple[ScannedValue, ...]
    blocks: int
    transactions: int
    logs: int
    bytes_scanned: int
    hits: tuple[PrivacyHit, ...]

    @property
    def clean(self) -> bool:
        """True when none of the values was found."""
        return not self.hits

    def hits_for(self, label: str) -> tuple[PrivacyHit, ...]:
        """The hits of the value labelled `label`."""
        return tuple(hit for hit in self.hits if hit.label == label)

    def describe(self) -> str:
        """A human-readable report: what was scanned, then one line per hit."""
        scope = "all contracts" if self.addresses is None else ", ".join(self.addresses)
        lines = [
            f"scanned blocks {self.from_block}..{self.to_block} ({scope}): "
            f"{self.transactions} transactions, {self.logs} logs, {self.bytes_scanned} bytes",
            "looked for: "
            + ", ".join(f"{v.label} {v.masked} ({v.forms} forms)" for v in self.values),
        ]
        if self.clean:
            lines.append("none found: no plain or unsalted-hashed form is on chain")
        else:
            lines.append(f"FOUND {len(self.hits)} occurrence(s):")
            lines.extend(f"  {hit.describe()}" for hit in self.hits)
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        """The report as a JSON object (no value in clear)."""
        return {
            "clean": self.clean,
            "from_block": self.from_block,
            "to_block": self.to_block,
            "addresses": list(self.addresses) if self.addresses is not None else None,
            "values": [
                {"label": v.label, "kind": v.kind.value, "masked": v.masked, "forms": v.forms}
                for v in self.values
            ],
            "blocks": self.blocks,
            "transactions": self.transactions,
            "logs": self.logs,
            "bytes_scanned": self.bytes_scanned,
            "hits": [hit.to_json() for hit in self.hits],
        }


# -- the scan ---------------------------------------------------------------------------


def scan_chain_for(
    values: Iterable[PersonalValue],
    chain: ChainReader,
    *,
    from_block: int = 0,
    to_block: int | None = None,
    addresses: Sequence[str] | None = None,
    window: int = _DEFAULT_WINDOW,
    fetchers: int = 8,
) -> PrivacyScanReport:
    """Look for `values` in every transaction input, log topic and log data of blocks
    `from_block` to `to_block` (default: the latest block), and report where they are.

    Blocks are read `window` at a time (their transactions by `fetchers` concurrent
    requests, their logs in one request), so memory stays bounded whatever the length of the
    chain. Each input, topic and data field is searched on its own, for every form listed in
    the module docstring, at any byte offset. With `addresses`, only transactions sent to and
    logs emitted by those contracts are read (contract creations are then skipped: their
    recipient is empty).

    The scan proves the absence of plain and unsalted-hashed forms only: salted or keyed
    commitments (HMAC) are undetectable by design.

    Raises `FormatError` on no values, a bad block range (negative, reversed, or beyond the
    latest block), a `window` or `fetchers` below 1; `ChainReadError` when the chain cannot be
    read (the reader's error is chained).
    """
    wanted = list(values)
    if not wanted:
        raise FormatError("nothing to look for: give at least one value")
    if window < 1 or fetchers < 1:
        raise FormatError("window and fetchers must be at least 1")
    if from_block < 0 or (to_block is not None and to_block < from_block):
        raise FormatError(f"bad block range {from_block}..{to_block}")
    watched = tuple(addresses) if addresses is not None else None
    if watched is not None and not watched:
        raise FormatError("an empty address list would scan nothing")
    watched_lower = {a.lower() for a in watched} if watched is not None else set()

    index = _NeedleIndex(wanted)
    latest = _read(chain.block_number, "the latest block number")
    last = latest if to_block is None else to_block
    if last > latest:
        raise FormatError(f"to_block {last} is beyond the latest block {latest}")
    if from_block > last:
        raise FormatError(f"from_block {from_block} is beyond the latest block {latest}")

    hits: list[tuple[tuple[int, int, int, int], PrivacyHit]] = []
    transactions = logs = scanned = 0
    # Blocks are fetched `fetchers` at a time: over JSON-RPC the scan waits on round trips far
    # more than it searches.
    with ThreadPoolExecutor(max_workers=fetchers, thread_name_prefix="privacy-scan") as pool:
        for start in range(from_block, last + 1, window):
            stop = min(start + window - 1, last)
            numbers = range(start, stop + 1)
            blocks = _read(partial(_fetch_blocks, pool, chain, numbers), f"blocks {start}..{stop}")
            parts: list[tuple[bytes, _Place]] = []
            for number, txs in zip(numbers, blocks, strict=True):
                for tx in txs:
                    if watched is not None and (
                        tx.to is None or tx.to.lower() not in watched_lower
                    ):
                        continue
                    transactions += 1
                    parts.append((tx.input, _Place(number, tx.hash, "input", address=tx.to)))
            found_logs = _read(
                partial(chain.get_logs, address=watched, from_block=start, to_block=stop),
                f"logs of blocks {start}..{stop}",
            )
            for entry in found_logs:
                logs += 1
                place = partial(
                    _Place,
                    entry.block_number,
                    entry.tx_hash,
                    log_index=entry.log_index,
                    address=entry.address,
                )
                parts.extend(
                    (topic, place("topic", topic_index=i)) for i, topic in enumerate(entry.topics)
                )
                parts.append((entry.data, place("data")))
            scanned += sum(len(blob) for blob, _ in parts)
            hits.extend(_search(index, parts))
    hits.sort(key=lambda item: item[0])
    return PrivacyScanReport(
        from_block=from_block,
        to_block=last,
        addresses=watched,
        values=tuple(
            ScannedValue(v.label, v.kind, v.masked, index.counts.get(v.label, 0)) for v in wanted
        ),
        blocks=last - from_block + 1,
        transactions=transactions,
        logs=logs,
        bytes_scanned=scanned,
        hits=tuple(hit for _, hit in hits),
    )


def _fetch_blocks(
    pool: ThreadPoolExecutor, chain: ChainReader, numbers: range
) -> list[Sequence[TransactionRecord]]:
    return list(pool.map(chain.block_transactions, numbers))


def _read(op: Callable[[], T], what: str) -> T:
    try:
        return op()
    except Exception as err:
        # Whatever the reader raises (node_adapter.ChainError, a transport error): the scan is
        # incomplete and must not pass for a clean one.
        raise ChainReadError(f"cannot read {what}: {err}") from err


@dataclass(frozen=True)
class _Place:
    block_number: int
    tx_hash: str
    where: Where
    log_index: int | None = None
    topic_index: int | None = None
    address: str | None = None


def _search(
    index: _NeedleIndex, parts: Sequence[tuple[bytes, _Place]]
) -> list[tuple[tuple[int, int, int, int], PrivacyHit]]:
    """Search all `parts` (inputs, topics, data of a window of blocks) in one pass over their
    concatenation, keeping only matches that lie wholly inside one part: each part is searched
    on its own, and the per-call cost is paid once per window rather than once per topic.
    Returns (sort key, hit) pairs; the key keeps chain order (inputs of a block before its
    logs, then position)."""
    starts: list[int] = []
    position = 0
    for blob, _ in parts:
        starts.append(position)
        position += len(blob)
    joined = b"".join(blob for blob, _ in parts)
    found: list[tuple[tuple[int, int, int, int], PrivacyHit]] = []
    for offset, needle, origin in index.find(joined):
        number = bisect.bisect_right(starts, offset) - 1
        blob, place = parts[number]
        inner = offset - starts[number]
        if inner + len(needle) > len(blob):
            continue  # straddles two parts: not in either
        hit = PrivacyHit(
            label=origin.value.label,
            masked=origin.value.masked,
            variant=origin.variant,
            encoding=origin.encoding,
            block_number=place.block_number,
            tx_hash=place.tx_hash,
            where=place.where,
            offset=inner,
            log_index=place.log_index,
            topic_index=place.topic_index,
            address=place.address,
        )
        key = (place.block_number, 0 if place.where == "input" else 1, number, inner)
        found.append((key, hit))
    return found
