"""Anchoring: submit digests or files, read states and receipts, verify a receipt.

``POST /v1/anchors`` takes either JSON (up to 10,000 digests) or ``multipart/form-data`` with
one or more files, which are hashed while they stream in (nothing is buffered, whatever the
size). It answers 202 at once with the ids; the anchoring worker does the rest.

Digests are SHA-256 or SM3 (GB/T 32905), named by ``algorithm`` (``sha-256`` unless given:
the client hashed them). An upload is hashed once, with the algorithm its ``algorithm`` field
names (unless given, the profile's: ``sm3`` in the national profile), so that field must come
before the first file; the same bytes under the two algorithms are two anchors.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from credential_service.anchoring import service
from credential_service.anchoring.outbox import NewItem
from credential_service.anchoring.upload import hash_upload
from credential_service.api.body_limit import RequestBodyTooLarge
from credential_service.api.deps import ContextDep, CurrentPrincipal, SessionDep
from credential_service.errors import ErrorCode, InvalidInput
from credential_service.observability import record_verification
from wallet_sdk.errors import FormatError, VerificationError
from wallet_sdk.merkle import HashAlgorithm
from wallet_sdk.receipt import AnchorReceipt, verify_receipt

router = APIRouter(prefix="/v1/anchors", tags=["anchors"])

MAX_UPLOAD_BYTES = 4 * 1024**3
"""Largest multipart upload to ``POST /v1/anchors`` (the JSON form keeps the service's limit)."""
_HEX32 = r"^(0x)?[0-9a-fA-F]{64}$"

DigestAlgorithm = Literal["sha-256", "sm3"]
"""The names of `service.ALGORITHMS`, as the wire models and the OpenAPI schema list them."""
_ALGORITHM_DOC = "Digest algorithm: SHA-256 or SM3 (GB/T 32905-2016)."


# ---------------------------------------------------------------------------- wire models


class DigestItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    digest: str = Field(pattern=_HEX32)
    commitments: list[Annotated[str, Field(pattern=_HEX32)]] | None = Field(
        default=None, max_length=service.MAX_COMMITMENTS
    )


_DOCUMENT_TYPE_DOC = (
    "Required. What the documents are, kept with each item and shown in its status: 1-64 "
    "characters of a-z, 0-9 and _ . : - starting with a letter or digit, e.g. "
    "labour-contract, certificate, payroll:2026-11 (`hrss anchor --document-type`)."
)
_DOCUMENT_TYPE_EXAMPLES = ["labour-contract", "certificate", "payroll:2026-11"]


class AnchorRequest(BaseModel):
    """Digests to anchor: ``digests`` (hex), or ``items`` when some carry salted metadata
    commitments (HMAC-SHA256 values, never the metadata itself)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    algorithm: DigestAlgorithm = Field(default="sha-256", description=_ALGORITHM_DOC)
    document_type: str = Field(
        pattern=r"^[a-z0-9][a-z0-9_.:-]{0,63}$",
        description=_DOCUMENT_TYPE_DOC,
        examples=_DOCUMENT_TYPE_EXAMPLES,
    )
    digests: list[Annotated[str, Field(pattern=_HEX32)]] = Field(
        default_factory=list, max_length=service.MAX_DIGESTS_PER_REQUEST
    )
    items: list[DigestItem] = Field(
        default_factory=list, max_length=service.MAX_DIGESTS_PER_REQUEST
    )


class SubmittedAnchor(BaseModel):
    id: uuid.UUID
    digest: str
    filename: str | None = None
    size: int | None = None


class AnchorSubmission(BaseModel):
    algorithm: str
    document_type: str
    count: int
    items: list[SubmittedAnchor]


class AnchorPublic(BaseModel):
    id: uuid.UUID
    algorithm: str
    digest: str
    document_type: str
    commitments: list[str] | None
    state: Literal["submitted", "batched", "sent", "confirmed"]
    submitted_at: datetime
    batch_id: uuid.UUID | None
    receipt: dict[str, Any] | None = Field(
        description="hrss-anchor-receipt/1, once the state is confirmed"
    )


class VerifyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    receipt: dict[str, Any]
    digest: str = Field(pattern=_HEX32, description="digest of the document, hex")
    algorithm: DigestAlgorithm = Field(
        default="sha-256",
        description="Algorithm of `digest`; a receipt for another algorithm fails the "
        "document_digest check.",
    )


class CheckPublic(BaseModel):
    name: str
    status: Literal["passed", "failed", "skipped"]
    detail: str


class VerificationPublic(BaseModel):
    verified: bool
    failed_check: str | None
    checks: list[CheckPublic]


def _public(status: service.AnchorStatus) -> AnchorPublic:
    return AnchorPublic(
        id=uuid.UUID(bytes=status.id),
        algorithm=status.algorithm,
        digest="0x" + status.digest.hex(),
        document_type=status.document_type,
        commitments=None if status.commitments is None else list(status.commitments),
        state=status.state.value,
        submitted_at=status.submitted_at,
        batch_id=None if status.batch_id is None else uuid.UUID(bytes=status.batch_id),
        receipt=None if status.receipt is None else status.receipt.to_dict(),
    )


# ---------------------------------------------------------------------------- submission

_SUBMIT_DOC = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": AnchorRequest.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["document_type", "file"],
                    "properties": {
                        "document_type": AnchorRequest.model_json_schema()["properties"][
                            "document_type"
                        ],
                        "algorithm": {
                            "type": "string",
                            "enum": sorted(service.ALGORITHMS),
                            "description": "Hashes every file; must come before the files. "
                            "Default: the deployment's profile (sha-256, or sm3 in the "
                            "national profile).",
                        },
                        "file": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                        },
                    },
                }
            },
        },
    }
}


@router.post(
    "",
    status_code=202,
    response_model=AnchorSubmission,
    openapi_extra=_SUBMIT_DOC,
    summary="Queue digests or files for anchoring",
)
async def submit_anchors(
    request: Request, session: SessionDep, context: ContextDep, principal: CurrentPrincipal
) -> Response:
    """Queue document digests (JSON) or files (multipart, hashed while streaming) for anchoring.
    Idempotent per (organisation, algorithm, digest): a digest sent again keeps its id."""
    content_type = request.headers.get("content-type", "")
    files: list[tuple[str | None, int | None]] = []
    items: list[NewItem] = []
    # A JSON body of bare digests (the bulk case) is stored without an object per digest.
    plain: list[bytes] | None = None
    if content_type.startswith("multipart/form-data"):
        upload = await hash_upload(
            request.stream(),
            content_type,
            default_algorithm=context.settings.crypto_profile.algorithms.hash_algorithm.value,
        )
        algorithm, document_type = upload.algorithm, upload.document_type
        items = [NewItem(file.digest, document_type) for file in upload.files]
        files = [(file.filename, file.size) for file in upload.files]
    elif content_type.split(";")[0].strip() in ("application/json", ""):
        body = await _read_limited(request, context.settings.max_body_bytes)
        try:
            parsed = AnchorRequest.model_validate_json(body)
        except ValidationError as err:
            raise RequestValidationError(err.errors(include_url=False)) from err
        algorithm, document_type = parsed.algorithm, parsed.document_type
        digests = service.parse_digests(parsed.digests)
        if parsed.items:
            items = [NewItem(d, document_type) for d in digests]
            items += [
                NewItem(
                    service.parse_digest(i.digest),
                    document_type,
                    service.check_commitments(i.commitments),
                )
                for i in parsed.items
            ]
        else:
            plain = digests
    else:
        raise InvalidInput(
            "send application/json or multipart/form-data",
            code=ErrorCode.VALIDATION_FAILED,
            detail={"content_type": content_type},
        )

    def store() -> tuple[list[bytes], list[bytes]]:
        """(ids, digests) in input order."""
        connection = session.connection()
        if plain is not None:
            ids = service.submit_digests_of_type(
                connection,
                organisation_id=principal.organisation_id,
                algorithm=algorithm,
                document_type=document_type,
                digests=plain,
            )
            stored = plain
        else:
            submitted = service.submit_digests(
                connection,
                organisation_id=principal.organisation_id,
                algorithm=algorithm,
                items=items,
            )
            ids, stored = [s.id for s in submitted], [s.digest for s in submitted]
        session.commit()
        return ids, stored

    # The database work of 10,000 rows must not hold up the event loop.
    ids, stored = await run_in_threadpool(store)
    if files:
        payload = {
            "algorithm": algorithm,
            "document_type": document_type,
            "count": len(ids),
            "items": [
                _submitted_item(item_id, digest, filename, size)
                for item_id, digest, (filename, size) in zip(ids, stored, files, strict=True)
            ],
        }
        answer = json.dumps(payload, separators=(",", ":"))
    else:
        answer = _submission_json(algorithm, document_type, ids, stored)
    return Response(answer, status_code=202, media_type="application/json")


def _submission_json(
    algorithm: str, document_type: str, ids: list[bytes], digests: list[bytes]
) -> str:
    """The 202 body of a JSON submission, written as text: validating 10,000 response objects,
    or even ``json.dumps`` of 10,000 dicts, would cost more than storing them. Ids and digests
    are hex, which JSON needs no escaping for; the same text as ``json.dumps`` with compact
    separators."""
    id_hex = b"".join(ids).hex()
    digest_hex = b"".join(digests).hex()
    items = ",".join(
        [
            f'{{"id":"{id_hex[i : i + 8]}-{id_hex[i + 8 : i + 12]}-{id_hex[i + 12 : i + 16]}-'
            f'{id_hex[i + 16 : i + 20]}-{id_hex[i + 20 : i + 32]}",'
            f'"digest":"0x{digest_hex[d : d + 64]}"}}'
            for i, d in zip(range(0, len(id_hex), 32), range(0, len(digest_hex), 64), strict=True)
        ]
    )
    head = json.dumps(
        {"algorithm": algorithm, "document_type": document_type, "count": len(ids)},
        separators=(",", ":"),
    )
    return f'{head[:-1]},"items":[{items}]}}'


def _submitted_item(
    item_id: bytes, digest: bytes, filename: str | None, size: int | None
) -> dict[str, Any]:
    item: dict[str, Any] = {"id": str(uuid.UUID(bytes=item_id)), "digest": "0x" + digest.hex()}
    if filename is not None:
        item.update(filename=filename, size=size)
    return item


async def _read_limited(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            # Multipart uploads may be large on this path; a JSON body keeps the usual limit.
            raise RequestBodyTooLarge(limit)
        chunks.append(chunk)
    return b"".join(chunks)


# ---------------------------------------------------------------------------- reading


@router.get("", response_model=AnchorPublic, summary="Look an anchor up by document digest")
def find_anchor(
    session: SessionDep,
    principal: CurrentPrincipal,
    digest: Annotated[str, Query(pattern=_HEX32, description="hex digest of the document")],
    algorithm: Annotated[DigestAlgorithm, Query(description=_ALGORITHM_DOC)] = "sha-256",
) -> AnchorPublic:
    """The caller's anchor of `digest` under `algorithm`: state and, once confirmed, the
    receipt."""
    return _public(
        service.anchor_status_by_digest(
            session.connection(),
            organisation_id=principal.organisation_id,
            algorithm=algorithm,
            digest=service.parse_digest(digest),
        )
    )


@router.get("/{anchor_id}", response_model=AnchorPublic, summary="One anchor")
def read_anchor(
    anchor_id: uuid.UUID, session: SessionDep, principal: CurrentPrincipal
) -> AnchorPublic:
    """State and, once confirmed, the receipt. Another organisation's anchor is a 404."""
    return _public(
        service.anchor_status(
            session.connection(), organisation_id=principal.organisation_id, item_id=anchor_id.bytes
        )
    )


# ---------------------------------------------------------------------------- verification


@router.post("/verify", response_model=VerificationPublic, summary="Verify an anchor receipt")
def verify_anchor_receipt(body: VerifyRequest, context: ContextDep) -> VerificationPublic:
    """Run `wallet_sdk`'s receipt checks against the chain this service uses, with its own
    AnchorRegistry and TrustRegistry as the trusted ones. The same checks run without the
    service (``hrss verify-receipt``). `digest` is of `algorithm` (``sha-256`` unless given),
    which the receipt must name. A malformed receipt is a 400; a receipt that fails a check is
    a 200 with ``verified: false`` and the check named."""
    from wallet_sdk.chain_view import NodeChainView

    try:
        receipt = AnchorReceipt.parse(body.receipt)
    except FormatError as err:
        raise InvalidInput(
            f"not an anchor receipt: {err}", code=ErrorCode.VALIDATION_FAILED
        ) from err
    chain, deployment = context.registry_chain()
    try:
        report = verify_receipt(
            receipt,
            service.parse_digest(body.digest),
            NodeChainView(chain),
            anchor_registry=deployment.anchor_registry,
            trust_registry=deployment.trust_registry,
            algorithm=HashAlgorithm(body.algorithm),
        )
    except VerificationError as err:
        assert err.report is not None
        report = err.report
    failure = report.first_failure
    record_verification(  # metrics by check
        "anchor_receipt",
        {
            "verified": report.passed,
            "checks": [{"check": c.name, "status": c.status.value} for c in report.checks],
        },
    )
    return VerificationPublic(
        verified=report.passed,
        failed_check=None if failure is None else failure.name,
        checks=[
            CheckPublic(name=c.name, status=c.status.value, detail=c.detail) for c in report.checks
        ],
    )
