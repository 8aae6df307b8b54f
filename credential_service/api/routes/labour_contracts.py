"""Electronic labour contracts: employers (``contracts:write``) upload, sign, amend, renew and
terminate; employees (cardholder token) review, sign and terminate; both fetch the document,
the evidence package and its printable report."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, UploadFile
from fastapi.responses import Response
from sqlmodel import Session

from credential_service.api.deps import (
    ContextDep,
    CurrentCardholder,
    CurrentOrg,
    NowDep,
    SessionDep,
    require_scope,
)
from credential_service.api.errors import invalid_field
from credential_service.cards.service import holder_predecessors
from credential_service.errors import ErrorCode, Forbidden, InvalidInput
from credential_service.labour import service
from credential_service.labour.models import (
    ContractPublic,
    ContractTerms,
    LabourContract,
    NewVersionTerms,
    SignatureSubmission,
    TerminationRequest,
)
from credential_service.labour.report import render_report_pdf
from credential_service.labour.service import LabourDesk
from credential_service.login.service import Cardholder
from credential_service.services.registry import describe_issuer
from wallet_sdk.errors import FormatError, JsonTooDeep
from wallet_sdk.evidence import Role, verify_evidence
from wallet_sdk.nesting import load_json

router = APIRouter(tags=["labour contracts"])

ContractId = Annotated[
    str, Path(pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
]
_employer = Depends(require_scope("contracts:write"))
_NO_STORE = {"Cache-Control": "no-store"}


def get_labour_desk(request: Request, context: ContextDep) -> LabourDesk:
    """Built once per app (tests may set ``app.state.labour_desk`` beforehand)."""
    desk: LabourDesk | None = getattr(request.app.state, "labour_desk", None)
    if desk is None:
        desk = service.desk_of_service(context)
        request.app.state.labour_desk = desk
    return desk


DeskDep = Annotated[LabourDesk, Depends(get_labour_desk)]

_TERMS_DOC = (
    "JSON object, sent as a text form field: `employee_holder` (the employee's wallet holder "
    "address, 0x + 40 hex), `employee_did` (the employee's did:jwk, from `hrss-wallet whoami`), "
    "`employee_name` and `employee_id_number` (the employee as on their e-card: sealed at rest, "
    "only their salted commitment enters the records; only that cardholder can sign), "
    "`hr_operator` (who acts for the employer, 1-200 characters) and `key_terms` (1-64 "
    "position, term, wage... values, strings or integers; encrypted at rest, only their "
    "salted commitment enters the records)."
)
_TERMS_EXAMPLE = {
    "employee_holder": "0x5B38Da6a701c568545dCfcB03FcB875f56beddC4",
    "employee_did": "did:jwk:eyJjcnYiOiJFZDI1NTE5Iiwia3R5IjoiT0tQIiwieCI6IjExcXlTeGh4TEc"
    "3LVpMa0NWRGNOSDZjS1ZEWmV5dXNXTjU3Nmd0ZUpOQkkifQ",
    "employee_name": "王小明",
    "employee_id_number": "440305199001010018",
    "hr_operator": "人事经理 陈静 (HR-007)",
    "key_terms": {
        "position": "后端工程师",
        "term": "2027-01-01/2029-12-31",
        "monthly_wage_fen": 2500000,
    },
}
_VERSION_TERMS_DOC = (
    "JSON object, sent as a text form field: `relation` (`amendment` 变更 or `renewal` 续订), "
    "`hr_operator` (who acts for the employer) and `key_terms` of the new version (strings or "
    "integers)."
)
_VERSION_TERMS_EXAMPLE = {
    "relation": "amendment",
    "hr_operator": "人事经理 陈静 (HR-007)",
    "key_terms": {"workplace": "广州市天河区"},
}


def _seconds(now: Any) -> int:
    return int(now.timestamp())


def _parse(model: Any, text: str) -> Any:
    """The ``terms`` form field as ``model``; ``InvalidInput`` (``validation_failed``) in our
    words otherwise (`invalid_field`)."""
    try:
        return model.model_validate(load_json(text, what="the terms document"))
    except JsonTooDeep as err:
        raise InvalidInput(str(err), code=ErrorCode.TOO_DEEP, detail={"limit": err.limit}) from err
    except (FormatError, ValueError) as err:  # pydantic's ValidationError included
        raise invalid_field("terms", err) from err


def _public(session: Session, desk: LabourDesk, contract: LabourContract, terms: bool) -> Any:
    return service.contract_public(
        session=session, desk=desk, contract=contract, include_key_terms=terms
    )


def _cardholder(cardholder: Cardholder) -> str:
    if "me:read" not in cardholder.scopes:
        raise Forbidden("this needs the me:read scope", code=ErrorCode.SCOPE_MISSING)
    return cardholder.address


def _document_response(document: service.StoredDocument) -> Response:
    return Response(
        content=document.content,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="contract-v{document.version}"',
            "X-Document-Media-Type": document.media_type,
            "X-Document-Digest": document.digest,
            **_NO_STORE,
        },
    )


def _evidence_response(
    session: Session, desk: LabourDesk, contract: LabourContract, disclose: bool, now: int
) -> Response:
    package = service.evidence_package(
        session=session, desk=desk, contract=contract, disclose_key_terms=disclose, now=now
    )
    return Response(
        content=package.to_json(),
        media_type="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{contract.id}.json"',
            **_NO_STORE,
        },
    )


def _report_response(
    session: Session, desk: LabourDesk, contract: LabourContract, base_url: str, now: int
) -> Response:
    package = service.evidence_package(
        session=session, desk=desk, contract=contract, disclose_key_terms=False, now=now
    )
    report = verify_evidence(
        package,
        None,
        desk.chain,
        anchor_registry=desk.anchor_registry,
        trust_registry=desk.trust_registry,
        strict=False,
        card_verifier=desk.card_verifier,
    )
    issuer_name = None
    if report.employee_identity is not None:
        issuer = describe_issuer(session=session, entity_id=report.employee_identity.card_issuer_id)
        issuer_name = issuer["name"]
    pdf = render_report_pdf(
        package, report, base_url=base_url, now=now, card_issuer_name=issuer_name
    )
    return Response(
        content=pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="evidence-{contract.id}.pdf"',
            **_NO_STORE,
        },
    )


# ---------------------------------------------------------------------------- employers


@router.post(
    "/v1/labour-contracts", status_code=201, response_model=ContractPublic, dependencies=[_employer]
)
def create_contract(
    session: SessionDep,
    desk: DeskDep,
    employer: CurrentOrg,
    now: NowDep,
    document: Annotated[UploadFile, File(description="the contract document (PDF or any file)")],
    terms: Annotated[
        str,
        Form(
            description=_TERMS_DOC,
            examples=[json.dumps(_TERMS_EXAMPLE, ensure_ascii=False)],
        ),
    ],
) -> Any:
    """Upload a contract; the employer's ``employer_signed`` record is then pending."""
    contract = service.create_contract(
        session=session,
        desk=desk,
        employer=employer,
        terms=_parse(ContractTerms, terms),
        document=document.file.read(),
        media_type=document.content_type or "application/octet-stream",
        filename=document.filename or "contract",
        now=_seconds(now),
    )
    return _public(session, desk, contract, True)


