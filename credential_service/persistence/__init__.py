"""Database access: engine construction and programmatic Alembic migrations."""

from credential_service.persistence.database import create_database_engine, migrate

__all__ = ["create_database_engine", "migrate"]
