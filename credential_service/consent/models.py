"""Tables of the consent domain and the wire models of the consent API.

- ``consent_request``: a data user's request, kept verbatim but sealed (AES-256-GCM,
  `credential_service.sealing`): it may name the data subject and a contact phone; the
  subject's ID number, sealed apart (the request itself carries only its salted commitment).
- ``consent``: a grant relayed to ``ConsentRegistry``, with its opening (salt, purposes,
  categories) so the service can check a purpose against the on-chain commitment; the
  cardholder's e-card proof of identity, sealed (it discloses the ID number), and whether it
  proved the grantor to be the request's subject.
- ``consent_receipt``: every signed receipt, one per grant and per withdrawal, sealed (it
  carries the request).
- ``data_use_check``: every ``POST /v1/consents/check``, allowed or not: the cardholder's
  data-use log.

Times of chain facts are unix seconds of block time (``BigInteger``); row times are UTC.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    String,
    false,
)
from sqlmodel import Field, SQLModel

from credential_service.models import utc_now

__all__ = [
    "CheckReason",
    "ConsentCheckPublic",
    "ConsentCheckRequest",
    "ConsentPublic",
    "ConsentReceiptPublic",
    "ConsentReceiptRecord",
    "ConsentRecord",
    "ConsentRequestCreate",
    "ConsentRequestPublic",
    "ConsentRequestRecord",
    "ConsentState",
    "DataUseCheck",
    "DataUsePublic",
]


def _utc_column() -> Any:
    return Field(default_factory=utc_now, sa_column=Column(DateTime(timezone=True), nullable=False))


class ConsentState(StrEnum):
    GRANTED = "granted"
    WITHDRAWN = "withdrawn"


class CheckReason(StrEnum):
    """Why a consent check allowed or denied a use. Stable codes."""

    GRANTED = "granted"
    UNKNOWN_CONSENT = "unknown_consent"
    NOT_GRANTEE = "not_grantee"
    PURPOSE_NOT_GRANTED = "purpose_not_granted"
    WITHDRAWN = "withdrawn"
    NOT_YET_VALID = "not_yet_valid"
    EXPIRED = "expired"
    GRANTEE_NOT_ACTIVE = "grantee_not_active"
    RECORD_MISMATCH = "record_mismatch"
    SUBJECT_MISMATCH = "subject_mismatch"
    """The consent was not granted by the data subject the request names (no valid e-card
    proof, or a proof of another person)."""


class ConsentRequestRecord(SQLModel, table=True):
    __tablename__ = "consent_request"

    request_id: str = Field(sa_column=Column(String(64), primary_key=True))
    organisation_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    body_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    subject_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    """The data subject's ID number, sealed (None for requests from before subjects)."""
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_at: int = Field(sa_column=Column(BigInteger, nullable=False))


class ConsentRecord(SQLModel, table=True):
    __tablename__ = "consent"

    consent_id: str = Field(sa_column=Column(String(66), primary_key=True))
    request_id: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    organisation_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    holder: str = Field(sa_column=Column(String(42), nullable=False, index=True))
    signed: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    """The signed grant without its identity proof (which discloses the ID number)."""
    identity_proof_sealed: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary, nullable=True)
    )
    subject_verified: bool = Field(
        default=False, sa_column=Column(Boolean, nullable=False, server_default=false())
    )
    """Whether the grant's e-card proof showed the grantor to be the request's subject, as
    judged when it was relayed; False also for grants recorded without a proof."""
    subject_check: str | None = Field(default=None, sa_column=Column(String(32), nullable=True))
    """The check that failed when the subject was not proved."""
    state: str = Field(sa_column=Column(String(16), nullable=False))
    not_before: int = Field(sa_column=Column(BigInteger, nullable=False))
    not_after: int = Field(sa_column=Column(BigInteger, nullable=False))
    granted_tx: str = Field(sa_column=Column(String(66), nullable=False))
    granted_block: int = Field(sa_column=Column(BigInteger, nullable=False))
    granted_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    withdrawn_tx: str | None = Field(default=None, sa_column=Column(String(66), nullable=True))
    withdrawn_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = _utc_column()


