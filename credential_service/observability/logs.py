"""Structured JSON logs with request ids, and redaction of secrets and personal data.

`configure_logging` installs one handler on the root logger: a `JsonFormatter` (one JSON object
a line: ``time``, ``level``, ``logger``, ``message``, ``request_id``, extras) behind a
`RedactionFilter`. The filter rewrites every record before any handler formats it, so nothing
below leaves the process in clear:

- compact JWS/JWT and SD-JWT values (access tokens, client assertions, credentials,
  presentations), ``Bearer`` credentials;
- values of sensitive fields in JSON, ``key=value`` and form text (``passphrase``, ``password``,
  ``secret``, ``token``, ``client_assertion``, ``authorization``, private JWK members ``d``,
  ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``k``);
- PRC resident ID numbers (18 characters: 17 digits and a digit or ``X``) and mainland mobile
  numbers (11 digits from ``1[3-9]``, optional ``+86``);
- any literal registered with `register_secret` (the keystore passphrase, for one).

Redaction is by pattern: it errs towards masking, never towards leaking.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
import threading
import traceback
from datetime import UTC, datetime
from typing import Any, TextIO

__all__ = [
    "JsonFormatter",
    "RedactionFilter",
    "configure_logging",
    "current_request_id",
    "redact",
    "register_secret",
    "request_id_var",
]

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "hrss_request_id", default=None
)


def current_request_id() -> str | None:
    """The id of the request being served in this context, if any."""
    return request_id_var.get()


_SENSITIVE_KEYS = (
    r"passphrase|password|passwd|secret|client_secret|client_assertion|assertion"
    r"|access_token|refresh_token|id_token|token|authorization|api_key|private_key"
    r"|seed|mnemonic|salt|keystore_passphrase"
)
_JWK_PRIVATE = r"d|p|q|dp|dq|qi|k"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # compact JWS / JWT, optionally followed by SD-JWT disclosures and a key-binding JWT
    (
        re.compile(r"eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:~[A-Za-z0-9_.-]*)*"),
        "[REDACTED:jwt]",
    ),
    # a detached SD-JWT disclosure or any other long base64url run is not personal data by
    # itself, but Bearer credentials of any shape are secrets
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 [REDACTED]"),
    # "key": "value" and 'key': 'value' (JSON and Python reprs)
    (
        re.compile(rf"""(?i)(["'](?:{_SENSITIVE_KEYS})["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2"""),
        r"\1\2[REDACTED]\2",
    ),
    # private JWK members: only in JSON or repr form, where a one-letter key is unambiguous
    (
        re.compile(rf"""(["'](?:{_JWK_PRIVATE})["']\s*:\s*)(["'])(?:\\.|(?!\2).)*\2"""),
        r"\1\2[REDACTED]\2",
    ),
    # key=value (forms, query strings, log phrases); the value ends at & , ; or whitespace
    (re.compile(rf"(?i)\b((?:{_SENSITIVE_KEYS})=)[^&\s,;\"']+"), r"\1[REDACTED]"),
    # 18-character PRC resident identity numbers
    (re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[0-9Xx](?![0-9A-Za-z])"), "[REDACTED:id_number]"),
    # mainland mobile numbers, with or without +86 / 86
    (
        re.compile(r"(?<![0-9A-Za-z+])(?:\+?86[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?![0-9A-Za-z])"),
        "[REDACTED:phone]",
    ),
)

_secrets_lock = threading.Lock()
_secrets: tuple[str, ...] = ()


def register_secret(value: str | None) -> None:
    """Mask `value` wherever it appears in a log line from now on (values under 6 characters
    are ignored: masking them would garble ordinary text)."""
    global _secrets
    if not value or len(value) < 6:
        return
    with _secrets_lock:
        if value not in _secrets:
            # longest first, so a secret containing another is masked whole
            _secrets = tuple(sorted((*_secrets, value), key=len, reverse=True))


_KEYWORD = re.compile(_SENSITIVE_KEYS)  # on lowered text: cheaper than (?i)
_JWK_KEY = re.compile(rf"""["'](?:{_JWK_PRIVATE})["']""")
_DIGIT_RUN = re.compile(r"\d{4}")
(_JWT, _BEARER, _KEY_QUOTED, _JWK_QUOTED, _KEY_EQUALS, _ID_NUMBER, _PHONE) = _PATTERNS


def _sub(pattern: tuple[re.Pattern[str], str], text: str) -> str:
    return pattern[0].sub(pattern[1], text)


def redact(text: str) -> str:
    """`text` with every secret and personal datum it matches masked.

    Each pattern runs only when a cheap substring test says it could match (an access log line
    costs a few microseconds, not the ~75 of running every pattern)."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, "[REDACTED]")
    if "eyJ" in text:
        text = _sub(_JWT, text)
    lowered = text.lower()
    if "bearer" in lowered or "basic" in lowered:
        text = _sub(_BEARER, text)
    if _KEYWORD.search(lowered):
        text = _sub(_KEY_QUOTED, text)
        text = _sub(_KEY_EQUALS, text)
    if _JWK_KEY.search(text):
        text = _sub(_JWK_QUOTED, text)
    if _DIGIT_RUN.search(text):
        text = _sub(_ID_NUMBER, text)
        text = _sub(_PHONE, text)
    return text


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(repr(value) if not isinstance(value, bytes | bytearray) else value.hex())


_STANDARD_ATTRS = frozenset(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


class RedactionFilter(logging.Filter):
    """Rewrites each record in place: the message is rendered, redacted and frozen (``args``
    emptied), extras and the exception text are redacted too. Always lets the record pass."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_hrss_redacted", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the line
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info))
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        fields = record.__dict__
        for key in fields.keys() - _STANDARD_ATTRS:  # the extras, found as one set difference
            if not key.startswith("_"):
                fields[key] = _redact_value(fields[key])
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        record._hrss_redacted = True
        return True


_second_text: tuple[int, str] = (-1, "")


def _iso_time(created: float) -> str:
    """``created`` as ISO 8601 UTC with milliseconds; the part up to the second is made once a
    second (formatting a datetime a line costs more than the rest of the line's time)."""
    global _second_text
    second = int(created)
    cached = _second_text
    if cached[0] != second:
        cached = (second, datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S"))
        _second_text = cached
    return f"{cached[1]}.{int((created - second) * 1000):03d}+00:00"


class JsonFormatter(logging.Formatter):
    """One JSON object a line. A record that did not pass the `RedactionFilter` is redacted
    here as a whole line, so a handler without the filter still leaks nothing the patterns
    know."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        clean = getattr(record, "_hrss_redacted", False)
        fields = record.__dict__
        for key in sorted(fields.keys() - _STANDARD_ATTRS):
            if not key.startswith("_") and key not in entry:
                entry[key] = fields[key] if clean else _redact_value(fields[key])
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        line = json.dumps(entry, ensure_ascii=False, default=str)
        # a record that passed the RedactionFilter is clean already; any other is redacted here
        return line if clean else redact(line)


def configure_logging(
    *, level: str = "INFO", json_format: bool = True, stream: TextIO | None = None
) -> logging.Handler:
    """Replace the root logger's handlers by one redacting handler on `stream` (stderr by
    default) and route uvicorn's loggers through it. Returns the handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(RedactionFilter())
    if json_format:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s")
        )
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.propagate = True
    # our request middleware writes one access line per request with the request id
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    return handler
