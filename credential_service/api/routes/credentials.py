"""Credentials: issuance (issuers, bulk), status (issuer or its accreditor), issuer signing
keys, credential-type accreditation (provinces), verification reports (any organisation)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import select

from credential_service.anchoring.service import anchor_status
from credential_service.api.deps import (
    BEARER_SECURITY,
    ContextDep,
    CurrentOrg,
    CurrentPrincipal,
    NowDep,
    SessionDep,
    get_cached_principal,
    get_context,
    require_scope,
)
from credential_service.context import ServiceContext
from credential_service.core import heap
from credential_service.credentials import service, training_files, type_registry
from credential_service.credentials.models import (
    CredentialRecord,
    CredentialStatusChange,
    CredentialStatusPublic,
    CredentialTypePublic,
    CredentialTypePublication,
    CredentialTypeRecord,
    IssueCredentialsRequest,
    IssueCredentialsResponse,
    KeyRevocation,
    KeyRotation,
    PublishedCredentialType,
    SigningKeyPublic,
    TypeAccreditation,
    VerifyCredentialBody,
    VerifyPresentationBody,
    VerifyTrainingFileBody,
)
from credential_service.credentials.runtime import CredentialRuntime
from credential_service.errors import ErrorCode, Forbidden, NotFound
from credential_service.models import CREDIT_CODE_PATTERN
from credential_service.services.registry import IssuerNames
from credential_service.services.tokens import Principal

router = APIRouter(tags=["credentials"])

_runtime_lock = threading.Lock()


def get_credential_runtime(request: Request, context: ContextDep) -> CredentialRuntime:
    """Built once per app (tests may set ``app.state.credential_runtime`` beforehand)."""
    existing: CredentialRuntime | None = getattr(request.app.state, "credential_runtime", None)
    if existing is None:
        with _runtime_lock:
            existing = getattr(request.app.state, "credential_runtime", None)
            if existing is None:
                existing = CredentialRuntime.from_service(context)
                request.app.state.credential_runtime = existing
                if getattr(request.app.state, "settle_heap", False):
                    heap.settle()
    return existing


RuntimeDep = Annotated[CredentialRuntime, Depends(get_credential_runtime)]


async def get_ready_runtime(request: Request) -> CredentialRuntime:
    """`get_credential_runtime` without a thread-pool hop once the runtime exists (building it
    reads the chain, so that first time runs in the thread pool)."""
    existing: CredentialRuntime | None = getattr(request.app.state, "credential_runtime", None)
    if existing is not None:
        return existing
    context: ServiceContext = request.app.state.context
    return await run_in_threadpool(get_credential_runtime, request, context)


ReadyRuntimeDep = Annotated[CredentialRuntime, Depends(get_ready_runtime)]
CredentialId = Annotated[str, Path(pattern=r"^0x[0-9a-fA-F]{64}$", description="credential id")]
KeyId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{43}$", description="JWK thumbprint")]
CreditCode = Annotated[str, Path(pattern=CREDIT_CODE_PATTERN)]
TypeTerm = Annotated[str, Path(pattern=r"^[A-Z][A-Za-z0-9]{0,63}$")]
_issue = Depends(require_scope("credentials:issue"))
_accredit = Depends(require_scope("organisations:accredit"))


def _require_status_scope(principal: CurrentPrincipal) -> Principal:
    """Issuers change their credentials' status; provinces those of issuers they accredited."""
    if not principal.scopes & {"credentials:status", "organisations:status"}:
        raise Forbidden("this needs the credentials:status scope", code=ErrorCode.SCOPE_MISSING)
    return principal


_status = Depends(_require_status_scope)


IdempotencyKeyHeader = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="1 to 255 printable ASCII characters, unique per request the client means; "
        "a retry with the same key and body gets the first answer again, with "
        "`Idempotent-Replayed: true`, and issues nothing",
    ),
]


# The two verification routes run on the event loop: the verifier reads only the cached chain
# state (CPU, microseconds) and the caller is authenticated from a short-lived cache, so a
# thread-pool hop and a database session per request would cost more than the work itself.


async def get_verifying_runtime(request: Request) -> CredentialRuntime:
    """The caller authenticated from the cache (`get_cached_principal`), then the runtime:
    one dependency, because on the hot path each one FastAPI solves costs about as much as
    the token check itself."""
    await get_cached_principal(request)
    return await get_ready_runtime(request)


VerifyingRuntimeDep = Annotated[CredentialRuntime, Depends(get_verifying_runtime)]


def issuer_names_of(request: Request) -> IssuerNames:
    """The app's one `IssuerNames` (the public registry view behind a 5 s cache per issuer)."""
    names: IssuerNames | None = getattr(request.app.state, "issuer_names", None)
    if names is None:
        names = IssuerNames(get_context(request).engine)
        request.app.state.issuer_names = names
    return names


