"""Anchoring as the API and CLI see it: submit digests, read an item's state and receipt.

Domain functions with keyword-only arguments over a SQLAlchemy `Connection` (the caller owns
the transaction); no HTTP here. They raise `InvalidInput` for unacceptable content and
`NotFound` for an item the organisation does not have.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select

from credential_service.anchoring.batcher import batch_ref_of
from credential_service.anchoring.models import AnchorState, BatchState
from credential_service.anchoring.outbox import (
    BATCH,
    ITEM,
    PROOF,
    NewItem,
    insert_digests,
    insert_items,
    item_id_for,
)
from credential_service.errors import ErrorCode, InvalidInput, NotFound
from credential_service.models import as_utc
from wallet_sdk.merkle import HashAlgorithm, Hasher, InclusionProof
from wallet_sdk.receipt import AnchorReceipt

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "MAX_DIGESTS_PER_REQUEST",
    "AnchorStatus",
    "StreamingDigest",
    "anchor_status",
    "parse_digest",
    "parse_digests",
    "submit_digests",
    "submit_digests_of_type",
]

ALGORITHMS = frozenset(algorithm.value for algorithm in HashAlgorithm)
"""Document digest algorithms accepted: ``sha-256`` and ``sm3``. Items of each are sealed
into batches of their own, whose trees use the same algorithm."""
DEFAULT_ALGORITHM = HashAlgorithm.SHA256.value
MAX_DIGESTS_PER_REQUEST = 10_000
MAX_COMMITMENTS = 16
_HEX32 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_DOCUMENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9_.:-]{0,63}$")


def parse_digest(text: str) -> bytes:
    """32 bytes from 64 hex digits (``0x`` optional). Raises `InvalidInput` otherwise."""
    if not isinstance(text, str) or not _HEX32.match(text):
        raise InvalidInput(
            "a digest is 64 hex digits", code=ErrorCode.VALIDATION_FAILED, detail={"digest": text}
        )
    return bytes.fromhex(text[2:] if text.startswith("0x") else text)


def parse_digests(texts: Sequence[str]) -> list[bytes]:
    """`parse_digest` of every text, in order, in bulk. Raises `InvalidInput` naming the index
    of the first text that is not a digest."""
    fast = _parse_uniform_digests(texts)
    if fast is not None:
        return fast
    digests: list[bytes] = []
    for index, text in enumerate(texts):
        try:
            digests.append(parse_digest(text))
        except InvalidInput as err:
            raise InvalidInput(
                err.message,
                code=ErrorCode.VALIDATION_FAILED,
                detail={"index": index, "digest": text},
            ) from err
    return digests


def _parse_uniform_digests(texts: Sequence[str]) -> list[bytes] | None:
    """The digests when every text has the same form (all 64 hex digits, or all ``0x`` and 64),
    with a few C-speed string operations instead of one regex match per text; ``None`` when
    that does not settle it (then `parse_digests` looks at each text)."""
    try:
        joined = "".join(texts)
    except TypeError:
        return None
    count = len(texts)
    lengths = set(map(len, texts))
    if lengths == {66} and joined[0::66] == "0" * count and joined[1::66] == "x" * count:
        hexes = "".join([text[2:] for text in texts])
    elif lengths == {64}:
        hexes = joined
    else:
        return None
    try:
        raw = bytes.fromhex(hexes)
    except ValueError:
        return None
    # fromhex skips whitespace, and every text has at most 64 hex digits: only 32 bytes per
    # text proves that each one is exactly 64 of them.
    if len(raw) != 32 * count:
        return None
    return [raw[start : start + 32] for start in range(0, len(raw), 32)]


def check_algorithm(algorithm: str) -> str:
    """`algorithm` when it is one of `ALGORITHMS`. Raises `InvalidInput` otherwise."""
    if algorithm not in ALGORITHMS:
        raise InvalidInput(
            f"unsupported digest algorithm {algorithm!r}",
            code=ErrorCode.VALIDATION_FAILED,
            detail={"algorithm": algorithm, "supported": sorted(ALGORITHMS)},
        )
    return algorithm


def check_document_type(document_type: str) -> str:
    if not _DOCUMENT_TYPE.match(document_type):
        raise InvalidInput(
            "document_type is 1-64 characters of a-z, 0-9, _ . : -",
            code=ErrorCode.VALIDATION_FAILED,
            detail={"document_type": document_type},
        )
    return document_type


def check_commitments(commitments: Sequence[str] | None) -> tuple[str, ...] | None:
    """Salted metadata commitments: up to 16 hex-encoded 32-byte values, normalised."""
    if commitments is None:
        return None
    if len(commitments) > MAX_COMMITMENTS:
        raise InvalidInput(
            f"at most {MAX_COMMITMENTS} commitments per document",
            code=ErrorCode.VALIDATION_FAILED,
        )
    return tuple("0x" + parse_digest(value).hex() for value in commitments)


@dataclass(frozen=True, slots=True)
class SubmittedDigest:
    id: bytes
    digest: bytes


def submit_digests(
    connection: Connection,
    *,
    organisation_id: int,
    algorithm: str,
    items: Sequence[NewItem],
) -> list[SubmittedDigest]:
    """Queue `items` for anchoring; return each one's id in input order.

    Idempotent per (organisation, algorithm, digest): a digest already submitted keeps its id,
    state and receipt; the same bytes under the other algorithm are another item. Raises
    `InvalidInput` for an unsupported algorithm, more than `MAX_DIGESTS_PER_REQUEST` items, or
    none.
    """
    _check_submission(algorithm, len(items))
    ids = insert_items(
        connection,
        organisation_id=organisation_id,
        algorithm=algorithm,
        items=items,
    )
    return [SubmittedDigest(item_id, item.digest) for item_id, item in zip(ids, items, strict=True)]


def submit_digests_of_type(
    connection: Connection,
    *,
    organisation_id: int,
    algorithm: str,
    document_type: str,
    digests: Sequence[bytes],
) -> list[bytes]:
    """`submit_digests` for digests of one document type without commitments (the usual bulk
    submission), with no object per digest; returns the ids in input order. Raises
    `InvalidInput` as `submit_digests` does."""
    _check_submission(algorithm, len(digests))
    return insert_digests(
        connection,
        organisation_id=organisation_id,
        algorithm=algorithm,
        document_type=document_type,
        digests=digests,
    )


def _check_submission(algorithm: str, count: int) -> None:
    check_algorithm(algorithm)
    if not count:
        raise InvalidInput("no digest to anchor", code=ErrorCode.VALIDATION_FAILED)
    if count > MAX_DIGESTS_PER_REQUEST:
        raise InvalidInput(
            f"at most {MAX_DIGESTS_PER_REQUEST} digests per request",
            code=ErrorCode.VALIDATION_FAILED,
            detail={"submitted": count},
        )


@dataclass(frozen=True, slots=True)
class AnchorStatus:
    """One item: where it is in the outbox and, once confirmed, its receipt."""

    id: bytes
    algorithm: str
    digest: bytes
    document_type: str
    commitments: tuple[str, ...] | None
    state: AnchorState
    submitted_at: datetime
    batch_id: bytes | None
    receipt: AnchorReceipt | None


_STATUS_COLUMNS = (
    ITEM.c.id,
    ITEM.c.algorithm,
    ITEM.c.digest,
    ITEM.c.document_type,
    ITEM.c.commitments,
    ITEM.c.submitted_at,
    ITEM.c.batch_id,
    BATCH.c.state,
    BATCH.c.root,
    BATCH.c.leaf_count,
    BATCH.c.chain_id,
    BATCH.c.registry_address,
    BATCH.c.transaction_hash,
    BATCH.c.block_number,
    BATCH.c.block_hash,
    BATCH.c.block_time,
    BATCH.c.anchored_by,
    BATCH.c.entity_id,
    PROOF.c.leaf_index,
    PROOF.c.path,
)


def _status_query() -> Any:
    return (
        select(*_STATUS_COLUMNS)
        .select_from(ITEM)
        .outerjoin(BATCH, BATCH.c.id == ITEM.c.batch_id)
        .outerjoin(PROOF, PROOF.c.item_id == ITEM.c.id)
    )


def _receipt_of(row: Any) -> AnchorReceipt | None:
    if row.state != BatchState.CONFIRMED.value or row.path is None:
        return None
    path = bytes(row.path)
    return AnchorReceipt.create(
        document_digest=bytes(row.digest),
        proof=InclusionProof(
            leaf_index=row.leaf_index,
            tree_size=row.leaf_count,
            path=tuple(path[i : i + 32] for i in range(0, len(path), 32)),
        ),
        root=bytes(row.root),
        chain_id=row.chain_id,
        registry=row.registry_address,
        transaction_hash=bytes(row.transaction_hash),
        block_number=row.block_number,
        block_hash=bytes(row.block_hash),
        block_time=row.block_time,
        anchored_by=row.anchored_by,
        entity_id=bytes(row.entity_id),
        batch_ref=batch_ref_of(bytes(row.batch_id)),
        algorithm=HashAlgorithm.from_name(row.algorithm),
    )


def _status_of(row: Any) -> AnchorStatus:
    return AnchorStatus(
        id=bytes(row.id),
        algorithm=row.algorithm,
        digest=bytes(row.digest),
        document_type=row.document_type,
        commitments=None if row.commitments is None else tuple(row.commitments),
        state=AnchorState.of_batch(row.state),
        submitted_at=as_utc(row.submitted_at),
        batch_id=None if row.batch_id is None else bytes(row.batch_id),
        receipt=_receipt_of(row),
    )


def anchor_status(connection: Connection, *, organisation_id: int, item_id: bytes) -> AnchorStatus:
    """The item `item_id` of this organisation. Raises `NotFound` when there is none (an
    item of another organisation is indistinguishable from a missing one)."""
    row = connection.execute(
        _status_query().where(ITEM.c.id == item_id, ITEM.c.organisation_id == organisation_id)
    ).first()
    if row is None:
        raise NotFound(
            "no such anchor", code=ErrorCode.NOT_FOUND, detail={"id": str(uuid.UUID(bytes=item_id))}
        )
    return _status_of(row)


def anchor_status_by_digest(
    connection: Connection, *, organisation_id: int, algorithm: str, digest: bytes
) -> AnchorStatus:
    """The item of this organisation for `digest` under `algorithm`. Raises `InvalidInput` for
    an algorithm not in `ALGORITHMS`, `NotFound` when never submitted under it."""
    check_algorithm(algorithm)
    return anchor_status(
        connection,
        organisation_id=organisation_id,
        item_id=item_id_for(organisation_id, algorithm, digest),
    )


def anchor_statuses(
    connection: Connection, *, organisation_id: int, item_ids: Iterable[bytes]
) -> list[AnchorStatus]:
    """Several items at once (unknown ids are left out)."""
    wanted = list(item_ids)
    result: list[AnchorStatus] = []
    for start in range(0, len(wanted), 500):
        rows = connection.execute(
            _status_query().where(
                ITEM.c.id.in_(wanted[start : start + 500]),
                ITEM.c.organisation_id == organisation_id,
            )
        ).all()
        result.extend(_status_of(row) for row in rows)
    return result


class StreamingDigest:
    """The digest, under one algorithm, of data that arrives in chunks (an upload, a file read
    piece by piece). Raises `InvalidInput` for an algorithm not in `ALGORITHMS`."""

    __slots__ = ("_hash", "algorithm", "size")

    def __init__(self, algorithm: str = DEFAULT_ALGORITHM) -> None:
        self.algorithm = check_algorithm(algorithm)
        self._hash: Hasher = HashAlgorithm(algorithm).new()
        self.size = 0

    def update(self, chunk: bytes) -> None:
        self._hash.update(chunk)
        self.size += len(chunk)

    def digest(self) -> bytes:
        return self._hash.digest()
