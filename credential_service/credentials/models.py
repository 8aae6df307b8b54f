"""Tables and API models of credential issuance.

The service keeps no personal data of a credential: the signed token goes back to the caller
(who hands it to the cardholder); the table holds its id, type, digest, signing key, status
and anchoring item. Signing keys are named entries of the service keystore; the table records
their on-chain identity and lifecycle. The one exception is `IdempotencyRecord`: the answer to
an issuance request sent with an ``Idempotency-Key`` (the signed tokens included) is kept until
the key expires (24 h by default), so that a retried request gets the very same credentials.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints
from pydantic import Field as PydanticField
from sqlalchemy import BigInteger, Column, DateTime, Integer, LargeBinary, String, Text
from sqlmodel import Field, SQLModel

from credential_service.models import KeyAlgorithm


class CredentialState(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


class CredentialRecord(SQLModel, table=True):
    """One issued credential (no subject data)."""

    __tablename__ = "credential"

    id: str = Field(sa_column=Column(String(66), primary_key=True))
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    credential_type: str = Field(sa_column=Column(String(64), nullable=False))
    format: str = Field(sa_column=Column(String(16), nullable=False))
    digest: str = Field(sa_column=Column(String(66), nullable=False))
    key_id: str = Field(sa_column=Column(String(64), nullable=False))
    issued_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    state: str = Field(sa_column=Column(String(16), nullable=False))
    state_reason: int = 0
    anchor_item_id: bytes | None = Field(
        default=None, sa_column=Column(LargeBinary(16), nullable=True)
    )
    updated_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class CredentialTypeRecord(SQLModel, table=True):
    """A credential type the Ministry published (the built-in ones included): its schema as
    RFC 8785 canonical JSON, whose SHA-256 `TrustRegistry.publishCredentialType` committed.
    Every worker reads types it does not know yet from here (`type_registry.stored_type`)."""

    __tablename__ = "credential_type"

    term: str = Field(sa_column=Column(String(64), primary_key=True))
    vct: str = Field(sa_column=Column(String(256), unique=True, nullable=False))
    type_id: str = Field(sa_column=Column(String(66), unique=True, nullable=False))
    schema_name: str = Field(sa_column=Column(String(96), unique=True, nullable=False))
    canonical_schema: str = Field(sa_column=Column(Text, nullable=False))
    schema_digest: str = Field(sa_column=Column(String(66), nullable=False))
    publisher_id: int = Field(foreign_key="organisation.id", index=True)
    published_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    """Block time of the chain's commitment."""
    tx_hash: str | None = Field(default=None, sa_column=Column(String(66), nullable=True))
    """The publishing transaction; ``None`` when another worker's transaction committed it."""


class SigningKeyRecord(SQLModel, table=True):
    """A credential-signing key of an issuer, held in the service keystore."""

    __tablename__ = "credential_signing_key"

    key_id: str = Field(sa_column=Column(String(64), primary_key=True))
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    keystore_name: str = Field(sa_column=Column(String(128), unique=True, nullable=False))
    alg: str = Field(sa_column=Column(String(16), nullable=False))
    valid_from: int = Field(sa_column=Column(BigInteger, nullable=False))
    valid_until: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    revoked_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))


class IdempotencyRecord(SQLModel, table=True):
    """The stored answer to an issuance request that carried an ``Idempotency-Key``.

    One row per (organisation, key), written in the transaction that writes the credentials
    it answers for: either both exist or neither. ``key_hash`` is the SHA-256 (hex) of the
    key (the key itself stays with the client), ``request_digest`` the SHA-256 (hex) of the
    canonical request body, ``sealed_response`` the exact JSON text answered, sealed with
    AES-256-GCM under a key derived from the service's sealing secret and the idempotency key
    (the signed credentials in it carry personal data); ``expires_at`` is a Unix time after
    which the key is forgotten (rows are pruned lazily).
    """

    __tablename__ = "credential_idempotency_key"

    organisation_id: int = Field(foreign_key="organisation.id", primary_key=True)
    key_hash: str = Field(sa_column=Column(String(64), primary_key=True))
    request_digest: str = Field(sa_column=Column(String(64), nullable=False))
    response_status: int = Field(sa_column=Column(Integer, nullable=False))
    sealed_response: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    expires_at: int = Field(sa_column=Column(BigInteger, nullable=False, index=True))


# ----------------------------------------------------------------------------------- API


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CardProof(_Strict):
    """The holder's e-card proof sent with an issuance request (``hrss-wallet credential
    request``): an SD-JWT presentation of the e-card disclosing the person's ``name`` and
    ``idNumber``, bound to the issuer (audience ``urn:hrss:entity:0x<id>``) and to
    ``card_nonce("credential-issuance", challenge)``."""

    presentation: str = PydanticField(min_length=1, max_length=65536)
    challenge: str = PydanticField(
        min_length=1,
        max_length=256,
        description="the issuer's one-time challenge the wallet bound the proof to",
    )


