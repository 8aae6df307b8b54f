"""Issuance with an idempotency key (`issue_credentials_idempotently`): the answer is stored,
sealed, in the transaction that writes the credential rows, and a retry of the same request
gets it back instead of a second issuance.

Every function takes keyword-only arguments and raises only `ServiceError` subclasses.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from credential_service.credentials.issuance import issue_uncommitted
from credential_service.credentials.issuers import require_active_issuer
from credential_service.credentials.models import (
    CredentialRequest,
    IdempotencyRecord,
    IssueCredentialsResponse,
)
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import Conflict, ErrorCode, InvalidInput, Unprocessable
from credential_service.models import Organisation, utc_now
from credential_service.sealing import SealAlgorithm, SealBroken, open_sealed, seal

__all__ = [
    "IDEMPOTENCY_KEY_MAX_LENGTH",
    "IssuanceAnswer",
    "check_idempotency_key",
    "idempotency_row_key",
    "issue_credentials_idempotently",
    "request_digest",
    "seal_answer",
]

IDEMPOTENCY_KEY_MAX_LENGTH = 255
_CARD_FIELDS = ("card_proof", "require_card")
_IDEMPOTENCY_KEY_CHARACTERS = frozenset(chr(c) for c in range(0x20, 0x7F))
_in_flight: set[tuple[int, str]] = set()
_in_flight_lock = threading.Lock()


@dataclass(frozen=True)
class IssuanceAnswer:
    """The answer to an issuance request: ``body`` is the exact JSON text, ``replayed`` says it
    is the stored answer to an earlier request with the same idempotency key."""

    status: int
    body: str
    replayed: bool


class _AlreadyAnswered(Exception):
    """Another request with the key committed while this one was being prepared."""

    def __init__(self, record: IdempotencyRecord) -> None:
        super().__init__(record.key_hash)
        self.record = record


def check_idempotency_key(key: str) -> str:
    """The key itself when it is 1 to 255 printable ASCII characters (``0x20``-``0x7E``).
    Raises `InvalidInput` (``idempotency_key_invalid``) otherwise."""
    if (
        not 1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH
        or not set(key) <= _IDEMPOTENCY_KEY_CHARACTERS
    ):
        raise InvalidInput(
            "Idempotency-Key must be 1 to 255 printable ASCII characters",
            code=ErrorCode.IDEMPOTENCY_KEY_INVALID,
        )
    return key


def request_digest(requests: Sequence[CredentialRequest]) -> str:
    """SHA-256 (hex) of the canonical JSON of a parsed issuance request: keys sorted, no
    whitespace, defaults filled in, so two bodies that mean the same request match."""
    # A request without the e-card digests as it did before card proofs existed.
    canonical = json.dumps(
        {
            "credentials": [
                r.model_dump(
                    mode="json",
                    exclude={name for name in _CARD_FIELDS if not getattr(r, name)},
                )
                for r in requests
            ]
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@contextmanager
def _claim_in_process(organisation_id: int, key: str) -> Iterator[None]:
    entry = (organisation_id, key)
    with _in_flight_lock:
        if entry in _in_flight:
            raise _key_in_flight()
        _in_flight.add(entry)
    try:
        yield
    finally:
        with _in_flight_lock:
            _in_flight.discard(entry)


def _key_in_flight() -> Conflict:
    return Conflict(
        "a request with this Idempotency-Key is still being processed; retry later",
        code=ErrorCode.IDEMPOTENCY_KEY_IN_FLIGHT,
    )


def _claim_across_processes(session: Session, organisation_id: int, key: str) -> None:
    """On PostgreSQL, a transaction-scoped advisory lock on (organisation, key): another
    process working on the same key makes this one answer 409 rather than issue twice. (On
    SQLite the primary key settles a race between processes at commit.)"""
    if session.get_bind().dialect.name != "postgresql":
        return
    lock = hashlib.sha256(f"idempotency\0{organisation_id}\0{key}".encode()).digest()[:8]
    taken = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:lock)"),
        {"lock": int.from_bytes(lock, "big", signed=True)},
    ).scalar_one()
    if not taken:
        raise _key_in_flight()


_SEALED_PREFIX = "v1."


def idempotency_row_key(key: str) -> str:
    """What the database keeps of an idempotency key: its SHA-256 (hex), never the key, which
    stays with the client and is needed to open the stored answer."""
    return hashlib.sha256(key.encode()).hexdigest()


_ANSWER_SALT = b"hrss-idempotency-answer/1"


def _answer_info(organisation_id: int, key: str) -> bytes:
    return organisation_id.to_bytes(8, "big") + key.encode()


def seal_answer(
    *,
    secret: bytes,
    organisation_id: int,
    key: str,
    digest: str,
    body: str,
    algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM,
) -> str:
    """A stored answer sealed (`credential_service.sealing`) under a key derived from the
    service's sealing secret, the organisation and the idempotency key, the request digest
    bound as associated data. The signed credentials it holds carry personal data: the
    database alone, or with the keystore but without the client's idempotency key, reveals
    none of it."""
    sealed = seal(
        secret,
        body.encode(),
        info=_answer_info(organisation_id, key),
        aad=digest.encode(),
        salt=_ANSWER_SALT,
        algorithm=algorithm,
    )
    return _SEALED_PREFIX + base64.urlsafe_b64encode(sealed).decode()


def _open_answer(record: IdempotencyRecord, *, secret: bytes, key: str) -> str:
    try:
        if not record.sealed_response.startswith(_SEALED_PREFIX):
            raise SealBroken("not a sealed answer")
        plain = open_sealed(
            secret,
            base64.urlsafe_b64decode(record.sealed_response[len(_SEALED_PREFIX) :]),
            info=_answer_info(record.organisation_id, key),
            aad=record.request_digest.encode(),
            salt=_ANSWER_SALT,
        )
        return plain.decode()
    except ValueError as err:  # SealBroken, or damaged base64
        # the sealing secret was replaced (another keystore): the answer is lost for good
        raise Conflict(
            "the stored answer for this Idempotency-Key cannot be opened; use a new key",
            code=ErrorCode.IDEMPOTENCY_ANSWER_UNREADABLE,
        ) from err


def _stored_answer(
    session: Session, organisation_id: int, key: str, *, at: int | None
) -> IdempotencyRecord | None:
    """The stored answer for the key; only one that has not expired at `at` when given."""
    query = select(IdempotencyRecord).where(
        IdempotencyRecord.organisation_id == organisation_id,
        IdempotencyRecord.key_hash == idempotency_row_key(key),
    )
    if at is not None:
        query = query.where(IdempotencyRecord.expires_at > at)
    return session.exec(query).first()


def _replay(record: IdempotencyRecord, digest: str, *, secret: bytes, key: str) -> IssuanceAnswer:
    if record.request_digest != digest:
        raise Unprocessable(
            "this Idempotency-Key was used for a different request",
            code=ErrorCode.IDEMPOTENCY_KEY_REUSED,
        )
    body = _open_answer(record, secret=secret, key=key)
    return IssuanceAnswer(status=record.response_status, body=body, replayed=True)


def issue_credentials_idempotently(
    *,
    session: Session,
    runtime: CredentialRuntime,
    issuer: Organisation,
    requests: Sequence[CredentialRequest],
    now: datetime,
    key: str,
    ttl: timedelta,
    sealing_secret: bytes,
    seal_algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM,
) -> IssuanceAnswer:
    """`issue_credentials` at most once per (issuer, idempotency key) within `ttl`.

    The first request with a key issues, and its answer is stored with the key and a digest
    of the request in the transaction that writes the credentials; a failed issuance stores
    nothing, so a retry issues afresh. A later request with the key and the same request gets
    the stored answer (``replayed``), with nothing issued again. Keys of other organisations
    never match. Expired keys of the issuer are deleted on the way. The stored answer is
    sealed (`seal_answer`) with `sealing_secret` and the key; the row keeps only the key's
    SHA-256.

    Raises `InvalidInput` (``idempotency_key_invalid``), `Unprocessable`
    (``idempotency_key_reused``: same key, different request), `Conflict`
    (``idempotency_key_in_flight``: a request with the key is being processed), and whatever
    `issue_credentials` raises.
    """
    check_idempotency_key(key)
    require_active_issuer(session=session, issuer=issuer)
    assert issuer.id is not None
    organisation_id = issuer.id
    digest = request_digest(requests)
    at = int(now.timestamp())
    session.exec(
        delete(IdempotencyRecord).where(
            col(IdempotencyRecord.organisation_id) == organisation_id,
            col(IdempotencyRecord.expires_at) <= at,
        )
    )
    session.commit()
    stored = _stored_answer(session, organisation_id, key, at=at)
    if stored is not None:
        return _replay(stored, digest, secret=sealing_secret, key=key)

    def claim() -> None:
        _claim_across_processes(session, organisation_id, key)
        again = _stored_answer(session, organisation_id, key, at=at)
        if again is not None:
            raise _AlreadyAnswered(again)

    with _claim_in_process(organisation_id, key):
        try:
            results = issue_uncommitted(
                session=session,
                runtime=runtime,
                issuer=issuer,
                requests=requests,
                now=now,
                before_chain=claim,
            )
        except _AlreadyAnswered as done:
            try:
                # read before the rollback expires it
                return _replay(done.record, digest, secret=sealing_secret, key=key)
            finally:
                session.rollback()
        body = IssueCredentialsResponse(credentials=results).model_dump_json()
        session.add(
            IdempotencyRecord(
                organisation_id=organisation_id,
                key_hash=idempotency_row_key(key),
                request_digest=digest,
                response_status=201,
                sealed_response=seal_answer(
                    secret=sealing_secret,
                    organisation_id=organisation_id,
                    key=key,
                    digest=digest,
                    body=body,
                    algorithm=seal_algorithm,
                ),
                created_at=utc_now(),
                expires_at=at + int(ttl.total_seconds()),
            )
        )
        try:
            session.commit()
        except IntegrityError:
            # Another process committed the key first (SQLite has no advisory lock): its
            # answer stands, and what this request did is rolled back (its status entries on
            # chain stay orphans nobody holds).
            session.rollback()
            winner = _stored_answer(session, organisation_id, key, at=None)
            if winner is None:
                raise
            return _replay(winner, digest, secret=sealing_secret, key=key)
    return IssuanceAnswer(status=201, body=body, replayed=False)