@router.post("/v1/credentials/verify", openapi_extra=BEARER_SECURITY)
async def verify_credential(
    body: VerifyCredentialBody, runtime: VerifyingRuntimeDep, request: Request
) -> dict[str, Any]:
    """The step-by-step verification report of a credential (``verified`` true or false),
    naming the ``issuer`` as the public registry view does (entity id, name, kind, region,
    province, accreditation path; ``known`` false when this registry does not know it)."""
    return service.verify_credential(
        runtime=runtime,
        token=body.credential,
        as_of=body.as_of,
        receipt=body.anchor_receipt,
        issuers=issuer_names_of(request),
    )


@router.post("/v1/presentations/verify", openapi_extra=BEARER_SECURITY)
async def verify_presentation(
    body: VerifyPresentationBody, runtime: VerifyingRuntimeDep, request: Request
) -> dict[str, Any]:
    """The verification report of a presentation bound to the caller's nonce and audience;
    each credential's report names its ``issuer`` as ``POST /v1/credentials/verify`` does.
    With ``with_card``: a credential with its holder's e-card in one ``vp+jwt``, reported
    under ``card`` (one holder key, the card's disclosed claims, ``name_matches``)."""
    return service.verify_presentation(
        runtime=runtime,
        token=body.presentation,
        nonce=body.nonce,
        audience=body.audience,
        as_of=body.as_of,
        receipts=body.anchor_receipts,
        issuers=issuer_names_of(request),
        with_card=body.with_card,
    )


@router.post("/v1/training-files/verify")
def verify_training_file(
    body: VerifyTrainingFileBody, session: SessionDep, runtime: RuntimeDep, _actor: CurrentOrg
) -> dict[str, Any]:
    """The whole check of a training file presented by its holder (any organisation): file
    checks (format, holder binding over the caller's nonce and audience, one person, entry
    links), every entry's report naming its issuer, totals by period and the verdict
    (``verified``, ``verified_with_excluded_entries`` or ``failed``). 400
    ``training_file_invalid`` when the body is not a training file presentation."""
    return training_files.verify_training_file_presentation(
        session=session,
        runtime=runtime,
        presentation=body.presentation,
        nonce=body.nonce,
        audience=body.audience,
        as_of=body.as_of,
        period=body.period,
    )