class ConsentReceiptRecord(SQLModel, table=True):
    __tablename__ = "consent_receipt"

    id: int | None = Field(default=None, primary_key=True)
    consent_id: str = Field(sa_column=Column(String(66), nullable=False, index=True))
    event: str = Field(sa_column=Column(String(16), nullable=False))
    token_sealed: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    """The signed receipt, sealed: it carries the request (data subject, contact)."""
    created_at: datetime = _utc_column()


class DataUseCheck(SQLModel, table=True):
    __tablename__ = "data_use_check"

    id: int | None = Field(default=None, primary_key=True)
    consent_id: str = Field(sa_column=Column(String(66), nullable=False, index=True))
    organisation_id: int = Field(sa_column=Column(Integer, nullable=False, index=True))
    holder: str | None = Field(
        default=None, sa_column=Column(String(42), nullable=True, index=True)
    )
    purpose: str = Field(sa_column=Column(String(64), nullable=False))
    allowed: bool = Field(sa_column=Column(Boolean, nullable=False))
    reason: str = Field(sa_column=Column(String(32), nullable=False))
    block_number: int = Field(sa_column=Column(BigInteger, nullable=False))
    block_time: int = Field(sa_column=Column(BigInteger, nullable=False))
    checked_at: datetime = _utc_column()


# ------------------------------------------------------------------------------- wire models


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConsentRequestCreate(_Wire):
    """What a data user asks for; purposes and categories from the controlled vocabularies."""

    purposes: list[str] = PydanticField(min_length=1, max_length=16)
    data_categories: list[str] = PydanticField(min_length=1, max_length=16)
    duration_seconds: int = PydanticField(ge=60, le=5 * 366 * 24 * 3600)
    legal_basis: str = "pipl-art13-consent"
    contact: str = PydanticField(min_length=1, max_length=200)
    subject_id_number: str = PydanticField(
        min_length=18,
        max_length=18,
        description="The data subject's citizen ID number (GB 11643): the request names them "
        "by a salted commitment to it; the number is kept sealed, never shown or logged.",
    )
    notice: str = PydanticField(default="", max_length=1000)
    subject_reference: str | None = PydanticField(default=None, max_length=200)
    lifetime_seconds: int = PydanticField(default=600, ge=30, le=24 * 3600)


class ConsentRequestPublic(_Wire):
    request_id: str
    qr: str
    request: dict[str, Any]
    expires_at: int


class ConsentReceiptPublic(_Wire):
    consent_id: str
    event: str
    receipt: str
    transaction_hash: str
    block_number: int
    chain_state: Literal["confirmed"] = PydanticField(
        default="confirmed",
        description="The relay's state on chain when answered: always `confirmed`, i.e. its "
        "transaction lies `confirmations` blocks under the head of the canonical chain (a "
        "relay that cannot get there answers 503 `chain_unavailable` instead).",
    )
    confirmations: int = PydanticField(
        default=0,
        ge=0,
        description="The depth waited for (`HRSS_CHAIN_CONFIRMATIONS`); 0: as mined.",
    )
    subject_verified: bool | None = PydanticField(
        default=None,
        description="For a grant: whether its e-card proof showed the grantor to be the data "
        "subject the request names. A grant that is not the subject's is recorded (the holder "
        "signed it) but every check of it answers `subject_mismatch`.",
    )


class ConsentPublic(_Wire):
    consent_id: str
    request_id: str
    holder: str
    data_user: str
    purposes: list[str]
    data_categories: list[str]
    state: str
    not_before: int
    not_after: int
    granted_at: int
    withdrawn_at: int | None
    subject_verified: bool
    receipts: list[str]
    earlier_phone: bool = False
    """Granted with an earlier phone of the person (a holder the caller succeeds): listed for
    the person, withdrawable from the new wallet."""


class ConsentCheckRequest(_Wire):
    consent_id: str = PydanticField(pattern=r"^0x[0-9a-fA-F]{64}$")
    purpose: str = PydanticField(min_length=1, max_length=64)


class ConsentCheckPublic(_Wire):
    allowed: bool
    reason: str
    consent_id: str
    purpose: str
    block_number: int
    block_time: int
    check_id: int


class DataUsePublic(_Wire):
    check_id: int
    consent_id: str
    data_user: str
    purpose: str
    allowed: bool
    reason: str
    block_number: int
    block_time: int
    checked_at: datetime
