"""Alembic environment: always run programmatically with a connection in
``config.attributes["connection"]`` (see ``credential_service.persistence.migrate``)."""

from alembic import context
from sqlmodel import SQLModel

import credential_service.anchoring.models  # (registers the anchoring tables)
import credential_service.models  # noqa: F401  (registers the tables)

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through credential_service.persistence.migrate")

context.configure(
    connection=connection,
    target_metadata=SQLModel.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
