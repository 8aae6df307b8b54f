"""Electronic labour contracts (电子劳动合同), after the 2021 MOHRSS signing guideline: the
employer uploads and signs, the employee reviews and signs in the wallet, the contract takes
effect only when both have signed; amendment, renewal and termination follow, each a signed
record anchored on chain; both parties can fetch the contract and its evidence at any time.

Every action is two steps: the service *prepares* the record the acting party must sign
(``pending``), then the party *submits* its signature. The party chooses the signing time
(the JWS ``iat``, within `MAX_CLOCK_SKEW` of the service's clock); the service rebuilds the
record with it, checks the signature (an employer's key must be registered to it on chain and
valid now), stores the event and submits its event digest for anchoring.

Domain functions with keyword-only arguments over a `Session`; no HTTP here. They raise
`InvalidInput`, `NotFound` (a contract of another tenant is indistinguishable from a missing
one), `Conflict` (the action does not fit the contract's state) and `Forbidden`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from credential_service.anchoring.models import AnchorState
from credential_service.anchoring.outbox import NewItem
from credential_service.anchoring.service import anchor_statuses, submit_digests
from credential_service.errors import (
    Conflict,
    ErrorCode,
    Forbidden,
    InvalidInput,
    NotFound,
    ServiceError,
)
from credential_service.labour.models import (
    ContractPublic,
    ContractState,
    ContractTerms,
    EventPublic,
    LabourContract,
    LabourContractEvent,
    LabourContractVersion,
    NewVersionTerms,
    PendingSignature,
    TerminationRequest,
    VersionPublic,
)
from credential_service.models import Organisation, as_utc
from credential_service.sealing import SealAlgorithm, SealBroken, open_sealed, seal
from wallet_sdk.credentials import CredentialVerifier
from wallet_sdk.credentials.card_proof import identity_commitment, new_commitment_salt
from wallet_sdk.errors import FormatError, VerificationError, WalletError
from wallet_sdk.evidence import (
    EVENT_RECORD_TYPE,
    EVENT_RECORD_TYPE_NAMED_DIGEST,
    AccreditationLink,
    ContractDocument,
    EmployerRef,
    EventKind,
    EventRecord,
    EventSignature,
    EvidenceChainView,
    EvidenceEvent,
    EvidencePackage,
    KeyTerms,
    KeyTermsDisclosure,
    Relation,
    Role,
    verify_employee_proof,
    verify_event_signature,
    verify_evidence,
)
from wallet_sdk.jose import b64url_decode
from wallet_sdk.merkle import HashAlgorithm
from wallet_sdk.nesting import load_json
from wallet_sdk.receipt import AnchorReceipt

if TYPE_CHECKING:
    from credential_service.context import ServiceContext

__all__ = [
    "DOCUMENT_TYPE",
    "MAX_CLOCK_SKEW",
    "MAX_DOCUMENT_BYTES",
    "LabourDesk",
    "StoredDocument",
    "contract_for_employee",
    "contract_for_employer",
    "contract_public",
    "create_contract",
    "document_of",
    "evidence_package",
    "list_for_employee",
    "list_for_employer",
    "prepare_new_version",
    "prepare_termination",
    "seal_document",
    "submit_signature",
]

DOCUMENT_TYPE = "labour_contract_event"
MAX_CLOCK_SKEW = 300
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
GENERATOR = "hrss-trust credential service 0.1.0"
_KEY_TERMS_INFO = b"hrss-labour-key-terms/1"
_EMPLOYEE_INFO = b"hrss-labour-employee/1"
_DOCUMENT_INFO = b"hrss-labour-document/1"
_KINDS = {1: "ministry", 2: "province", 3: "issuer", 4: "employer", 5: "data_user", 6: "court"}
_STATUSES = {0: "none", 1: "active", 2: "suspended", 3: "revoked"}
_ROLES = ("employer", "province", "ministry")


@dataclass(frozen=True)
class LabourDesk:
    """What the workflow needs besides the database: the chain (read only), the trusted
    registries, and the secret that seals key terms at rest. Built by the API layer."""

    chain: EvidenceChainView
    chain_id: int
    trust_registry: str
    anchor_registry: str
    key_terms_secret: bytes
    chain_time: Callable[[], int]
    """Timestamp of the chain's latest block: keys are checked valid at the later of it and
    the service's clock (an in-process chain runs ahead of the wall clock)."""
    card_verifier: CredentialVerifier | None = None
    """Verifies the employee's e-card proofs against the same registries (status read from
    the chain on every call); without one no acceptance is taken."""
    seal_algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM
    """What new key terms and documents are sealed with (the profile's; both open)."""
    hash_algorithm: HashAlgorithm = HashAlgorithm.SHA256
    """The hash of new versions: document digest, key-terms commitment, records and event
    digests (the profile's; a version keeps the hash it was made with)."""