@router.get("/v1/labour-contracts", response_model=list[ContractPublic], dependencies=[_employer])
def list_contracts(session: SessionDep, desk: DeskDep, employer: CurrentOrg) -> Any:
    return [
        _public(session, desk, c, False)
        for c in service.list_for_employer(session=session, employer=employer)
    ]


def _employer_contract(session: Session, employer: Any, contract_id: str) -> LabourContract:
    return service.contract_for_employer(
        session=session, employer=employer, contract_id=contract_id
    )


@router.get(
    "/v1/labour-contracts/{contract_id}", response_model=ContractPublic, dependencies=[_employer]
)
def get_contract(
    session: SessionDep, desk: DeskDep, employer: CurrentOrg, contract_id: ContractId
) -> Any:
    return _public(session, desk, _employer_contract(session, employer, contract_id), True)


@router.post(
    "/v1/labour-contracts/{contract_id}/signature",
    response_model=ContractPublic,
    dependencies=[_employer],
)
def employer_signature(
    session: SessionDep,
    desk: DeskDep,
    employer: CurrentOrg,
    now: NowDep,
    contract_id: ContractId,
    body: SignatureSubmission,
) -> Any:
    """The employer's signature of its pending record (offer or termination)."""
    contract = service.submit_signature(
        session=session,
        desk=desk,
        contract=_employer_contract(session, employer, contract_id),
        role=Role.EMPLOYER,
        jws=body.jws,
        now=_seconds(now),
        card_proof=body.card_proof,
    )
    return _public(session, desk, contract, False)


