"""Evidence verification for courts and arbitration commissions: the page at ``/verify`` and
``POST /v1/evidence/verify``. Both are public: verifying reads only the chain and what the
clerk uploads, and discloses nothing the service holds."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import JSONResponse, Response

from credential_service.api.routes.credentials import issuer_names_of
from credential_service.api.routes.labour_contracts import DeskDep
from credential_service.errors import ErrorCode, InvalidInput, NotFound
from credential_service.observability import record_verification
from credential_service.web import STATIC_FILES, static_file
from wallet_sdk.errors import JsonTooDeep
from wallet_sdk.evidence import REASON_TEXTS, verify_evidence
from wallet_sdk.nesting import check_json_depth

router = APIRouter(tags=["evidence"])

# The page loads its own script and style only; nothing inline, nothing from elsewhere.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def _static(name: str) -> Response:
    try:
        content = static_file(name).read_bytes()
    except KeyError as err:
        raise NotFound("no such file", code=ErrorCode.NOT_FOUND) from err
    return Response(
        content=content,
        media_type=STATIC_FILES[name],
        headers={**PAGE_HEADERS, "Cache-Control": "no-cache"},
    )


# HEAD answers as GET does (headers, no body): link checkers and proxies probe with it.
@router.api_route("/verify", methods=["GET", "HEAD"], include_in_schema=False)
def verification_page() -> Response:
    """The verification page for court clerks (Chinese; ``?lang=en`` for English)."""
    return _static("verify.html")


@router.api_route("/verify/static/{name}", methods=["GET", "HEAD"], include_in_schema=False)
def verification_asset(name: str) -> Response:
    return _static(name)


@router.api_route("/verify/reasons.json", methods=["GET", "HEAD"], include_in_schema=False)
def verification_reasons() -> Response:
    """The reason catalogue (`wallet_sdk.evidence.REASON_TEXTS`) the page translates each
    check's reason code with, in Chinese and English."""
    catalogue = {code: dict(texts) for code, texts in REASON_TEXTS.items()}
    return JSONResponse(catalogue, headers={**PAGE_HEADERS, "Cache-Control": "no-cache"})


@router.post("/v1/evidence/verify")
def verify(
    request: Request,
    desk: DeskDep,
    package: Annotated[UploadFile, File(description="hrss-evidence/1 JSON")],
    document: Annotated[UploadFile | None, File(description="the contract document")] = None,
) -> Any:
    """Verify an evidence package, and the document when given, against the chain: the
    report of named checks, verdict and timeline (`wallet_sdk.evidence.verify_evidence`).
    When the employee's e-card was verified, ``employee_identity`` names the employee (name,
    masked ID number) and the card issuer (its id on chain and this registry's name)."""
    package_bytes = package.file.read()
    if not package_bytes:
        raise InvalidInput("the evidence package is empty", code=ErrorCode.VALIDATION_FAILED)
    try:
        check_json_depth(package_bytes, what="the evidence package")
    except JsonTooDeep as err:
        raise InvalidInput(str(err), code=ErrorCode.TOO_DEEP, detail={"limit": err.limit}) from err
    document_bytes = document.file.read() if document is not None else None
    report = verify_evidence(
        package_bytes,
        document_bytes,
        desk.chain,
        anchor_registry=desk.anchor_registry,
        trust_registry=desk.trust_registry,
        strict=False,
        card_verifier=desk.card_verifier,
    )
    result = record_verification("evidence", report.to_dict())  # metrics by check
    if report.employee_identity is not None:
        issuer = issuer_names_of(request)(report.employee_identity.card_issuer_id)
        result["employee_identity"]["card_issuer_name"] = issuer.get("name")
    return JSONResponse(result, headers={**PAGE_HEADERS, "Cache-Control": "no-store"})
