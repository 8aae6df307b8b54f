"""credentials: credential, credential_signing_key

Revision ID: credentials_0001
Revises: consent_0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "credentials_0001"
down_revision: str | None = "consent_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential",
        sa.Column("id", sa.String(length=66), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("credential_type", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.String(length=66), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_reason", sa.Integer(), nullable=False),
        sa.Column("anchor_item_id", sa.LargeBinary(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_credential_organisation_id", "credential", ["organisation_id"])
    op.create_table(
        "credential_signing_key",
        sa.Column("key_id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("keystore_name", sa.String(length=128), nullable=False),
        sa.Column("alg", sa.String(length=16), nullable=False),
        sa.Column("valid_from", sa.BigInteger(), nullable=False),
        sa.Column("valid_until", sa.BigInteger(), nullable=True),
        sa.Column("revoked_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("key_id"),
        sa.UniqueConstraint("keystore_name"),
    )
    op.create_index(
        "ix_credential_signing_key_organisation_id", "credential_signing_key", ["organisation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_credential_signing_key_organisation_id", "credential_signing_key")
    op.drop_table("credential_signing_key")
    op.drop_index("ix_credential_organisation_id", "credential")
    op.drop_table("credential")
