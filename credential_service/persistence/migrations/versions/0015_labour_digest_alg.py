"""labour_contract_version.digest_alg: the hash of a version's document digest, key-terms
commitment and records (sha-256, or sm3 in the national profile)

Revision ID: labour_digest_alg_0001
Revises: credential_types_0001
Create Date: 2026-12-03

Versions stored before were all SHA-256: the server default says so.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "labour_digest_alg_0001"
down_revision: str | None = "credential_types_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "labour_contract_version",
        sa.Column("digest_alg", sa.String(length=16), nullable=False, server_default="sha-256"),
    )


def downgrade() -> None:
    op.drop_column("labour_contract_version", "digest_alg")
