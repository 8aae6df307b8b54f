"""e-card activation: card_activation (one-time codes, the subject sealed) and card_holding
(one active e-card per person, by a keyed commitment of the ID number)

Revision ID: cards_0001
Revises: key_purpose_0001
Create Date: 2026-12-03

Organisation kinds are strings, so the new kind ``card_issuer`` needs no change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "cards_0001"
down_revision: str | None = "key_purpose_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "card_activation",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("code_hmac", sa.String(length=64), nullable=False, unique=True),
        sa.Column(
            "organisation_id", sa.Integer(), sa.ForeignKey("organisation.id"), nullable=False
        ),
        sa.Column("person", sa.String(length=64), nullable=False),
        sa.Column("subject_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("used_at", sa.BigInteger(), nullable=True),
        sa.Column("credential_id", sa.String(length=66), nullable=True),
    )
    op.create_index("ix_card_activation_organisation_id", "card_activation", ["organisation_id"])
    op.create_index("ix_card_activation_person", "card_activation", ["person"])
    op.create_table(
        "card_holding",
        sa.Column("person", sa.String(length=64), primary_key=True),
        sa.Column("credential_id", sa.String(length=66), nullable=False),
        sa.Column(
            "organisation_id", sa.Integer(), sa.ForeignKey("organisation.id"), nullable=False
        ),
        sa.Column("activated_at", sa.BigInteger(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("card_holding")
    op.drop_index("ix_card_activation_person", table_name="card_activation")
    op.drop_index("ix_card_activation_organisation_id", table_name="card_activation")
    op.drop_table("card_activation")