@router.post(
    "/v1/credentials",
    response_model=IssueCredentialsResponse,
    status_code=201,
    dependencies=[_issue],
)
def issue_credentials(
    body: IssueCredentialsRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    context: ContextDep,
    actor: CurrentOrg,
    now: NowDep,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response | IssueCredentialsResponse:
    """Issue up to 1000 credentials (``vc+jwt`` or ``vc+sd-jwt``) of types the caller is
    accredited for on chain now; each gets a status entry and is queued for anchoring.

    With an ``Idempotency-Key`` header the answer is stored for the key (24 h by default):
    the same key and body answer it again, same credentials, with ``Idempotent-Replayed:
    true``; the same key with another body is 422 ``idempotency_key_reused``; while a request
    with the key is still being processed, 409 ``idempotency_key_in_flight``. A training file
    entry at a sequence its file already has on chain is 409 ``training_file_sequence_taken``;
    one that does not extend the file's head, 409 ``training_file_not_head``."""
    if idempotency_key is None:
        issued = service.issue_credentials(
            session=session, runtime=runtime, issuer=actor, requests=body.credentials, now=now
        )
        return IssueCredentialsResponse(credentials=issued)
    answer = service.issue_credentials_idempotently(
        session=session,
        runtime=runtime,
        issuer=actor,
        requests=body.credentials,
        now=now,
        key=idempotency_key,
        ttl=timedelta(seconds=context.settings.idempotency_key_ttl_seconds),
        sealing_secret=context.idempotency_secret,
        seal_algorithm=context.settings.crypto_profile.algorithms.seal_algorithm,
    )
    return Response(
        content=answer.body,
        status_code=answer.status,
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"} if answer.replayed else None,
    )


@router.get(
    "/v1/credentials/{credential_id}/status",
    response_model=CredentialStatusPublic,
    dependencies=[_status],
)
def read_credential_status(
    credential_id: CredentialId,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: CurrentOrg,
    now: NowDep,
) -> CredentialStatusPublic:
    """The credential's status on chain (issuer or its accreditor)."""
    return service.credential_status(
        session=session, runtime=runtime, actor=actor, credential_id=credential_id, now=now
    )


@router.post(
    "/v1/credentials/{credential_id}/status",
    response_model=CredentialStatusPublic,
    dependencies=[_status],
)
def change_credential_status(
    credential_id: CredentialId,
    body: CredentialStatusChange,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: CurrentOrg,
    now: NowDep,
) -> CredentialStatusPublic:
    """Suspend, reinstate or revoke, with a reason code."""
    return service.change_credential_status(
        session=session,
        runtime=runtime,
        actor=actor,
        credential_id=credential_id,
        change=body,
        now=now,
    )


@router.get("/v1/credentials/{credential_id}/receipt", dependencies=[_status])
def read_anchor_receipt(
    credential_id: CredentialId, session: SessionDep, actor: CurrentOrg
) -> dict[str, Any]:
    """The credential's anchoring state and, once confirmed, its anchor receipt."""
    record = session.get(CredentialRecord, credential_id.lower())
    if record is None or record.organisation_id != actor.id or record.anchor_item_id is None:
        raise NotFound("no such credential", code=ErrorCode.CREDENTIAL_NOT_FOUND)
    found = anchor_status(
        session.connection(), organisation_id=record.organisation_id, item_id=record.anchor_item_id
    )
    return {
        "id": record.id,
        "state": str(found.state),
        "receipt": None if found.receipt is None else found.receipt.to_dict(),
    }


@router.get("/v1/credentials/keys", response_model=list[SigningKeyPublic], dependencies=[_issue])
def list_signing_keys(
    session: SessionDep, runtime: RuntimeDep, actor: CurrentOrg
) -> list[SigningKeyPublic]:
    """The caller's credential-signing keys."""
    return service.list_signing_keys(session=session, runtime=runtime, issuer=actor)


@router.post("/v1/credentials/keys/rotate", response_model=SigningKeyPublic, dependencies=[_issue])
def rotate_signing_key(
    session: SessionDep,
    runtime: RuntimeDep,
    actor: CurrentOrg,
    now: NowDep,
    body: KeyRotation | None = None,
) -> SigningKeyPublic:
    """Register a new signing key from now and end the current key's validity. The new key
    signs with ``alg`` (EdDSA, ES256, ES384, ES512, SM2SM3), by default the current key's."""
    return service.rotate_signing_key(
        session=session,
        runtime=runtime,
        issuer=actor,
        now=now,
        algorithm=None if body is None else body.alg,
    )


@router.post(
    "/v1/credentials/keys/{key_id}/revoke", response_model=SigningKeyPublic, dependencies=[_status]
)
def revoke_signing_key(
    key_id: KeyId,
    body: KeyRevocation,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: CurrentOrg,
    now: NowDep,
) -> SigningKeyPublic:
    """Revoke a compromised key from a time (possibly in the past)."""
    return service.revoke_signing_key(
        session=session,
        runtime=runtime,
        actor=actor,
        key_id=key_id,
        revoked_at=body.revoked_at,
        now=now,
    )


@router.get("/v1/credential-types", response_model=list[CredentialTypePublic])
def list_credential_types(
    runtime: RuntimeDep, session: SessionDep, context: ContextDep, _actor: CurrentOrg
) -> list[CredentialTypePublic]:
    """The published credential types (built-in and published at run time, by any worker):
    JSON Schema, schema digest committed on chain, where the schema is served."""
    terms = {t.term for t in runtime.types} | set(
        session.exec(select(CredentialTypeRecord.term)).all()
    )
    base = context.settings.issuer_url
    return [type_registry.describe(runtime.types.get(term), base) for term in sorted(terms)]


@router.post(
    "/v1/credential-types",
    status_code=201,
    response_model=PublishedCredentialType,
    dependencies=[Depends(require_scope("types:publish"))],
)
def publish_credential_type(
    body: CredentialTypePublication,
    session: SessionDep,
    runtime: RuntimeDep,
    context: ContextDep,
    actor: CurrentOrg,
) -> PublishedCredentialType:
    """The Ministry publishes a new credential type: its JSON Schema (draft 2020-12; ``$id``
    ``{public base}/schemas/<name>.json``, where it is then served, or
    ``urn:hrss:vct:<name>:<version>``) with the type term, personal identifiers, selectively
    disclosable claims and allowed formats (in the body or as the schema's ``x-hrss-*``
    members). The schema's digest (SHA-256 of its RFC 8785 form) is committed on chain.
    400 ``credential_type_invalid``, 409 ``credential_type_exists``."""
    schema = type_registry.prepare_schema(
        body.schema_,
        term=body.term,
        personal_identifiers=body.personal_identifiers,
        disclosable=body.disclosable,
        formats=body.formats,
    )
    return type_registry.publish_credential_type(
        session=session,
        runtime=runtime,
        actor=actor,
        schema=schema,
        base_url=context.settings.issuer_url,
    )


@router.put("/v1/credential-types/{term}/issuers/{credit_code}", dependencies=[_accredit])
def accredit_credential_type(
    term: TypeTerm,
    credit_code: CreditCode,
    body: TypeAccreditation,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: CurrentOrg,
) -> dict[str, Any]:
    """Allow or disallow an issuer the caller accredited to issue a type, on chain."""
    return service.accredit_credential_type(
        session=session,
        runtime=runtime,
        actor=actor,
        issuer_credit_code=credit_code,
        term=term,
        allowed=body.allowed,
    )