@router.post(
    "/v1/labour-contracts/{contract_id}/versions",
    status_code=201,
    response_model=ContractPublic,
    dependencies=[_employer],
)
def new_version(
    session: SessionDep,
    desk: DeskDep,
    employer: CurrentOrg,
    now: NowDep,
    contract_id: ContractId,
    document: Annotated[UploadFile, File()],
    terms: Annotated[
        str,
        Form(
            description=_VERSION_TERMS_DOC,
            examples=[json.dumps(_VERSION_TERMS_EXAMPLE, ensure_ascii=False)],
        ),
    ],
) -> Any:
    """Amend (变更) or renew (续订) an effective contract with a new document version."""
    contract = service.prepare_new_version(
        session=session,
        desk=desk,
        employer=employer,
        contract_id=contract_id,
        terms=_parse(NewVersionTerms, terms),
        document=document.file.read(),
        media_type=document.content_type or "application/octet-stream",
        filename=document.filename or "contract",
        now=_seconds(now),
    )
    return _public(session, desk, contract, True)


@router.post(
    "/v1/labour-contracts/{contract_id}/termination",
    response_model=ContractPublic,
    dependencies=[_employer],
)
def employer_termination(
    session: SessionDep,
    desk: DeskDep,
    employer: CurrentOrg,
    now: NowDep,
    contract_id: ContractId,
    body: TerminationRequest,
) -> Any:
    """Prepare the employer's termination record (then sign it at ``/signature``)."""
    contract = service.prepare_termination(
        session=session,
        contract=_employer_contract(session, employer, contract_id),
        by=Role.EMPLOYER,
        request=body,
        now=_seconds(now),
    )
    return _public(session, desk, contract, False)


