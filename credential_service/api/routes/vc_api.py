"""The W3C VC API paths: ``/credentials/issue``, ``/credentials/verify`` and
``/presentations/verify``, with the VC API's request and response shapes. Credentials travel
enveloped (``EnvelopedVerifiableCredential`` whose ``id`` is a ``data:application/vc+jwt,``
or ``data:application/vc+sd-jwt,`` URL naming the token's true media type); presentations as
``EnvelopedVerifiablePresentation`` (``data:application/vp+jwt,``,
``data:application/vp+sd-jwt,``, or an SD-JWT with key binding as
``data:application/vc+sd-jwt,``) with ``options.challenge`` as the nonce and
``options.domain`` as the audience.

Issuance answers 201. A credential or presentation that verifies answers 200 with
``verified: true``; one that fails answers 400 with RFC 9457 problem details
(``application/problem+json``) naming the first failed check, and every failed check in
``problemDetails``; bad requests on these paths are problem details too
(`credential_service.api.errors`). The ``/v1`` report routes keep their 200 report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from credential_service.api.deps import CurrentOrg, NowDep, SessionDep, require_scope
from credential_service.api.errors import PROBLEM_JSON, problem_response
from credential_service.api.routes.credentials import RuntimeDep
from credential_service.credentials import service
from credential_service.credentials.models import CredentialRequest
from credential_service.errors import ErrorCode, InvalidInput
from wallet_sdk.credentials import (
    ENVELOPED_VC_TYPE,
    ENVELOPED_VP_TYPE,
    VC_JWT_TYP,
    VC_SD_JWT_TYP,
    VP_JWT_TYP,
    VP_SD_JWT_TYP,
    credential_media_type,
    envelope,
    issuer_uri,
    require_v2_context,
    unenvelope,
    vc_types,
)
from wallet_sdk.errors import FormatError

router = APIRouter(tags=["vc-api"])

_MEDIA_TYPES = {"application/vc+jwt": VC_JWT_TYP, "application/vc+sd-jwt": VC_SD_JWT_TYP}
_CREDENTIAL_TYPS = (VC_JWT_TYP, VC_SD_JWT_TYP)
# An SD-JWT with a key binding JWT is a presentation of one credential.
_PRESENTATION_TYPS = (VP_JWT_TYP, VP_SD_JWT_TYP, VC_SD_JWT_TYP)
_VC_DATA_MODEL = "https://www.w3.org/TR/vc-data-model#"
_PROBLEM_TYPES = {
    "format": "PARSING_ERROR",
    "algorithm_allowlist": "CRYPTOGRAPHIC_SECURITY_ERROR",
    # Not the token the chain registered under this id: its integrity, not its shape.
    "registration": "CRYPTOGRAPHIC_SECURITY_ERROR",
    "key_valid": "CRYPTOGRAPHIC_SECURITY_ERROR",
    "signature": "CRYPTOGRAPHIC_SECURITY_ERROR",
    "holder_binding": "CRYPTOGRAPHIC_SECURITY_ERROR",
    "issuer_accredited": "MALFORMED_VALUE_ERROR",
    "status": "MALFORMED_VALUE_ERROR",
    "anchoring": "MALFORMED_VALUE_ERROR",
    "validity_period": "RANGE_ERROR",
}
_NOT_VERIFIED: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Not verified: RFC 9457 problem details naming the first failed check",
        "content": {PROBLEM_JSON: {}},
    }
}


class IssueCredentialRequest(BaseModel):
    """VC API ``IssueCredentialRequest``."""

    model_config = ConfigDict(extra="forbid")
    credential: dict[str, Any]
    options: dict[str, Any] = Field(default_factory=dict)


class VerifyCredentialRequest(BaseModel):
    """VC API ``VerifyEnvelopedCredentialRequest``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    verifiable_credential: dict[str, Any] = Field(alias="verifiableCredential")
    options: dict[str, Any] = Field(default_factory=dict)


