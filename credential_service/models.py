"""SQLModel models, one family per entity: ``Base`` (shared fields), ``Create`` (what a client
sends), ``Public`` (what the API returns) and the table model. Secrets never have a ``Public``
field, so they cannot reach the wire."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import JSON, BigInteger, Column, DateTime, String, UniqueConstraint
from sqlmodel import Field, SQLModel

CREDIT_CODE_PATTERN = r"^[0-9A-HJ-NPQRTUWXY]{2}[0-9]{6}[0-9A-HJ-NPQRTUWXY]{10}$"


def utc_now() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; every datetime the service stores is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(sa_column=Column(DateTime(timezone=True), nullable=nullable))


class OrganisationKind(StrEnum):
    """Roles of the accreditation tree; the numbering on chain is ``node_adapter.Kind``."""

    MINISTRY = "ministry"
    PROVINCE = "province"
    ISSUER = "issuer"
    EMPLOYER = "employer"
    DATA_USER = "data_user"
    COURT = "court"
    CARD_ISSUER = "card_issuer"
    """Card service platform (national, under the Ministry) or a provincial card centre: the
    only kind that issues the electronic social security card."""


class OrganisationStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class KeyAlgorithm(StrEnum):
    """JOSE names of the algorithms an organisation key may use: `wallet_sdk.jose`'s
    ``SIGNING_ALGORITHMS`` (a test pins the two), each with its one curve."""

    EDDSA = "EdDSA"
    ES256 = "ES256"
    ES384 = "ES384"
    ES512 = "ES512"
    SM2SM3 = "SM2SM3"


class KeyPurpose(StrEnum):
    """What an organisation's own key is registered for on chain (``TrustRegistry``'s
    ``KeyPurpose``). The token endpoint accepts only client-authentication keys; labour
    contract signatures only document-signing keys. Credential-signing keys are the service's
    (``credential_service.credentials``) and are not registered through this route."""

    CLIENT_AUTHENTICATION = "client_authentication"
    DOCUMENT_SIGNING = "document_signing"


# ---------------------------------------------------------------------------- keys


class PublicJwk(BaseModel):
    """A public JWK as sent by a client: Ed25519 (OKP), P-256, P-384, P-521 or SM2 (EC). ``d``
    is accepted only so that a private key sent by mistake is refused loudly instead of
    dropped silently."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    kty: Literal["OKP", "EC"]
    crv: Literal["Ed25519", "P-256", "P-384", "P-521", "SM2"]
    x: str = PydanticField(min_length=1, max_length=128)
    y: str | None = PydanticField(default=None, min_length=1, max_length=128)
    kid: str | None = PydanticField(default=None, max_length=128)
    alg: str | None = PydanticField(default=None, max_length=16)
    use: str | None = PydanticField(default=None, max_length=16)
    d: str | None = PydanticField(default=None, max_length=128)


class OrganisationKeyBase(SQLModel):
    purpose: KeyPurpose = KeyPurpose.CLIENT_AUTHENTICATION
    valid_from: datetime | None = None
    valid_until: datetime | None = None


class OrganisationKeyCreate(OrganisationKeyBase):
    jwk: PublicJwk


class OrganisationKeyPublic(SQLModel):
    key_id: str
    alg: KeyAlgorithm
    organisation: str
    purpose: KeyPurpose
    jwk: dict[str, str]
    valid_from: datetime
    valid_until: datetime | None
    created_at: datetime


class OrganisationKey(SQLModel, table=True):
    __tablename__ = "organisation_key"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    key_id: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    alg: str = Field(sa_column=Column(String(16), nullable=False))
    purpose: str = Field(
        default=KeyPurpose.CLIENT_AUTHENTICATION.value,
        sa_column=Column(
            String(32), nullable=False, server_default=KeyPurpose.CLIENT_AUTHENTICATION.value
        ),
    )
    public_jwk: dict[str, str] = Field(sa_column=Column(JSON, nullable=False))
    valid_from: datetime = _timestamp()
    valid_until: datetime | None = _timestamp(nullable=True)
    created_at: datetime = _timestamp()


# ---------------------------------------------------------------------------- organisations


class OrganisationBase(SQLModel):
    name: str = Field(min_length=1, max_length=200)
    credit_code: str = Field(regex=CREDIT_CODE_PATTERN, min_length=18, max_length=18)
    kind: OrganisationKind
    region: int = Field(ge=100000, le=999999)


class OrganisationCreate(OrganisationBase):
    """Accreditation request; ``keys`` are the organisation's first public keys."""

    keys: list[PublicJwk] = Field(default_factory=list, max_length=8)


class OrganisationPublic(OrganisationBase):
    status: OrganisationStatus
    status_reason: int
    accreditor: str | None
    ledger_id: str
    controller_address: str
    created_at: datetime
    updated_at: datetime


class OrganisationStatusChange(SQLModel):
    status: OrganisationStatus
    reason: int = Field(default=0, ge=0, le=65535)


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    credit_code: str = Field(sa_column=Column(String(18), unique=True, nullable=False))
    name: str = Field(sa_column=Column(String(200), nullable=False))
    kind: str = Field(sa_column=Column(String(16), nullable=False))
    region: int
    accreditor_id: int | None = Field(default=None, foreign_key="organisation.id", index=True)
    status: str = Field(sa_column=Column(String(16), nullable=False))
    status_reason: int = 0
    ledger_id: str = Field(sa_column=Column(String(66), unique=True, nullable=False))
    controller_address: str = Field(sa_column=Column(String(42), nullable=False))
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


# ---------------------------------------------------------------------------- auth


class UsedAssertion(SQLModel, table=True):
    """A client assertion's ``jti``, kept until the assertion expires, so it is used once."""

    __tablename__ = "used_assertion"
    __table_args__ = (UniqueConstraint("client_id", "jti", name="uq_used_assertion_client_jti"),)

    id: int | None = Field(default=None, primary_key=True)
    client_id: str = Field(sa_column=Column(String(18), nullable=False))
    jti: str = Field(sa_column=Column(String(255), nullable=False))
    expires_at: datetime = _timestamp()


class AccessTokenPublic(SQLModel):
    """RFC 6749 section 5.1 token response."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    scope: str


# ---------------------------------------------------------------------------- audit


class AuditEntry(SQLModel, table=True):
    """One state-changing request. Append-only: ``hash`` = SHA-256 over the canonical JSON of
    the other columns, ``prev_hash`` included, so any edit breaks the chain."""

    __tablename__ = "audit_entry"

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    occurred_at: str = Field(sa_column=Column(String(32), nullable=False))
    actor: str = Field(sa_column=Column(String(64), nullable=False))
    action: str = Field(sa_column=Column(String(16), nullable=False))
    target: str = Field(sa_column=Column(String(512), nullable=False))
    outcome: str = Field(sa_column=Column(String(16), nullable=False))
    status_code: int
    error_code: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    request_id: str = Field(sa_column=Column(String(36), nullable=False))
    prev_hash: str = Field(sa_column=Column(String(64), nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))


class AuditHead(SQLModel, table=True):
    """The single row writers lock to append in order (``id`` is always 1)."""

    __tablename__ = "audit_head"

    id: int = Field(primary_key=True)
    seq: int = Field(sa_column=Column(BigInteger, nullable=False))
    hash: str = Field(sa_column=Column(String(64), nullable=False))
