"""anchoring outbox: anchor_item, anchor_batch, anchor_proof

Revision ID: anchoring_0001
Revises: 0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "anchoring_0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "anchor_item",
        sa.Column("id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("digest", sa.LargeBinary(length=64), nullable=False),
        sa.Column("document_type", sa.String(length=64), nullable=False),
        sa.Column("commitments", sa.JSON(none_as_null=True), nullable=True),
        sa.Column(
            "submitted_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("batch_id", sa.LargeBinary(length=16), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_anchor_item_waiting",
        "anchor_item",
        ["submitted_at"],
        postgresql_where=sa.text("batch_id IS NULL"),
        sqlite_where=sa.text("batch_id IS NULL"),
    )
    op.create_index("ix_anchor_item_batch", "anchor_item", ["batch_id"])
    op.create_table(
        "anchor_batch",
        sa.Column("id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("algorithm", sa.String(length=16), nullable=False),
        sa.Column("root", sa.LargeBinary(length=32), nullable=False),
        sa.Column("leaf_count", sa.Integer(), nullable=False),
        sa.Column("sealed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=128), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("chain_id", sa.BigInteger(), nullable=True),
        sa.Column("registry_address", sa.String(length=42), nullable=True),
        sa.Column("anchored_by", sa.String(length=42), nullable=True),
        sa.Column("entity_id", sa.LargeBinary(length=32), nullable=True),
        sa.Column("transaction_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("block_number", sa.BigInteger(), nullable=True),
        sa.Column("block_hash", sa.LargeBinary(length=32), nullable=True),
        sa.Column("block_time", sa.BigInteger(), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rollbacks", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_anchor_batch_state", "anchor_batch", ["state", "next_attempt_at"])
    op.create_table(
        "anchor_proof",
        sa.Column("item_id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("batch_id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("leaf_index", sa.Integer(), nullable=False),
        sa.Column("path", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("item_id"),
    )
    op.create_index("ix_anchor_proof_batch", "anchor_proof", ["batch_id"])


def downgrade() -> None:
    op.drop_index("ix_anchor_proof_batch", table_name="anchor_proof")
    op.drop_table("anchor_proof")
    op.drop_index("ix_anchor_batch_state", table_name="anchor_batch")
    op.drop_table("anchor_batch")
    op.drop_index("ix_anchor_item_batch", table_name="anchor_item")
    op.drop_index("ix_anchor_item_waiting", table_name="anchor_item")
    op.drop_table("anchor_item")