# ---------------------------------------------------------------------------- helpers


def _utc(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _hex(value: bytes) -> str:
    return "0x" + bytes(value).hex()


def _not_found(contract_id: str) -> NotFound:
    return NotFound("no such labour contract", code=ErrorCode.NOT_FOUND, detail={"id": contract_id})


def _conflict(message: str) -> Conflict:
    return Conflict(message, code=ErrorCode.STATUS_TRANSITION_INVALID)


def _seal(desk: LabourDesk, contract_id: str, version: int, terms: KeyTerms) -> bytes:
    plaintext = json.dumps(terms.to_dict(), sort_keys=True, ensure_ascii=False).encode()
    aad = f"{contract_id}:{version}".encode()
    return seal(
        desk.key_terms_secret,
        plaintext,
        info=_KEY_TERMS_INFO,
        aad=aad,
        algorithm=desk.seal_algorithm,
    )


def seal_document(
    secret: bytes,
    *,
    contract_id: str,
    version: int,
    document: bytes,
    algorithm: SealAlgorithm = SealAlgorithm.AES_256_GCM,
) -> bytes:
    """A version's document sealed at rest with the key-terms secret (its own HKDF ``info``),
    bound to the contract and version."""
    aad = f"{contract_id}:{version}".encode()
    return seal(secret, document, info=_DOCUMENT_INFO, aad=aad, algorithm=algorithm)


def open_document(secret: bytes, *, contract_id: str, version: int, sealed: bytes) -> bytes:
    """The document `seal_document` sealed. Raises ``ServiceError`` when the seal does not
    open (another secret, another contract or version, damage)."""
    aad = f"{contract_id}:{version}".encode()
    try:
        return open_sealed(secret, bytes(sealed), info=_DOCUMENT_INFO, aad=aad)
    except SealBroken as err:
        raise ServiceError("the sealed contract document cannot be opened") from err


def _unseal(desk: LabourDesk, row: LabourContractVersion) -> KeyTerms:
    aad = f"{row.contract_id}:{row.version}".encode()
    try:
        plaintext = open_sealed(
            desk.key_terms_secret, bytes(row.key_terms_sealed), info=_KEY_TERMS_INFO, aad=aad
        )
    except SealBroken as err:
        raise ServiceError("the sealed key terms cannot be opened") from err
    data = json.loads(plaintext)
    return KeyTerms(terms=data["terms"], salt=bytes.fromhex(data["salt"][2:]))


def _name_employee(
    desk: LabourDesk, contract_id: str, name: str, id_number: str
) -> tuple[bytes, str]:
    """The named employee sealed at rest (name, ID number and the commitment's salt) and the
    commitment the offers carry. Raises `InvalidInput` (``employee_identity_invalid``)."""
    salt = new_commitment_salt()
    try:
        commitment = "0x" + identity_commitment({"name": name, "idNumber": id_number}, salt)
    except FormatError as err:
        raise InvalidInput(str(err), code=ErrorCode.EMPLOYEE_IDENTITY_INVALID) from err
    plaintext = json.dumps(
        {"name": name, "idNumber": id_number, "salt": salt}, ensure_ascii=False
    ).encode()
    sealed = seal(desk.key_terms_secret, plaintext, info=_EMPLOYEE_INFO, aad=contract_id.encode())
    return sealed, commitment


def _named_employee(desk: LabourDesk, contract: LabourContract) -> dict[str, str]:
    """The named employee (``name``, ``idNumber``, ``salt``), unsealed. Raises `Conflict` for
    a contract created before employees were named, ``ServiceError`` when the seal does not
    open."""
    if contract.employee_identity_sealed is None:
        raise _conflict("the contract names no employee by name and ID number")
    try:
        plaintext = open_sealed(
            desk.key_terms_secret,
            bytes(contract.employee_identity_sealed),
            info=_EMPLOYEE_INFO,
            aad=contract.id.encode(),
        )
    except SealBroken as err:
        raise ServiceError("the sealed employee identity cannot be opened") from err
    named: dict[str, str] = json.loads(plaintext)
    return named


def _key_terms(values: Mapping[str, str | int]) -> KeyTerms:
    try:
        return KeyTerms.new(values)
    except FormatError as err:
        raise InvalidInput(str(err), code=ErrorCode.VALIDATION_FAILED) from err


def _check_document(document: bytes, media_type: str, filename: str) -> None:
    if not document:
        raise InvalidInput("the contract document is empty", code=ErrorCode.VALIDATION_FAILED)
    if len(document) > MAX_DOCUMENT_BYTES:
        raise InvalidInput("the contract document is too large", code=ErrorCode.VALIDATION_FAILED)
    if len(media_type) > 127 or len(filename) > 255:
        raise InvalidInput("media type or file name too long", code=ErrorCode.VALIDATION_FAILED)


def _versions(session: Session, contract_id: str) -> list[LabourContractVersion]:
    return list(
        session.exec(
            select(LabourContractVersion)
            .where(LabourContractVersion.contract_id == contract_id)
            .order_by(col(LabourContractVersion.version))
        ).all()
    )


def _events(session: Session, contract_id: str) -> list[LabourContractEvent]:
    return list(
        session.exec(
            select(LabourContractEvent)
            .where(LabourContractEvent.contract_id == contract_id)
            .order_by(col(LabourContractEvent.sequence))
        ).all()
    )


def _version(session: Session, contract_id: str, version: int) -> LabourContractVersion:
    row = session.exec(
        select(LabourContractVersion).where(
            LabourContractVersion.contract_id == contract_id,
            LabourContractVersion.version == version,
        )
    ).first()
    if row is None:
        raise _not_found(contract_id)
    return row


def _record_template(
    session: Session, contract: LabourContract, event: EventKind, version: int, **extra: Any
) -> dict[str, Any]:
    """The record to sign, as a dict; ``at`` is filled in from the signature's ``iat``."""
    events = _events(session, contract.id)
    row = _version(session, contract.id, version)
    # The record format is the version's hash's: SHA-256 records are /1, others name theirs.
    algorithm = HashAlgorithm.from_name(row.digest_alg)
    named = (
        {}
        if algorithm is HashAlgorithm.SHA256
        else {"type": EVENT_RECORD_TYPE_NAMED_DIGEST, "digest_alg": algorithm.value}
    )
    return {
        "type": EVENT_RECORD_TYPE,
        "contract_id": contract.id,
        "sequence": len(events),
        "previous": events[-1].record_digest if events else None,
        "event": event.value,
        "version": version,
        "document_digest": row.document_digest,
        "key_terms_commitment": row.key_terms_commitment,
        "at": 0,
        **named,
        **extra,
    }


def _set_pending(contract: LabourContract, role: Role, template: dict[str, Any], now: int) -> None:
    contract.pending = {"role": role.value, "record": template, "prepared_at": now}
    contract.updated_at = _utc(now)


def _offer_template(
    session: Session,
    contract: LabourContract,
    employer: Organisation,
    version: LabourContractVersion,
) -> dict[str, Any]:
    supersedes = None
    if version.version > 1:
        offer = next(
            e
            for e in _events(session, contract.id)
            if e.event == EventKind.EMPLOYER_SIGNED and e.version == version.version - 1
        )
        supersedes = offer.record_digest
    return _record_template(
        session,
        contract,
        EventKind.EMPLOYER_SIGNED,
        version.version,
        employer=employer.ledger_id,
        hr_operator=version.hr_operator,
        employee=contract.employee_did,
        employee_identity=contract.employee_identity_commitment,
        relation=version.relation,
        supersedes=supersedes,
    )


# ---------------------------------------------------------------------------- actions


def create_contract(
    *,
    session: Session,
    desk: LabourDesk,
    employer: Organisation,
    terms: ContractTerms,
    document: bytes,
    media_type: str,
    filename: str,
    now: int,
) -> LabourContract:
    """A new contract (version 1) with its document stored, key terms and the named employee
    (name, ID number) sealed; the employer's ``employer_signed`` record, naming the employee
    by a salted commitment, is pending. Raises `InvalidInput`."""
    _check_document(document, media_type, filename)
    key_terms = _key_terms(terms.key_terms)
    contract_id = str(uuid.uuid4())
    sealed, commitment = _name_employee(
        desk, contract_id, terms.employee_name, terms.employee_id_number
    )
    contract = LabourContract(
        id=contract_id,
        employer_id=employer.id,  # type: ignore[arg-type]  # SQLModel types id Optional; the row is stored
        employee_holder=terms.employee_holder.lower(),
        employee_did=terms.employee_did,
        employee_identity_sealed=sealed,
        employee_identity_commitment=commitment,
        state=ContractState.AWAITING_EMPLOYER,
        latest_version=1,
        created_at=_utc(now),
        updated_at=_utc(now),
    )
    version = _new_version_row(
        desk,
        contract.id,
        1,
        Relation.ORIGINAL,
        terms.hr_operator,
        key_terms,
        document,
        media_type,
        filename,
        now,
    )
    session.add(contract)
    session.add(version)
    session.flush()
    _set_pending(
        contract, Role.EMPLOYER, _offer_template(session, contract, employer, version), now
    )
    session.commit()
    session.refresh(contract)
    return contract


def _new_version_row(
    desk: LabourDesk,
    contract_id: str,
    number: int,
    relation: Relation,
    hr_operator: str,
    key_terms: KeyTerms,
    document: bytes,
    media_type: str,
    filename: str,
    now: int,
) -> LabourContractVersion:
    algorithm = desk.hash_algorithm
    return LabourContractVersion(
        contract_id=contract_id,
        version=number,
        relation=relation.value,
        hr_operator=hr_operator,
        document_sealed=seal_document(
            desk.key_terms_secret,
            contract_id=contract_id,
            version=number,
            document=document,
            algorithm=desk.seal_algorithm,
        ),
        document_size=len(document),
        document_digest=_hex(algorithm.digest(document)),
        digest_alg=algorithm.value,
        media_type=media_type or "application/octet-stream",
        filename=filename or f"contract-v{number}",
        key_terms_sealed=_seal(desk, contract_id, number, key_terms),
        key_terms_commitment=_hex(key_terms.commitment(algorithm)),
        created_at=_utc(now),
    )


def prepare_new_version(
    *,
    session: Session,
    desk: LabourDesk,
    employer: Organisation,
    contract_id: str,
    terms: NewVersionTerms,
    document: bytes,
    media_type: str,
    filename: str,
    now: int,
) -> LabourContract:
    """An amendment or renewal of the effective contract: the next version, linked to the one
    before, pending the employer's signature. Raises `Conflict` unless the contract is
    effective with nothing pending."""
    contract = contract_for_employer(session=session, employer=employer, contract_id=contract_id)
    if contract.state != ContractState.EFFECTIVE or contract.pending is not None:
        raise _conflict("only an effective contract with nothing pending can be amended")
    if contract.employee_identity_commitment is None:
        raise _conflict("the contract names no employee by name and ID number")
    _check_document(document, media_type, filename)
    number = contract.latest_version + 1
    version = _new_version_row(
        desk,
        contract.id,
        number,
        Relation(terms.relation),
        terms.hr_operator,
        _key_terms(terms.key_terms),
        document,
        media_type,
        filename,
        now,
    )
    session.add(version)
    contract.latest_version = number
    session.flush()
    _set_pending(
        contract, Role.EMPLOYER, _offer_template(session, contract, employer, version), now
    )
    session.add(contract)
    session.commit()
    session.refresh(contract)
    return contract


def prepare_termination(
    *,
    session: Session,
    contract: LabourContract,
    by: Role,
    request: TerminationRequest,
    now: int,
) -> LabourContract:
    """A termination by `by` (解除/终止, with its reason), pending that party's signature.
    Raises `Conflict` unless the contract is effective (a pending amendment is dropped)."""
    if contract.state != ContractState.EFFECTIVE or contract.effective_version is None:
        raise _conflict("only an effective contract can be terminated")
    latest = contract.latest_version
    if latest != contract.effective_version:
        # An amendment or renewal is pending: it lapses. Its document is dropped only when the
        # employer never signed it; a signed offer stays part of the evidence.
        if not any(e.version == latest for e in _events(session, contract.id)):
            session.delete(_version(session, contract.id, latest))
            contract.latest_version = contract.effective_version
    template = _record_template(
        session,
        contract,
        EventKind.TERMINATED,
        contract.effective_version,
        terminated_by=by.value,
        reason_code=request.reason_code,
        reason=request.reason,
        effective_date=request.effective_date,
    )
    _set_pending(contract, by, template, now)
    session.add(contract)
    session.commit()
    session.refresh(contract)
    return contract


def _signing_time(jws: str, now: int) -> int:
    try:
        payload = load_json(b64url_decode(jws.split(".")[1]), what="the signature's payload")
        at = payload["iat"]
    except (WalletError, ValueError, KeyError, IndexError, TypeError) as err:
        raise InvalidInput(
            "the signature is not a readable compact JWS", code=ErrorCode.VALIDATION_FAILED
        ) from err
    if type(at) is not int or abs(at - now) > MAX_CLOCK_SKEW:
        raise InvalidInput(
            f"the signing time must be within {MAX_CLOCK_SKEW} s of now",
            code=ErrorCode.VALIDATION_FAILED,
        )
    return at


def submit_signature(
    *,
    session: Session,
    desk: LabourDesk,
    contract: LabourContract,
    role: Role,
    jws: str,
    now: int,
    card_proof: str | None = None,
) -> LabourContract:
    """Accept `role`'s signature of the pending record: verify it, store the event, submit its
    event digest for anchoring, and move the contract on (an employer's offer then waits for
    the employee). The employee's acceptance must carry `card_proof`, an e-card proof bound
    to the record and the signing key, of the employee the contract names, the card active
    now. Raises `Conflict` when nothing is pending for `role`, `InvalidInput` when the
    signature does not verify (``detail`` names the failed check) or the card proof is
    missing (``card_proof_required``) or does not verify (``card_proof_invalid``), and
    `Forbidden` when the card is not active (``card_not_active``) or its holder is not the
    named employee (``employee_mismatch``)."""
    pending = contract.pending
    if pending is None or pending["role"] != role.value:
        raise _conflict(f"no record is waiting for the {role.value}'s signature")
    employer = session.get(Organisation, contract.employer_id)
    assert employer is not None  # a foreign key
    at = _signing_time(jws, now)
    events = _events(session, contract.id)
    if events and at < events[-1].record["at"]:
        raise InvalidInput(
            "the signing time precedes the previous event", code=ErrorCode.VALIDATION_FAILED
        )
    try:
        record = EventRecord.from_dict({**pending["record"], "at": at})
        if role is Role.EMPLOYER:
            kid = load_json(b64url_decode(jws.split(".")[0]), what="the header").get("kid", "")
            key_id = _hex(b64url_decode(kid))
            signer = employer.ledger_id
        else:
            key_id, signer = contract.employee_did + "#0", contract.employee_did
        signature = EventSignature(
            role=role, signer=signer, key_id=key_id, jws=jws, card_proof=card_proof
        )
        verify_event_signature(
            record,
            signature,
            desk.chain,
            trust_registry=desk.trust_registry,
            employer=bytes.fromhex(employer.ledger_id[2:]),
            employee=contract.employee_did,
            at=max(now, desk.chain_time()),
        )
    except VerificationError as err:
        raise InvalidInput(
            f"the signature does not verify: {err.message}",
            code=ErrorCode.VALIDATION_FAILED,
            detail={"check": err.check},
        ) from err
    except (WalletError, ValueError, TypeError, AttributeError) as err:
        raise InvalidInput(
            f"the signature is malformed: {err}", code=ErrorCode.VALIDATION_FAILED
        ) from err
    if role is Role.EMPLOYEE and (
        record.event is EventKind.EMPLOYEE_SIGNED or card_proof is not None
    ):
        _check_employee_card(desk, contract, record, signature, max(now, desk.chain_time()))
    event = EvidenceEvent(record=record, signature=signature, receipt=None)
    [submitted] = submit_digests(
        session.connection(),
        organisation_id=employer.id,  # type: ignore[arg-type]  # SQLModel types id Optional; the row is stored
        algorithm=record.digest_alg.value,
        items=[NewItem(event.event_digest, DOCUMENT_TYPE)],
    )
    session.add(
        LabourContractEvent(
            contract_id=contract.id,
            sequence=record.sequence,
            version=record.version,
            event=record.event.value,
            record=record.to_dict(),
            record_digest=_hex(event.record_digest),
            signature=signature.to_dict(),
            event_digest=_hex(event.event_digest),
            anchor_item_id=submitted.id,
            created_at=_utc(now),
        )
    )
    contract.pending = None
    if record.event is EventKind.EMPLOYER_SIGNED:
        if contract.effective_version is None:
            contract.state = ContractState.AWAITING_EMPLOYEE
        session.flush()
        template = _record_template(
            session,
            contract,
            EventKind.EMPLOYEE_SIGNED,
            record.version,
            employee=contract.employee_did,
            offer=_hex(event.record_digest),
        )
        _set_pending(contract, Role.EMPLOYEE, template, now)
    elif record.event is EventKind.EMPLOYEE_SIGNED:
        contract.state = ContractState.EFFECTIVE
        contract.effective_version = record.version
    else:
        contract.state = ContractState.TERMINATED
    contract.updated_at = _utc(now)
    session.add(contract)
    session.commit()
    session.refresh(contract)
    return contract


def _check_employee_card(
    desk: LabourDesk,
    contract: LabourContract,
    record: EventRecord,
    signature: EventSignature,
    at: int,
) -> None:
    """The employee's e-card proof, checked as the evidence verifier will (status now)."""
    if signature.card_proof is None:
        raise InvalidInput(
            "the employee's acceptance must carry an e-card proof bound to the record",
            code=ErrorCode.CARD_PROOF_REQUIRED,
        )
    if desk.card_verifier is None:
        raise ServiceError("the service has no credential verifier for e-card proofs")
    named = _named_employee(desk, contract)
    try:
        verify_employee_proof(
            desk.card_verifier,
            record,
            signature,
            commitment=str(contract.employee_identity_commitment),
            salt=named["salt"],
            at=at,
        )
    except VerificationError as err:
        if err.check == "employee_mismatch" or err.check == "signing_key":
            raise Forbidden(
                "the e-card does not show the employee the contract names"
                if err.check == "employee_mismatch"
                else "the e-card is bound to another key than the one that signed",
                code=ErrorCode.EMPLOYEE_MISMATCH,
                detail={"check": err.check},
            ) from err
        if err.check in ("status", "issuer_active"):
            raise Forbidden(
                f"the e-card is not active: {err.message}",
                code=ErrorCode.CARD_NOT_ACTIVE,
                detail={"check": err.check},
            ) from err
        raise InvalidInput(
            f"the e-card proof does not verify: {err.message}",
            code=ErrorCode.CARD_PROOF_INVALID,
            detail={"check": err.check},
        ) from err


# ---------------------------------------------------------------------------- reading


def contract_for_employer(
    *, session: Session, employer: Organisation, contract_id: str
) -> LabourContract:
    """The contract if `employer` is its employer. Raises `NotFound` otherwise."""
    contract = session.get(LabourContract, contract_id)
    if contract is None or contract.employer_id != employer.id:
        raise _not_found(contract_id)
    return contract


def contract_for_employee(
    *, session: Session, holder: str, contract_id: str, earlier: Sequence[str] = ()
) -> LabourContract:
    """The contract if the cardholder `holder`, or one of the person's earlier phones
    (`earlier`, holder addresses `holder` succeeds), is its employee. Raises `NotFound`
    otherwise."""
    contract = session.get(LabourContract, contract_id)
    if contract is None or contract.employee_holder not in _lowered(holder, earlier):
        raise _not_found(contract_id)
    return contract


def _lowered(holder: str, earlier: Sequence[str]) -> list[str]:
    return [address.lower() for address in (holder, *earlier)]


def list_for_employer(*, session: Session, employer: Organisation) -> list[LabourContract]:
    return list(
        session.exec(
            select(LabourContract)
            .where(LabourContract.employer_id == employer.id)
            .order_by(col(LabourContract.created_at))
        ).all()
    )


def list_for_employee(
    *, session: Session, holder: str, earlier: Sequence[str] = ()
) -> list[LabourContract]:
    """The contracts of the cardholder `holder` and of the person's earlier phones
    (`earlier`)."""
    return list(
        session.exec(
            select(LabourContract)
            .where(col(LabourContract.employee_holder).in_(_lowered(holder, earlier)))
            .order_by(col(LabourContract.created_at))
        ).all()
    )


@dataclass(frozen=True)
class StoredDocument:
    """One version's document, opened."""

    version: int
    media_type: str
    digest: str
    content: bytes


def document_of(
    *, session: Session, desk: LabourDesk, contract: LabourContract, version: int | None = None
) -> StoredDocument:
    """A version's stored document (the latest version by default), opened. Raises
    `NotFound`, and `ServiceError` when its seal does not open (another secret, damage)."""
    row = _version(session, contract.id, version or contract.latest_version)
    return StoredDocument(
        version=row.version,
        media_type=row.media_type,
        digest=row.document_digest,
        content=open_document(
            desk.key_terms_secret,
            contract_id=row.contract_id,
            version=row.version,
            sealed=row.document_sealed,
        ),
    )


def _receipts(
    session: Session, employer_id: int, events: list[LabourContractEvent]
) -> dict[bytes, tuple[AnchorState, AnchorReceipt | None]]:
    statuses = anchor_statuses(
        session.connection(),
        organisation_id=employer_id,
        item_ids=[bytes(e.anchor_item_id) for e in events],
    )
    return {status.id: (status.state, status.receipt) for status in statuses}


def contract_public(
    *, session: Session, desk: LabourDesk, contract: LabourContract, include_key_terms: bool
) -> ContractPublic:
    """The contract as a party sees it (key terms decrypted only when asked)."""
    employer = session.get(Organisation, contract.employer_id)
    assert employer is not None
    versions = _versions(session, contract.id)
    events = _events(session, contract.id)
    receipts = _receipts(session, contract.employer_id, events)
    pending = None
    if contract.pending is not None:
        template = contract.pending["record"]
        pending = PendingSignature(
            role=contract.pending["role"],
            record=template,
            purpose=f"labour-contract:{template['event']}",
        )
    return ContractPublic(
        contract_id=contract.id,
        employer=employer.credit_code,
        employer_name=employer.name,
        employee_holder=contract.employee_holder,
        employee_did=contract.employee_did,
        employee_identity=contract.employee_identity_commitment,
        state=ContractState(contract.state),
        effective_version=contract.effective_version,
        latest_version=contract.latest_version,
        versions=[
            VersionPublic(
                version=v.version,
                relation=v.relation,
                document_digest=v.document_digest,
                digest_alg=v.digest_alg,
                media_type=v.media_type,
                filename=v.filename,
                size=v.document_size,
                key_terms_commitment=v.key_terms_commitment,
                hr_operator=v.hr_operator,
            )
            for v in versions
        ],
        events=[_event_public(e, receipts.get(bytes(e.anchor_item_id))) for e in events],
        pending=pending,
        key_terms={v.version: _unseal(desk, v).to_dict() for v in versions}
        if include_key_terms
        else None,
        created_at=as_utc(contract.created_at),
        updated_at=as_utc(contract.updated_at),
    )


def _event_public(
    event: LabourContractEvent, anchor: tuple[AnchorState, AnchorReceipt | None] | None
) -> EventPublic:
    receipt = None if anchor is None else anchor[1]
    return EventPublic(
        sequence=event.sequence,
        version=event.version,
        event=event.event,
        record_digest=event.record_digest,
        event_digest=event.event_digest,
        signer_role=event.signature["role"],
        anchor_state="unknown" if anchor is None else anchor[0].value,
        block_number=None if receipt is None else receipt.block_number,
        block_time=None if receipt is None else receipt.block_time,
    )


def _accreditation_path(desk: LabourDesk, employer_id: bytes, now: int) -> list[AccreditationLink]:
    path = []
    current = employer_id
    for role in _ROLES:
        entity = desk.chain.entity(desk.trust_registry, current)
        if entity is None:
            break
        path.append(
            AccreditationLink(
                role=role,
                entity_id=_hex(current),
                kind=_KINDS.get(entity.kind, "none"),
                region=entity.region,
                status=_STATUSES.get(
                    desk.chain.entity_status_at(desk.trust_registry, current, now), "none"
                ),
            )
        )
        current = bytes(entity.parent)
    return path


def evidence_package(
    *,
    session: Session,
    desk: LabourDesk,
    contract: LabourContract,
    disclose_key_terms: bool,
    now: int,
) -> EvidencePackage:
    """The ``hrss-evidence/1`` package of the contract as it stands: every signed event with
    its receipt (``null`` while anchoring is pending), the documents' digests, the employer's
    accreditation path read from the chain now, the salt of the named employee's identity
    commitment (the package shows whoever holds it who the employee is: it is the court's),
    and the verifier's own report. With
    `disclose_key_terms` the key terms and their salts are included (a party's choice).
    Raises `Conflict` while no event has been signed yet."""
    employer = session.get(Organisation, contract.employer_id)
    assert employer is not None
    events = _events(session, contract.id)
    if not events:
        raise _conflict("nothing has been signed yet: there is no evidence")
    receipts = _receipts(session, contract.employer_id, events)
    signed_versions = {e.version for e in events}
    versions = [v for v in _versions(session, contract.id) if v.version in signed_versions]
    package = EvidencePackage(
        generated_at=now,
        generator=GENERATOR,
        chain_id=desk.chain_id,
        trust_registry=desk.trust_registry,
        anchor_registry=desk.anchor_registry,
        contract_id=contract.id,
        employer=EmployerRef(employer.ledger_id, employer.credit_code, employer.name),
        employee=contract.employee_did,
        documents=tuple(
            ContractDocument(
                v.version,
                v.document_digest,
                v.media_type,
                v.filename,
                v.document_size,
                HashAlgorithm.from_name(v.digest_alg),
            )
            for v in versions
        ),
        events=tuple(
            EvidenceEvent(
                record=EventRecord.from_dict(e.record),
                signature=EventSignature.from_dict(e.signature),
                receipt=(receipts.get(bytes(e.anchor_item_id)) or (None, None))[1],
            )
            for e in events
        ),
        accreditation_path=tuple(
            _accreditation_path(desk, bytes.fromhex(employer.ledger_id[2:]), now)
        ),
        key_terms=tuple(KeyTermsDisclosure(v.version, _unseal(desk, v)) for v in versions)
        if disclose_key_terms
        else (),
        status=contract.state,
        employee_identity_salt=None
        if contract.employee_identity_sealed is None
        else _named_employee(desk, contract)["salt"],
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
    return _with_report(package, report.to_dict(), now)


def _with_report(package: EvidencePackage, summary: dict[str, Any], now: int) -> EvidencePackage:
    return replace(
        package,
        report={
            "verdict": summary["verdict"],
            "first_failure": summary["first_failure"],
            "checks": summary["checks"],
            "contract_status": summary["contract_status"],
            "verified_at": now,
            "note": "the generator's own verification; verify again with hrss verify-evidence",
        },
    )


KEY_TERMS_SECRET = "service/labour-key-terms"


def desk_of_service(context: ServiceContext) -> LabourDesk:
    """The `LabourDesk` of a running `ServiceContext`: its chain and deployment, and the
    key-terms secret kept in its keystore (created on first use). Raises
    `ConfigurationError` when the ledger has no deployment."""
    from credential_service.errors import ConfigurationError
    from credential_service.services.chain import NodeTrustLedger
    from wallet_sdk.credentials import DirectTrustView
    from wallet_sdk.evidence.chain import NodeEvidenceChainView
    from wallet_sdk.jose import Curve

    ledger = context.ledger
    if not isinstance(ledger, NodeTrustLedger) or ledger.deployment is None:
        raise ConfigurationError("labour contracts need a deployed chain ledger")
    deployment = ledger.deployment
    secret = context.keystore.ensure(KEY_TERMS_SECRET, Curve.ED25519).private_bytes()
    return LabourDesk(
        chain=NodeEvidenceChainView(ledger.chain),
        chain_id=deployment.chain_id,
        trust_registry=deployment.trust_registry,
        anchor_registry=deployment.anchor_registry,
        key_terms_secret=secret,
        chain_time=lambda: ledger.chain.block().timestamp,
        card_verifier=CredentialVerifier(DirectTrustView(ledger.chain, deployment)),
        seal_algorithm=context.settings.crypto_profile.algorithms.seal_algorithm,
        hash_algorithm=context.settings.crypto_profile.algorithms.hash_algorithm,
    )