class VerifyPresentationRequest(BaseModel):
    """VC API ``VerifyEnvelopedPresentationRequest``."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    verifiable_presentation: dict[str, Any] = Field(alias="verifiablePresentation")
    options: dict[str, Any] = Field(default_factory=dict)


def _bad(message: str, **detail: Any) -> InvalidInput:
    return InvalidInput(message, code=ErrorCode.VALIDATION_FAILED, detail=detail or None)


def _as_datetime(value: Any, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError as err:
        raise _bad(f"{name} is not an RFC 3339 date-time") from err


def _problems(checks: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [
        {
            "type": _VC_DATA_MODEL + _PROBLEM_TYPES.get(check["check"], "MALFORMED_VALUE_ERROR"),
            "title": check["check"],
            "detail": check["detail"],
        }
        for check in checks
        if check["status"] == "failed"
    ]


def _unenvelope(value: Any, kind: str, accepted: tuple[str, ...]) -> tuple[str, str]:
    try:
        return unenvelope(value, kind, accepted)
    except FormatError as err:
        raise _bad(str(err)) from err


def _not_verified(
    request: Request, what: str, problems: list[dict[str, str]], result: dict[str, Any]
) -> JSONResponse:
    """400 problem details for a credential or presentation that failed verification: the
    first failed check is the problem, every one is in ``problemDetails``."""
    first = (
        problems[0]
        if problems
        else {
            "type": _VC_DATA_MODEL + "PARSING_ERROR",
            "title": "format",
            "detail": "nothing was verified",
        }
    )
    code = (
        ErrorCode.CREDENTIAL_NOT_VERIFIED
        if what == "credential"
        else ErrorCode.PRESENTATION_NOT_VERIFIED
    )
    return problem_response(
        request,
        400,
        code=code,
        message=f"the {what} failed verification: {first['title']}: {first['detail']}",
        problem_type=first["type"],
        title=first["title"],
        extensions=result,
    )


@router.post(
    "/credentials/issue",
    status_code=201,
    dependencies=[Depends(require_scope("credentials:issue"))],
)
def issue_credential(
    body: IssueCredentialRequest,
    session: SessionDep,
    runtime: RuntimeDep,
    actor: CurrentOrg,
    now: NowDep,
) -> dict[str, Any]:
    """Issue an unsecured VC Data Model 2.0 credential as the caller: ``type`` names one
    registered credential type, ``credentialSubject`` its claims; ``issuer`` (optional) must
    be the caller. ``options.mediaType`` picks ``application/vc+jwt`` (default) or
    ``application/vc+sd-jwt`` (then ``options.holderJwk`` is required and
    ``options.disclosable`` lists extra selectively disclosable claims)."""
    credential, options = body.credential, body.options
    try:
        require_v2_context(credential.get("@context"), "credential")
        types = vc_types(credential.get("type"), "VerifiableCredential")
    except FormatError as err:
        raise _bad(str(err)) from err
    terms = [t for t in types if t != "VerifiableCredential"]
    if len(terms) != 1:
        raise _bad("type must name exactly one credential type", type=types)
    issuer = credential.get("issuer")
    if isinstance(issuer, dict):
        issuer = issuer.get("id")
    expected = issuer_uri(bytes.fromhex(actor.ledger_id.removeprefix("0x")))
    if issuer is not None and issuer != expected:
        raise _bad("issuer must be the caller", expected=expected)
    subject = credential.get("credentialSubject")
    if not isinstance(subject, dict):
        raise _bad("credentialSubject must be an object")
    media_type = options.get("mediaType", "application/vc+jwt")
    if media_type not in _MEDIA_TYPES:
        raise _bad("unsupported options.mediaType", supported=sorted(_MEDIA_TYPES))
    request = CredentialRequest(
        type=terms[0],
        format=_MEDIA_TYPES[media_type],
        subject=subject,
        holder_jwk=options.get("holderJwk"),
        disclosable=list(options.get("disclosable", [])),
        valid_from=_as_datetime(credential.get("validFrom"), "validFrom"),
        valid_until=_as_datetime(credential.get("validUntil"), "validUntil"),
    )
    (issued,) = service.issue_credentials(
        session=session, runtime=runtime, issuer=actor, requests=[request], now=now
    )
    return {"verifiableCredential": envelope(issued.credential, issued.format)}


@router.post("/credentials/verify", response_model=None, responses=_NOT_VERIFIED)
def verify_credential(
    body: VerifyCredentialRequest, request: Request, runtime: RuntimeDep, _actor: CurrentOrg
) -> dict[str, Any] | JSONResponse:
    """Verify an enveloped credential: 200 with ``verified: true``, or 400 problem details
    naming the first failed check (``problemDetails`` lists every failed check, ``results``
    the whole report). ``options.asOf`` verifies as of a date."""
    options = body.options
    typ, token = _unenvelope(body.verifiable_credential, ENVELOPED_VC_TYPE, _CREDENTIAL_TYPS)
    if credential_media_type(token) != typ:
        raise _bad(f"the enveloped credential is a {credential_media_type(token)}, not a {typ}")
    report = service.verify_credential(
        runtime=runtime,
        token=token,
        as_of=_as_datetime(options.get("asOf"), "options.asOf"),
        receipt=options.get("anchorReceipt"),
    )
    problems = _problems(report["checks"])
    result: dict[str, Any] = {
        "verified": report["verified"],
        "problemDetails": problems,
        "results": {"verdict": report["verdict"], "checks": report["checks"]},
    }
    if not report["verified"]:
        return _not_verified(request, "credential", problems, result)
    result["credential"] = report["credential"]
    return result


@router.post("/presentations/verify", response_model=None, responses=_NOT_VERIFIED)
def verify_presentation(
    body: VerifyPresentationRequest, request: Request, runtime: RuntimeDep, _actor: CurrentOrg
) -> dict[str, Any] | JSONResponse:
    """Verify an enveloped presentation and every credential in it, bound to
    ``options.challenge`` (nonce) and ``options.domain`` (audience), both required: 200 with
    ``verified: true``, or 400 problem details naming the first failed check."""
    options, verifiable_presentation = body.options, body.verifiable_presentation
    typ, token = _unenvelope(verifiable_presentation, ENVELOPED_VP_TYPE, _PRESENTATION_TYPS)
    if typ == VC_SD_JWT_TYP and token.endswith("~"):
        raise _bad("a vc+sd-jwt presentation ends with its key binding JWT")
    challenge, domain = options.get("challenge"), options.get("domain")
    if not isinstance(challenge, str) or not challenge or not isinstance(domain, str) or not domain:
        raise _bad("options.challenge and options.domain are required")
    report = service.verify_presentation(
        runtime=runtime,
        token=token,
        nonce=challenge,
        audience=domain,
        as_of=_as_datetime(options.get("asOf"), "options.asOf"),
        receipts=options.get("anchorReceipts", []),
    )
    checks = list(report["checks"])
    for credential in report["credentials"]:
        checks.extend(credential["checks"])
    problems = _problems(checks)
    binding = [c for c in checks if c["check"] == "holder_binding"]
    holder_valid = bool(binding) and all(c["status"] == "passed" for c in binding)
    failed_binding = " ".join(c["detail"] for c in binding if c["status"] == "failed")
    result: dict[str, Any] = {
        "verified": report["verified"],
        "problemDetails": problems,
        "results": {
            "verdict": report["verdict"],
            "challenge": {
                "valid": holder_valid or "nonce" not in failed_binding,
                "input": challenge,
            },
            "domain": {"valid": holder_valid or "audience" not in failed_binding, "input": domain},
            "holder": {"valid": holder_valid},
            "proof": [
                {"valid": all(c["status"] != "failed" for c in credential["checks"])}
                for credential in report["credentials"]
            ],
        },
    }
    if options.get("returnPresentation") is True:
        result["verifiablePresentation"] = verifiable_presentation
    if not report["verified"]:
        return _not_verified(request, "presentation", problems, result)
    return result
