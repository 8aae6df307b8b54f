"""Tables and wire models of electronic labour contracts.

- ``labour_contract``: one contract between an employer and an employee, across versions;
  ``pending`` holds the record the service prepared and waits for a party to sign.
- ``labour_contract_version``: one version's document (stored off chain, here) and its key
  terms, both sealed with AES-256-GCM, and the key terms' salted commitment; ``digest_alg``
  is the hash of its document digest, commitment and records.
- ``labour_contract_event``: the signed lifecycle records in sequence, each with the anchoring
  item of its event digest.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, Column, DateTime, Integer, LargeBinary, String, UniqueConstraint
from sqlmodel import Field, SQLModel

__all__ = [
    "ContractState",
    "LabourContract",
    "LabourContractEvent",
    "LabourContractVersion",
]


def _ts() -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class ContractState(StrEnum):
    """Where a contract stands, as the service keeps it (the verifier recomputes it)."""

    AWAITING_EMPLOYER = "awaiting_employer_signature"
    AWAITING_EMPLOYEE = "awaiting_employee_signature"
    EFFECTIVE = "effective"
    TERMINATED = "terminated"


class LabourContract(SQLModel, table=True):
    __tablename__ = "labour_contract"

    id: str = Field(sa_column=Column(String(36), primary_key=True))
    employer_id: int = Field(foreign_key="organisation.id", index=True)
    employee_holder: str = Field(sa_column=Column(String(42), nullable=False, index=True))
    employee_did: str = Field(sa_column=Column(String(512), nullable=False))
    employee_identity_sealed: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    """The named employee's name and ID number with the salt of their commitment, sealed."""
    employee_identity_commitment: str | None = Field(
        default=None, sa_column=Column(String(66), nullable=True)
    )
    """``0x`` + `identity_commitment` of name and ID number: what every offer names."""
    state: str = Field(sa_column=Column(String(40), nullable=False))
    effective_version: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    latest_version: int = Field(sa_column=Column(Integer, nullable=False))
    pending: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    created_at: datetime = _ts()
    updated_at: datetime = _ts()


class LabourContractVersion(SQLModel, table=True):
    __tablename__ = "labour_contract_version"
    __table_args__ = (UniqueConstraint("contract_id", "version", name="uq_labour_version"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(sa_column=Column(String(36), nullable=False, index=True))
    version: int
    relation: str = Field(sa_column=Column(String(16), nullable=False))
    hr_operator: str = Field(sa_column=Column(String(200), nullable=False))
    document_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The document (it carries names and ID numbers), sealed like the key terms."""
    document_size: int = Field(sa_column=Column(Integer, nullable=False))
    document_digest: str = Field(sa_column=Column(String(66), nullable=False, index=True))
    digest_alg: str = Field(
        default="sha-256",
        sa_column=Column(String(16), nullable=False, server_default="sha-256"),
    )
    """The hash (`wallet_sdk.HashAlgorithm` name) of the document digest, the key-terms
    commitment and the version's records: the profile's when the version was made."""
    media_type: str = Field(sa_column=Column(String(127), nullable=False))
    filename: str = Field(sa_column=Column(String(255), nullable=False))
    key_terms_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    key_terms_commitment: str = Field(sa_column=Column(String(66), nullable=False))
    created_at: datetime = _ts()


class LabourContractEvent(SQLModel, table=True):
    __tablename__ = "labour_contract_event"
    __table_args__ = (UniqueConstraint("contract_id", "sequence", name="uq_labour_event"),)

    id: int | None = Field(default=None, primary_key=True)
    contract_id: str = Field(sa_column=Column(String(36), nullable=False, index=True))
    sequence: int
    version: int
    event: str = Field(sa_column=Column(String(32), nullable=False))
    record: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    record_digest: str = Field(sa_column=Column(String(66), nullable=False))
    signature: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    event_digest: str = Field(sa_column=Column(String(66), nullable=False))
    anchor_item_id: bytes = Field(sa_column=Column(LargeBinary(16), nullable=False))
    created_at: datetime = _ts()


# ---------------------------------------------------------------------------- wire models

KeyTermsIn = dict[str, str | int]


class ContractTerms(BaseModel):
    """What an employer sends with a document (the multipart ``terms`` field, JSON)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    employee_holder: str = PydanticField(pattern=r"^0x[0-9a-fA-F]{40}$")
    employee_did: str = PydanticField(pattern=r"^did:jwk:[A-Za-z0-9_-]+$", max_length=512)
    employee_name: str = PydanticField(min_length=1, max_length=100)
    """The employee's name as on their e-card: their signature must prove it."""
    employee_id_number: str = PydanticField(pattern=r"^[0-9]{17}[0-9X]$")
    """The employee's citizen ID number (GB 11643), sealed at rest, committed in the record."""
    hr_operator: str = PydanticField(min_length=1, max_length=200)
    key_terms: KeyTermsIn = PydanticField(min_length=1, max_length=64)


class NewVersionTerms(BaseModel):
    """An amendment or a renewal: the new version's key terms and who acts for the employer."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    relation: str = PydanticField(pattern=r"^(amendment|renewal)$")
    hr_operator: str = PydanticField(min_length=1, max_length=200)
    key_terms: KeyTermsIn = PydanticField(min_length=1, max_length=64)


class TerminationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    reason_code: str = PydanticField(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    reason: str = PydanticField(min_length=1, max_length=2000)
    effective_date: str = PydanticField(pattern=r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class SignatureSubmission(BaseModel):
    """A party's compact JWS over the pending record's digest."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jws: str = PydanticField(min_length=10, max_length=16384)
    card_proof: str | None = PydanticField(default=None, min_length=10, max_length=16384)
    """The employee's e-card proof (`wallet_sdk.evidence.sign_as_employee`): required with
    an acceptance."""


class PendingSignature(BaseModel):
    """The record a party must sign now. The signer sets ``at`` to its signing time, builds
    it with `wallet_sdk.evidence.EventRecord.from_dict` and signs it (`sign_as_employer`,
    `sign_as_employee`); the JWS ``iat`` tells the service which ``at`` was used."""

    role: str
    record: dict[str, Any]
    purpose: str


class VersionPublic(BaseModel):
    version: int
    relation: str
    document_digest: str
    digest_alg: str
    """The hash of ``document_digest`` and of the version's records: sha-256 or sm3."""
    media_type: str
    filename: str
    size: int
    key_terms_commitment: str
    hr_operator: str


class EventPublic(BaseModel):
    sequence: int
    version: int
    event: str
    record_digest: str
    event_digest: str
    signer_role: str
    anchor_state: str
    block_number: int | None
    block_time: int | None


class ContractPublic(BaseModel):
    """A contract as either party sees it; key terms only on the detail view."""

    contract_id: str
    employer: str
    employer_name: str
    employee_holder: str
    employee_did: str
    employee_identity: str | None
    """The commitment to the named employee's name and ID number (never them in clear)."""
    state: ContractState
    effective_version: int | None
    latest_version: int
    versions: list[VersionPublic]
    events: list[EventPublic]
    pending: PendingSignature | None
    key_terms: dict[int, dict[str, Any]] | None = None
    created_at: datetime
    updated_at: datetime
    earlier_phone: bool = False
    """Signed with an earlier phone of the person (the employee's holder address is one the
    calling cardholder succeeds); only in the employee's own listing."""