@router.get("/v1/labour-contracts/{contract_id}/document", dependencies=[_employer])
def employer_document(
    session: SessionDep,
    desk: DeskDep,
    employer: CurrentOrg,
    contract_id: ContractId,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    contract = _employer_contract(session, employer, contract_id)
    return _document_response(
        service.document_of(session=session, desk=desk, contract=contract, version=version)
    )


@router.get("/v1/labour-contracts/{contract_id}/evidence", dependencies=[_employer])
def employer_evidence(
    session: SessionDep,
    desk: DeskDep,
    employer: CurrentOrg,
    now: NowDep,
    contract_id: ContractId,
    disclose_key_terms: bool = False,
) -> Response:
    """The ``hrss-evidence/1`` package (JSON file)."""
    contract = _employer_contract(session, employer, contract_id)
    return _evidence_response(session, desk, contract, disclose_key_terms, _seconds(now))


@router.get("/v1/labour-contracts/{contract_id}/report.pdf", dependencies=[_employer])
def employer_report(
    request: Request,
    session: SessionDep,
    desk: DeskDep,
    context: ContextDep,
    employer: CurrentOrg,
    now: NowDep,
    contract_id: ContractId,
) -> Response:
    """The printable report, with a QR code to the verification page."""
    contract = _employer_contract(session, employer, contract_id)
    return _report_response(session, desk, contract, context.settings.issuer_url, _seconds(now))


# ---------------------------------------------------------------------------- employees


def _employee_contract(
    session: Session, cardholder: Cardholder, contract_id: str
) -> LabourContract:
    holder = _cardholder(cardholder)
    return service.contract_for_employee(
        session=session,
        holder=holder,
        contract_id=contract_id,
        earlier=holder_predecessors(session=session, holder=holder),
    )


@router.get("/v1/me/labour-contracts", response_model=list[ContractPublic])
def my_contracts(session: SessionDep, desk: DeskDep, cardholder: CurrentCardholder) -> Any:
    """The cardholder's contracts, and those signed with the person's earlier phones
    (``earlier_phone``)."""
    holder = _cardholder(cardholder)
    earlier = holder_predecessors(session=session, holder=holder)
    return [
        _public(session, desk, c, False).model_copy(
            update={"earlier_phone": c.employee_holder != holder.lower()}
        )
        for c in service.list_for_employee(session=session, holder=holder, earlier=earlier)
    ]


@router.get("/v1/me/labour-contracts/{contract_id}", response_model=ContractPublic)
def my_contract(
    session: SessionDep, desk: DeskDep, cardholder: CurrentCardholder, contract_id: ContractId
) -> Any:
    """The contract to review, key terms included (decrypted for its parties only)."""
    return _public(session, desk, _employee_contract(session, cardholder, contract_id), True)


@router.post("/v1/me/labour-contracts/{contract_id}/signature", response_model=ContractPublic)
def employee_signature(
    session: SessionDep,
    desk: DeskDep,
    cardholder: CurrentCardholder,
    now: NowDep,
    contract_id: ContractId,
    body: SignatureSubmission,
) -> Any:
    """The employee's signature (from the wallet) of the pending record. An acceptance
    carries ``card_proof``, the e-card proof bound to the record: 400 ``card_proof_required``
    / ``card_proof_invalid``, 403 ``card_not_active`` (lost, cancelled, replaced) or
    ``employee_mismatch`` (not the employee the contract names, or a card bound to another
    key)."""
    contract = service.submit_signature(
        session=session,
        desk=desk,
        contract=_employee_contract(session, cardholder, contract_id),
        role=Role.EMPLOYEE,
        jws=body.jws,
        now=_seconds(now),
        card_proof=body.card_proof,
    )
    return _public(session, desk, contract, False)


@router.post("/v1/me/labour-contracts/{contract_id}/termination", response_model=ContractPublic)
def employee_termination(
    session: SessionDep,
    desk: DeskDep,
    cardholder: CurrentCardholder,
    now: NowDep,
    contract_id: ContractId,
    body: TerminationRequest,
) -> Any:
    """Prepare the employee's termination record (then sign it at ``/signature``)."""
    contract = service.prepare_termination(
        session=session,
        contract=_employee_contract(session, cardholder, contract_id),
        by=Role.EMPLOYEE,
        request=body,
        now=_seconds(now),
    )
    return _public(session, desk, contract, False)


@router.get("/v1/me/labour-contracts/{contract_id}/document")
def my_document(
    session: SessionDep,
    desk: DeskDep,
    cardholder: CurrentCardholder,
    contract_id: ContractId,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    contract = _employee_contract(session, cardholder, contract_id)
    return _document_response(
        service.document_of(session=session, desk=desk, contract=contract, version=version)
    )


@router.get("/v1/me/labour-contracts/{contract_id}/evidence")
def my_evidence(
    session: SessionDep,
    desk: DeskDep,
    cardholder: CurrentCardholder,
    now: NowDep,
    contract_id: ContractId,
    disclose_key_terms: bool = False,
) -> Response:
    contract = _employee_contract(session, cardholder, contract_id)
    return _evidence_response(session, desk, contract, disclose_key_terms, _seconds(now))


@router.get("/v1/me/labour-contracts/{contract_id}/report.pdf")
def my_report(
    session: SessionDep,
    desk: DeskDep,
    context: ContextDep,
    cardholder: CurrentCardholder,
    now: NowDep,
    contract_id: ContractId,
) -> Response:
    contract = _employee_contract(session, cardholder, contract_id)
    return _report_response(session, desk, contract, context.settings.issuer_url, _seconds(now))
