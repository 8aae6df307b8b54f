"""idempotent issuance: credential_idempotency_key

Revision ID: idempotency_0001
Revises: labour_0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "idempotency_0001"
down_revision: str | None = "labour_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_idempotency_key",
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("request_digest", sa.String(length=64), nullable=False),
        sa.Column("response_status", sa.Integer(), nullable=False),
        sa.Column("sealed_response", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["organisation_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("organisation_id", "key_hash"),
    )
    op.create_index(
        "ix_credential_idempotency_key_expires_at", "credential_idempotency_key", ["expires_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_credential_idempotency_key_expires_at", "credential_idempotency_key")
    op.drop_table("credential_idempotency_key")
