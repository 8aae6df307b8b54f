"""organisation keys carry their on-chain purpose: organisation_key.purpose

Keys registered before purposes existed were client-authentication keys (the only kind the
route registered), so that is the default they get.

Revision ID: key_purpose_0001
Revises: idempotency_0001
Create Date: 2026-12-03
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "key_purpose_0001"
down_revision: str | None = "sealing_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "organisation_key",
        sa.Column(
            "purpose",
            sa.String(length=32),
            nullable=False,
            server_default="client_authentication",
        ),
    )


def downgrade() -> None:
    with op.batch_alter_table("organisation_key") as batch:
        batch.drop_column("purpose")
