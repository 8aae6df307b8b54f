"""e-card login: login_challenge.relying_party (who the login is for) and login_challenge.subject
(the person's pairwise pseudonym there)

Revision ID: login_pairwise_0001
Revises: succession_0001
Create Date: 2026-12-03

Challenges live two minutes: rows answered before this revision keep a null subject, and the
screen collecting such a token gets the same 401 as for an expired one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "login_pairwise_0001"
down_revision: str | None = "succession_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("login_challenge") as batch:
        batch.add_column(sa.Column("relying_party", sa.String(length=128), nullable=True))
        batch.add_column(sa.Column("subject", sa.String(length=64), nullable=True))
    op.create_index("ix_card_holding_credential_id", "card_holding", ["credential_id"])


def downgrade() -> None:
    op.drop_index("ix_card_holding_credential_id", table_name="card_holding")
    with op.batch_alter_table("login_challenge") as batch:
        batch.drop_column("subject")
        batch.drop_column("relying_party")
