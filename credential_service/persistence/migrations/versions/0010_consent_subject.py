"""consent from the data subject: consent_request.subject_sealed (the subject's ID number,
sealed), consent.identity_proof_sealed (the grant's e-card proof, sealed), consent.subject_verified
and consent.subject_check (whether the proof showed the grantor to be the subject)

Revision ID: consent_subject_0001
Revises: cards_0001
Create Date: 2026-12-03

Grants recorded before this revision carry no proof: they keep ``subject_verified`` false, so
every check of them answers ``subject_mismatch`` (nothing shows their grantor was the subject).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "consent_subject_0001"
down_revision: str | None = "cards_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("consent_request") as batch:
        batch.add_column(sa.Column("subject_sealed", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("consent") as batch:
        batch.add_column(sa.Column("identity_proof_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(
            sa.Column("subject_verified", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("subject_check", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consent") as batch:
        batch.drop_column("subject_check")
        batch.drop_column("subject_verified")
        batch.drop_column("identity_proof_sealed")
    with op.batch_alter_table("consent_request") as batch:
        batch.drop_column("subject_sealed")