class CredentialRequest(_Strict):
    """One credential to issue."""

    type: str = PydanticField(
        min_length=1, max_length=64, description="e.g. VocationalSkillCertificate"
    )
    format: Literal["vc+jwt", "vc+sd-jwt"] = "vc+jwt"
    subject: dict[str, Any]
    holder_jwk: dict[str, str] | None = None
    disclosable: list[Annotated[str, StringConstraints(min_length=1, max_length=256)]] = (
        PydanticField(
            default_factory=list,
            max_length=32,
            description="claims made selectively disclosable: JSON Pointers into the subject "
            "at any depth (``*`` for every array element) or top-level names, within the "
            "type's x-hrss-disclosable paths",
        )
    )
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    training_file: dict[str, Any] | None = None
    card_proof: CardProof | None = PydanticField(
        default=None,
        description="the holder's e-card proof: the subject's name and ID number must be the "
        "card's, and the credential is bound to the card's holder key",
    )
    require_card: bool = PydanticField(
        default=False, description="refuse (card_proof_required) when card_proof is missing"
    )


class IssueCredentialsRequest(_Strict):
    credentials: list[CredentialRequest] = PydanticField(min_length=1, max_length=1000)


class IssuedCredentialPublic(BaseModel):
    id: str
    type: str
    format: str
    credential: str
    digest: str
    key_id: str
    issued_at: int
    anchor_item_id: str | None


class IssueCredentialsResponse(BaseModel):
    credentials: list[IssuedCredentialPublic]


class CredentialStatusChange(_Strict):
    status: CredentialState
    reason: int = PydanticField(default=0, ge=0, le=65535)


class CredentialStatusPublic(BaseModel):
    id: str
    type: str
    status: str
    reason: int
    as_of: int
    issuer: str


class VerifyCredentialBody(_Strict):
    credential: str = PydanticField(min_length=1, max_length=65536)
    as_of: datetime | None = None
    anchor_receipt: dict[str, Any] | None = None


_ClaimName = Annotated[str, StringConstraints(min_length=1, max_length=256)]


class WithCard(_Strict):
    """What a verifier asks of a credential presented with its holder's e-card in one
    ``vp+jwt`` (``hrss-wallet credential present --with-card``)."""

    require: list[_ClaimName] = PydanticField(
        default_factory=list, max_length=32, description="credential claims that must be shown"
    )
    card_require: list[_ClaimName] = PydanticField(
        default_factory=list, max_length=8, description="e-card claims that must be shown"
    )
    expected_name: str | None = PydanticField(
        default=None,
        min_length=1,
        max_length=64,
        description="is the person named this? answered as name_matches from the card's "
        "disclosed name (nothing else of the card is needed)",
    )


class VerifyPresentationBody(_Strict):
    presentation: str = PydanticField(min_length=1, max_length=262144)
    nonce: str = PydanticField(min_length=1, max_length=256)
    audience: str = PydanticField(min_length=1, max_length=512)
    as_of: datetime | None = None
    anchor_receipts: list[dict[str, Any]] = PydanticField(default_factory=list, max_length=64)
    with_card: WithCard | None = PydanticField(
        default=None,
        description="the presentation is a credential with its holder's e-card: check that "
        "both are bound to one holder key and report the card identity disclosed",
    )


class VerifyTrainingFileBody(_Strict):
    presentation: dict[str, Any] = PydanticField(
        description="a hrss-training-file-presentation/1 document: file id, entries, binding"
    )
    nonce: str = PydanticField(min_length=1, max_length=256)
    audience: str = PydanticField(min_length=1, max_length=512)
    as_of: datetime | None = None
    period: Literal["year", "quarter", "month"] = "year"


class SigningKeyPublic(BaseModel):
    key_id: str
    alg: str
    jwk: dict[str, str]
    valid_from: int
    valid_until: int | None
    revoked_at: int | None


class KeyRotation(_Strict):
    """What the new signing key of a rotation signs with; by default the current key's."""

    alg: KeyAlgorithm | None = None


class KeyRevocation(_Strict):
    revoked_at: datetime


class TypeAccreditation(_Strict):
    allowed: bool = True


class CredentialTypePublic(BaseModel):
    term: str
    vct: str
    title: str
    type_id: str
    personal_identifiers: list[str]
    disclosable: list[str]
    formats: list[str]
    schema_digest: str
    """``0x`` SHA-256 of the schema's RFC 8785 canonical JSON, as committed on chain."""
    schema_url: str | None
    """Where the service serves the schema (``GET /schemas/<name>``)."""
    schema_: dict[str, Any] = PydanticField(alias="schema")

    model_config = ConfigDict(populate_by_name=True)


class CredentialTypePublication(_Strict):
    """A new credential type: its JSON Schema (draft 2020-12, with ``$id``) and, unless the
    schema already says so in its ``x-hrss-*`` members, its VC type term, personal
    identifiers, selectively disclosable claims (JSON Pointers) and allowed formats."""

    schema_: dict[str, Any] = PydanticField(alias="schema")
    term: str | None = None
    personal_identifiers: list[str] | None = None
    disclosable: list[str] | None = None
    formats: list[Literal["vc+jwt", "vc+sd-jwt"]] | None = None

    model_config = ConfigDict(extra="forbid", populate_by_name=True)


class PublishedCredentialType(CredentialTypePublic):
    published_at: int
    """Block time of the on-chain commitment."""
    tx_hash: str | None
