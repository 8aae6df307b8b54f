"""The W3C VC API paths: ``/credentials/issue``, ``/credentials/verify`` and
``/presentations/verify``, with the VC API's request and response shapes. Credentials travel
enveloped (``EnvelopedVerifiableCredential`` whose ``id`` is a ``data:application/vc+jwt,``
or ``data:application/vc+sd-jwt,`` URL); presentations as ``EnvelopedVerifiablePresentation``
(``data:application/vp+jwt,``, or an SD-JWT with key binding as ``data:application/vc+sd-jwt,``)
with ``options.challenge`` as the nonce and ``options.domain`` as the audience."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from credential_service.api.deps import CurrentOrg, NowDep, SessionDep, require_scope
from credential_service.api.routes.credentials import RuntimeDep
from credential_service.credentials import service
from credential_service.credentials.models import CredentialRequest
from credential_service.errors import ErrorCode, InvalidInput
from wallet_sdk.credentials import (
    ENVELOPED_VC_PREFIX,
    VC_JWT_TYP,
    VC_SD_JWT_TYP,
    issuer_uri,
)

router = APIRouter(tags=["vc-api"])

VC_CONTEXT_V2 = "https://www.w3.org/ns/credentials/v2"
_SD_PREFIX = "data:application/vc+sd-jwt,"
_VP_PREFIX = "data:application/vp+jwt,"
_MEDIA_TYPES = {"application/vc+jwt": VC_JWT_TYP, "application/vc+sd-jwt": VC_SD_JWT_TYP}
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
            "type": "https://www.w3.org/TR/vc-data-model#"
            + _PROBLEM_TYPES.get(check["check"], "MALFORMED_VALUE_ERROR"),
            "title": check["check"],
            "detail": check["detail"],
        }
        for check in checks
        if check["status"] == "failed"
    ]


def _unenvelope(value: Any, prefixes: tuple[str, ...], kind: str) -> str:
    if not isinstance(value, dict) or value.get("type") != kind:
        raise _bad(f"only {kind} objects are accepted (JOSE-secured, no embedded proofs)")
    envelope_id = value.get("id")
    for prefix in prefixes:
        if isinstance(envelope_id, str) and envelope_id.startswith(prefix):
            return envelope_id[len(prefix) :]
    raise _bad(f"{kind} id must start with one of {list(prefixes)}")


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
    context = credential.get("@context")
    if not isinstance(context, list) or not context or context[0] != VC_CONTEXT_V2:
        raise _bad(f"@context must start with {VC_CONTEXT_V2}")
    types = credential.get("type")
    if not isinstance(types, list) or "VerifiableCredential" not in types:
        raise _bad("type must include VerifiableCredential")
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
        format=_MEDIA_TYPES[media_type],  # type: ignore[arg-type]
        subject=subject,
        holder_jwk=options.get("holderJwk"),
        disclosable=list(options.get("disclosable", [])),
        valid_from=_as_datetime(credential.get("validFrom"), "validFrom"),
        valid_until=_as_datetime(credential.get("validUntil"), "validUntil"),
    )
    (issued,) = service.issue_credentials(
        session=session, runtime=runtime, issuer=actor, requests=[request], now=now
    )
    prefix = ENVELOPED_VC_PREFIX if issued.format == VC_JWT_TYP else _SD_PREFIX
    return {
        "verifiableCredential": {
            "@context": VC_CONTEXT_V2,
            "id": prefix + issued.credential,
            "type": "EnvelopedVerifiableCredential",
        }
    }


@router.post("/credentials/verify")
def verify_credential(
    body: VerifyCredentialRequest, runtime: RuntimeDep, _actor: CurrentOrg
) -> dict[str, Any]:
    """Verify an enveloped credential. 200 whatever the outcome; ``verified`` says it, and
    ``problemDetails`` names every failed check. ``options.asOf`` verifies as of a date."""
    options = body.options
    token = _unenvelope(
        body.verifiable_credential,
        (ENVELOPED_VC_PREFIX, _SD_PREFIX),
        "EnvelopedVerifiableCredential",
    )
    report = service.verify_credential(
        runtime=runtime,
        token=token,
        as_of=_as_datetime(options.get("asOf"), "options.asOf"),
        receipt=options.get("anchorReceipt"),
    )
    result: dict[str, Any] = {
        "verified": report["verified"],
        "problemDetails": _problems(report["checks"]),
        "results": {"checks": report["checks"]},
    }
    if report["verified"]:
        result["credential"] = report["credential"]
    return result


@router.post("/presentations/verify")
def verify_presentation(
    body: VerifyPresentationRequest, runtime: RuntimeDep, _actor: CurrentOrg
) -> dict[str, Any]:
    """Verify an enveloped presentation and every credential in it, bound to
    ``options.challenge`` (nonce) and ``options.domain`` (audience), both required."""
    options, verifiable_presentation = body.options, body.verifiable_presentation
    token = _unenvelope(
        verifiable_presentation, (_VP_PREFIX, _SD_PREFIX), "EnvelopedVerifiablePresentation"
    )
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
    binding = [c for c in checks if c["check"] == "holder_binding"]
    holder_valid = bool(binding) and all(c["status"] == "passed" for c in binding)
    failed_binding = " ".join(c["detail"] for c in binding if c["status"] == "failed")
    result: dict[str, Any] = {
        "verified": report["verified"],
        "problemDetails": _problems(checks),
        "results": {
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
    return result
