"""Tables and wire models of e-card activation.

No personal data in clear: a pending activation keeps the card's subject sealed
(`credential_service.sealing`) until the wallet redeems it, then erases it; the person is
known only by a keyed commitment (HMAC-SHA256) of the ID number; a code only by its HMAC.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import BigInteger, Column, LargeBinary, String
from sqlmodel import Field, SQLModel

__all__ = [
    "CardActivation",
    "CardActivationCreate",
    "CardActivationPublic",
    "CardActivationRedeem",
    "CardHolding",
    "CardIssuedPublic",
    "HolderSuccessionRecord",
]


class CardActivation(SQLModel, table=True):
    """One activation code. ``used_at`` is set once, atomically: a second redemption fails."""

    __tablename__ = "card_activation"

    id: int | None = Field(default=None, primary_key=True)
    code_hmac: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    person: str = Field(sa_column=Column(String(64), nullable=False, index=True))
    subject_sealed: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    used_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    credential_id: str | None = Field(default=None, sa_column=Column(String(66), nullable=True))


class CardHolding(SQLModel, table=True):
    """The one active e-card of a person (by the commitment of the ID number)."""

    __tablename__ = "card_holding"

    person: str = Field(sa_column=Column(String(64), primary_key=True))
    credential_id: str = Field(sa_column=Column(String(66), nullable=False, index=True))
    organisation_id: int = Field(foreign_key="organisation.id")
    activated_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    holder_address: str | None = Field(default=None, sa_column=Column(String(42), nullable=True))
    """The wallet's holder address (checksummed) behind the active card, when the wallet
    proved it at activation: the predecessor of the next phone's address."""


class HolderSuccessionRecord(SQLModel, table=True):
    """A holder succession this service recorded on ``ConsentRegistry``: `successor` is the
    new phone's holder address of the person who held `predecessor` (both pseudonymous)."""

    __tablename__ = "holder_succession"

    predecessor: str = Field(sa_column=Column(String(42), primary_key=True))
    successor: str = Field(sa_column=Column(String(42), nullable=False, index=True))
    organisation_id: int = Field(foreign_key="organisation.id")
    recorded_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    transaction_hash: str = Field(sa_column=Column(String(66), nullable=False))


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CardActivationCreate(_Wire):
    """The card's subject after the issuer's real-name check (schema ``SocialSecurityCard``)."""

    name: str = PydanticField(min_length=1, max_length=64)
    idNumber: str = PydanticField(min_length=18, max_length=18)
    cardNumber: str = PydanticField(min_length=1, max_length=20)
    issuingRegion: str = PydanticField(min_length=6, max_length=6)
    validFrom: str = PydanticField(min_length=10, max_length=10)
    validUntil: str = PydanticField(min_length=10, max_length=10)


class CardActivationPublic(_Wire):
    activation_code: str
    qr: str
    expires_at: int


class CardActivationRedeem(_Wire):
    proof: str = PydanticField(min_length=1, max_length=4096)


class CardIssuedPublic(_Wire):
    id: str
    credential: str
    replaced: str | None
