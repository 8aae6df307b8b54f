"""Database access: engine construction and programmatic Alembic migrations."""

from credential_service.persistence.database import (
    SealingSecrets,
    create_database_engine,
    migrate,
)

__all__ = ["SealingSecrets", "create_database_engine", "migrate"]
