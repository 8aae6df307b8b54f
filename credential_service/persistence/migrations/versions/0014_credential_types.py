"""credential_type: the credential types the Ministry published, their schemas (RFC 8785
canonical JSON) and the schema digests committed on chain

Revision ID: credential_types_0001
Revises: labour_identity_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "credential_types_0001"
down_revision: str | None = "labour_identity_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credential_type",
        sa.Column("term", sa.String(length=64), primary_key=True),
        sa.Column("vct", sa.String(length=256), nullable=False, unique=True),
        sa.Column("type_id", sa.String(length=66), nullable=False, unique=True),
        sa.Column("schema_name", sa.String(length=96), nullable=False, unique=True),
        sa.Column("canonical_schema", sa.Text(), nullable=False),
        sa.Column("schema_digest", sa.String(length=66), nullable=False),
        sa.Column("publisher_id", sa.Integer(), sa.ForeignKey("organisation.id"), nullable=False),
        sa.Column("published_at", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(length=66), nullable=True),
    )
    op.create_index("ix_credential_type_publisher_id", "credential_type", ["publisher_id"])


def downgrade() -> None:
    op.drop_index("ix_credential_type_publisher_id", table_name="credential_type")
    op.drop_table("credential_type")
