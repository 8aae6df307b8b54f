"""personal data sealed at rest: contract documents, consent requests; no login tokens

Revision ID: sealing_0001
Revises: idempotency_0001
Create Date: 2026-12-03

- ``labour_contract_version.document`` becomes ``document_sealed`` (AES-256-GCM under the
  labour key-terms secret) and ``document_size``;
- ``consent_request.body`` becomes ``body_sealed`` and ``consent_receipt.token``
  ``token_sealed`` (AES-256-GCM under the consent sealing secret; a receipt carries the
  request);
- ``login_challenge.pending_token`` becomes ``pending_token_sha256``. A token waiting to be
  collected when the upgrade runs is dropped: the screen that showed the QR gets 401 and the
  cardholder scans again (a challenge lives two minutes).

Existing documents, requests and receipts are sealed here, with the secrets `migrate` passes in
``config.attributes["sealing"]`` (`credential_service.persistence.SealingSecrets`). A database
with rows to seal and no secrets stops the upgrade (nothing is changed): run it through the
service, which holds the keystore. The downgrade opens the seals again (with the secrets).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "sealing_0001"
down_revision: str | None = "idempotency_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERSIONS = sa.table(
    "labour_contract_version",
    sa.column("id", sa.Integer),
    sa.column("contract_id", sa.String),
    sa.column("version", sa.Integer),
    sa.column("document", sa.LargeBinary),
    sa.column("document_sealed", sa.LargeBinary),
    sa.column("document_size", sa.Integer),
)
_RECEIPTS = sa.table(
    "consent_receipt",
    sa.column("id", sa.Integer),
    sa.column("consent_id", sa.String),
    sa.column("event", sa.String),
    sa.column("token", sa.Text),
    sa.column("token_sealed", sa.LargeBinary),
)
_REQUESTS = sa.table(
    "consent_request",
    sa.column("request_id", sa.String),
    sa.column("body", sa.JSON),
    sa.column("body_sealed", sa.LargeBinary),
)


def _rows_and_secrets(
    connection: sa.Connection,
) -> tuple[list[tuple[int, str, int]], list[str], list[tuple[int, str, str]], Any]:
    """The document rows (id, contract, version), the request ids, the receipt rows (id,
    consent, event), and the secrets, which must be there when any row is."""
    documents = [
        (int(row_id), str(contract_id), int(version))
        for row_id, contract_id, version in connection.execute(
            sa.select(_VERSIONS.c.id, _VERSIONS.c.contract_id, _VERSIONS.c.version)
        )
    ]
    requests = [
        str(request_id) for request_id in connection.scalars(sa.select(_REQUESTS.c.request_id))
    ]
    receipts = [
        (int(row_id), str(consent_id), str(event))
        for row_id, consent_id, event in connection.execute(
            sa.select(_RECEIPTS.c.id, _RECEIPTS.c.consent_id, _RECEIPTS.c.event)
        )
    ]
    secrets = op.get_context().config.attributes.get("sealing")  # type: ignore[union-attr]  # alembic types config Optional; migrate() always sets it
    if (documents or requests or receipts) and secrets is None:
        raise RuntimeError(
            "existing contract documents and consent requests must be sealed: run this "
            "migration through the service (it passes the keystore's sealing secrets)"
        )
    return documents, requests, receipts, secrets


def upgrade() -> None:
    from credential_service.consent.service import seal_receipt, seal_request_body
    from credential_service.labour.service import seal_document

    connection = op.get_bind()
    documents, requests, receipts, secrets = _rows_and_secrets(connection)

    with op.batch_alter_table("labour_contract_version") as batch:
        batch.add_column(sa.Column("document_sealed", sa.LargeBinary(), nullable=True))
        batch.add_column(sa.Column("document_size", sa.Integer(), nullable=True))
    for row_id, contract_id, version in documents:
        # one row at a time: documents are up to a few MiB each
        document = connection.execute(
            sa.select(_VERSIONS.c.document).where(_VERSIONS.c.id == row_id)
        ).scalar_one()
        connection.execute(
            _VERSIONS.update()
            .where(_VERSIONS.c.id == row_id)
            .values(
                document_sealed=seal_document(
                    secrets.labour, contract_id=contract_id, version=version, document=document
                ),
                document_size=len(document),
            )
        )
    with op.batch_alter_table("labour_contract_version") as batch:
        batch.drop_column("document")
        batch.alter_column("document_sealed", existing_type=sa.LargeBinary(), nullable=False)
        batch.alter_column("document_size", existing_type=sa.Integer(), nullable=False)

    with op.batch_alter_table("consent_request") as batch:
        batch.add_column(sa.Column("body_sealed", sa.LargeBinary(), nullable=True))
    for request_id in requests:
        body = connection.execute(
            sa.select(_REQUESTS.c.body).where(_REQUESTS.c.request_id == request_id)
        ).scalar_one()
        if isinstance(body, str):
            body = json.loads(body)
        connection.execute(
            _REQUESTS.update()
            .where(_REQUESTS.c.request_id == request_id)
            .values(
                body_sealed=seal_request_body(secrets.consent, request_id=request_id, body=body)
            )
        )
    with op.batch_alter_table("consent_request") as batch:
        batch.drop_column("body")
        batch.alter_column("body_sealed", existing_type=sa.LargeBinary(), nullable=False)

    with op.batch_alter_table("consent_receipt") as batch:
        batch.add_column(sa.Column("token_sealed", sa.LargeBinary(), nullable=True))
    for row_id, consent_id, event in receipts:
        token = connection.execute(
            sa.select(_RECEIPTS.c.token).where(_RECEIPTS.c.id == row_id)
        ).scalar_one()
        sealed = seal_receipt(secrets.consent, consent_id=consent_id, event=event, token=token)
        connection.execute(
            _RECEIPTS.update().where(_RECEIPTS.c.id == row_id).values(token_sealed=sealed)
        )
    with op.batch_alter_table("consent_receipt") as batch:
        batch.drop_column("token")
        batch.alter_column("token_sealed", existing_type=sa.LargeBinary(), nullable=False)

    with op.batch_alter_table("login_challenge") as batch:
        batch.drop_column("pending_token")
        batch.add_column(sa.Column("pending_token_sha256", sa.String(length=64), nullable=True))


def downgrade() -> None:
    from credential_service.consent.service import open_receipt, open_request_body
    from credential_service.labour.service import open_document

    connection = op.get_bind()
    documents, requests, receipts, secrets = _rows_and_secrets(connection)

    with op.batch_alter_table("login_challenge") as batch:
        batch.drop_column("pending_token_sha256")
        batch.add_column(sa.Column("pending_token", sa.Text(), nullable=True))

    with op.batch_alter_table("consent_receipt") as batch:
        batch.add_column(sa.Column("token", sa.Text(), nullable=True))
    for row_id, consent_id, event in receipts:
        sealed = connection.execute(
            sa.select(_RECEIPTS.c.token_sealed).where(_RECEIPTS.c.id == row_id)
        ).scalar_one()
        token = open_receipt(secrets.consent, consent_id=consent_id, event=event, sealed=sealed)
        connection.execute(_RECEIPTS.update().where(_RECEIPTS.c.id == row_id).values(token=token))
    with op.batch_alter_table("consent_receipt") as batch:
        batch.drop_column("token_sealed")
        batch.alter_column("token", existing_type=sa.Text(), nullable=False)

    with op.batch_alter_table("consent_request") as batch:
        batch.add_column(sa.Column("body", sa.JSON(), nullable=True))
    for request_id in requests:
        sealed = connection.execute(
            sa.select(_REQUESTS.c.body_sealed).where(_REQUESTS.c.request_id == request_id)
        ).scalar_one()
        body = open_request_body(secrets.consent, request_id=request_id, sealed=sealed)
        connection.execute(
            _REQUESTS.update().where(_REQUESTS.c.request_id == request_id).values(body=body)
        )
    with op.batch_alter_table("consent_request") as batch:
        batch.drop_column("body_sealed")
        batch.alter_column("body", existing_type=sa.JSON(), nullable=False)

    with op.batch_alter_table("labour_contract_version") as batch:
        batch.add_column(sa.Column("document", sa.LargeBinary(), nullable=True))
    for row_id, contract_id, version in documents:
        sealed = connection.execute(
            sa.select(_VERSIONS.c.document_sealed).where(_VERSIONS.c.id == row_id)
        ).scalar_one()
        document = open_document(
            secrets.labour, contract_id=contract_id, version=version, sealed=sealed
        )
        connection.execute(
            _VERSIONS.update().where(_VERSIONS.c.id == row_id).values(document=document)
        )
    with op.batch_alter_table("labour_contract_version") as batch:
        batch.drop_column("document_sealed")
        batch.drop_column("document_size")
        batch.alter_column("document", existing_type=sa.LargeBinary(), nullable=False)
