"""holder succession: card_holding.holder_address and holder_succession (old phone's holder
address → new phone's, as recorded on ConsentRegistry by the card issuer)

Revision ID: succession_0001
Revises: consent_subject_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "succession_0001"
down_revision: str | None = "consent_subject_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("card_holding", sa.Column("holder_address", sa.String(length=42), nullable=True))
    op.create_table(
        "holder_succession",
        sa.Column("predecessor", sa.String(length=42), primary_key=True),
        sa.Column("successor", sa.String(length=42), nullable=False),
        sa.Column(
            "organisation_id", sa.Integer(), sa.ForeignKey("organisation.id"), nullable=False
        ),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.Column("transaction_hash", sa.String(length=66), nullable=False),
    )
    op.create_index("ix_holder_succession_successor", "holder_succession", ["successor"])


def downgrade() -> None:
    op.drop_index("ix_holder_succession_successor", table_name="holder_succession")
    op.drop_table("holder_succession")
    with op.batch_alter_table("card_holding") as batch:
        batch.drop_column("holder_address")
