"""electronic labour contracts: labour_contract, labour_contract_version, labour_contract_event

Revision ID: labour_0001
Revises: credentials_0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "labour_0001"
down_revision: str | None = "credentials_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "labour_contract",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("employer_id", sa.Integer(), nullable=False),
        sa.Column("employee_holder", sa.String(length=42), nullable=False),
        sa.Column("employee_did", sa.String(length=512), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("effective_version", sa.Integer(), nullable=True),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("pending", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["employer_id"], ["organisation.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_labour_contract_employer_id", "labour_contract", ["employer_id"])
    op.create_index("ix_labour_contract_employee_holder", "labour_contract", ["employee_holder"])
    op.create_table(
        "labour_contract_version",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("relation", sa.String(length=16), nullable=False),
        sa.Column("hr_operator", sa.String(length=200), nullable=False),
        sa.Column("document", sa.LargeBinary(), nullable=False),
        sa.Column("document_digest", sa.String(length=66), nullable=False),
        sa.Column("media_type", sa.String(length=127), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("key_terms_sealed", sa.LargeBinary(), nullable=False),
        sa.Column("key_terms_commitment", sa.String(length=66), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "version", name="uq_labour_version"),
    )
    op.create_index(
        "ix_labour_contract_version_contract_id", "labour_contract_version", ["contract_id"]
    )
    op.create_index(
        "ix_labour_contract_version_document_digest",
        "labour_contract_version",
        ["document_digest"],
    )
    op.create_table(
        "labour_contract_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contract_id", sa.String(length=36), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("record_digest", sa.String(length=66), nullable=False),
        sa.Column("signature", sa.JSON(), nullable=False),
        sa.Column("event_digest", sa.String(length=66), nullable=False),
        sa.Column("anchor_item_id", sa.LargeBinary(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("contract_id", "sequence", name="uq_labour_event"),
    )
    op.create_index(
        "ix_labour_contract_event_contract_id", "labour_contract_event", ["contract_id"]
    )


def downgrade() -> None:
    op.drop_table("labour_contract_event")
    op.drop_table("labour_contract_version")
    op.drop_table("labour_contract")
