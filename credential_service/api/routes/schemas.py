"""Credential type schemas, served at their ``$id`` path for anyone (a verifier of another
province fetches one and checks it against the digest committed on chain with
`wallet_sdk.credentials.fetch_type_schema`). The bytes are the schema's RFC 8785 canonical
JSON, so their SHA-256 is the committed digest itself; a type's schema never changes, so the
answer may be cached for good."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from credential_service.api.deps import SessionDep
from credential_service.credentials import type_registry
from credential_service.errors import ErrorCode, NotFound

router = APIRouter(tags=["credentials"])

SCHEMA_MEDIA_TYPE = "application/schema+json"
SchemaName = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9._-]{0,79}\.json$")]


@router.get(
    "/schemas/{name}",
    response_class=Response,
    responses={200: {"content": {SCHEMA_MEDIA_TYPE: {}}}, 304: {"description": "not modified"}},
)
def read_schema(name: SchemaName, request: Request, session: SessionDep) -> Response:
    """A published type's JSON Schema (canonical JSON); ``ETag`` is its committed digest.
    404 ``schema_not_found``."""
    record = type_registry.schema_document(session=session, name=name)
    if record is None:
        raise NotFound(f"no published schema {name}", code=ErrorCode.SCHEMA_NOT_FOUND)
    etag = f'"{record.schema_digest}"'
    headers = {"ETag": etag, "Cache-Control": "public, max-age=31536000, immutable"}
    if etag in request.headers.get("if-none-match", ""):
        return Response(status_code=304, headers=headers)
    return Response(
        record.canonical_schema.encode("utf-8"), media_type=SCHEMA_MEDIA_TYPE, headers=headers
    )
