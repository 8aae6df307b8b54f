"""consent and cardholder login: consent_request, consent, consent_receipt, data_use_check,
login_challenge

Revision ID: consent_0001
Revises: anchoring_0001
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consent_0001"
down_revision: str | None = "anchoring_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "consent_request",
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("request_id"),
    )
    op.create_index("ix_consent_request_organisation_id", "consent_request", ["organisation_id"])
    op.create_table(
        "consent",
        sa.Column("consent_id", sa.String(length=66), nullable=False),
        sa.Column("request_id", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=False),
        sa.Column("signed", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("not_before", sa.BigInteger(), nullable=False),
        sa.Column("not_after", sa.BigInteger(), nullable=False),
        sa.Column("granted_tx", sa.String(length=66), nullable=False),
        sa.Column("granted_block", sa.BigInteger(), nullable=False),
        sa.Column("granted_at", sa.BigInteger(), nullable=False),
        sa.Column("withdrawn_tx", sa.String(length=66), nullable=True),
        sa.Column("withdrawn_at", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("consent_id"),
    )
    op.create_index("ix_consent_request_id", "consent", ["request_id"])
    op.create_index("ix_consent_organisation_id", "consent", ["organisation_id"])
    op.create_index("ix_consent_holder", "consent", ["holder"])
    op.create_table(
        "consent_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.String(length=66), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_consent_receipt_consent_id", "consent_receipt", ["consent_id"])
    op.create_table(
        "data_use_check",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consent_id", sa.String(length=66), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("holder", sa.String(length=42), nullable=True),
        sa.Column("purpose", sa.String(length=64), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("block_number", sa.BigInteger(), nullable=False),
        sa.Column("block_time", sa.BigInteger(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_data_use_check_consent_id", "data_use_check", ["consent_id"])
    op.create_index("ix_data_use_check_organisation_id", "data_use_check", ["organisation_id"])
    op.create_index("ix_data_use_check_holder", "data_use_check", ["holder"])
    op.create_table(
        "login_challenge",
        sa.Column("challenge_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("poll_secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("holder", sa.String(length=42), nullable=True),
        sa.Column("pending_token", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("challenge_id"),
        sa.UniqueConstraint("nonce"),
    )


def downgrade() -> None:
    op.drop_table("login_challenge")
    op.drop_index("ix_data_use_check_holder", table_name="data_use_check")
    op.drop_index("ix_data_use_check_organisation_id", table_name="data_use_check")
    op.drop_index("ix_data_use_check_consent_id", table_name="data_use_check")
    op.drop_table("data_use_check")
    op.drop_index("ix_consent_receipt_consent_id", table_name="consent_receipt")
    op.drop_table("consent_receipt")
    op.drop_index("ix_consent_holder", table_name="consent")
    op.drop_index("ix_consent_organisation_id", table_name="consent")
    op.drop_index("ix_consent_request_id", table_name="consent")
    op.drop_table("consent")
    op.drop_index("ix_consent_request_organisation_id", table_name="consent_request")
    op.drop_table("consent_request")
