"""The login challenge table and the wire models of the login API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydanticField
from sqlalchemy import BigInteger, Column, String
from sqlmodel import Field, SQLModel

__all__ = [
    "CardholderTokenPublic",
    "LoginChallenge",
    "LoginChallengePublic",
    "LoginPoll",
    "LoginResponseSubmit",
]


class LoginChallenge(SQLModel, table=True):
    """One QR login challenge. ``used_at`` is set once, atomically: a second answer fails.

    ``poll_secret_hash`` lets the screen that showed the QR (and only it) collect the token
    once. The token itself is never stored: ``pending_token_sha256`` is the SHA-256 of its
    signed part (``header.payload``), kept until the screen collects it; the service signs
    the same claims again then (every claim follows from the row; under Ed25519 the very same
    token, under SM2 another signature) and hands the token out only if its signed part
    hashes to this value, then erases the hash.
    """

    __tablename__ = "login_challenge"

    challenge_id: str = Field(sa_column=Column(String(32), primary_key=True))
    nonce: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    poll_secret_hash: str = Field(sa_column=Column(String(64), nullable=False))
    created_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    expires_at: int = Field(sa_column=Column(BigInteger, nullable=False))
    used_at: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    holder: str | None = Field(default=None, sa_column=Column(String(42), nullable=True))
    relying_party: str | None = Field(default=None, sa_column=Column(String(128), nullable=True))
    """Who the login is for: an organisation's ``urn:hrss:entity:`` id, or ``None`` for this
    service itself."""
    subject: str | None = Field(default=None, sa_column=Column(String(64), nullable=True))
    """The person's pairwise pseudonym at the relying party, once answered."""
    pending_token_sha256: str | None = Field(
        default=None, sa_column=Column(String(64), nullable=True)
    )


class _Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LoginChallengePublic(_Wire):
    challenge_id: str
    qr: str
    expires_at: int
    poll_secret: str


class LoginResponseSubmit(_Wire):
    response: str = PydanticField(min_length=1, max_length=16384)


class LoginPoll(_Wire):
    poll_secret: str = PydanticField(min_length=1, max_length=128)


class CardholderTokenPublic(_Wire):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    subject: str
    """The person's pairwise pseudonym at the relying party (the token's ``sub``)."""
    holder: str | None
    """The holder address of the wallet that logged in; only in a login to this service."""
