"""labour contracts name the employee: the name and ID number sealed at rest with the salt
of their commitment, and the commitment every offer carries

Revision ID: labour_identity_0001
Revises: login_pairwise_0001
Create Date: 2026-12-03

Contracts created before have neither (nullable): they cannot be offered again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "labour_identity_0001"
down_revision: str | None = "login_pairwise_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "labour_contract", sa.Column("employee_identity_sealed", sa.LargeBinary(), nullable=True)
    )
    op.add_column(
        "labour_contract",
        sa.Column("employee_identity_commitment", sa.String(length=66), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("labour_contract", "employee_identity_commitment")
    op.drop_column("labour_contract", "employee_identity_sealed")
