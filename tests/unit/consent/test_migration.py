"""The consent migration goes up, down and up again on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from credential_service.persistence import create_database_engine, migrate
from credential_service.persistence.database import alembic_config

TABLES = {"consent_request", "consent", "consent_receipt", "data_use_check", "login_challenge"}


def test_consent_migration_round_trip(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "consent_0001")
        assert TABLES <= set(inspect(engine).get_table_names())
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "anchoring_0001")
        assert not TABLES & set(inspect(engine).get_table_names())
        migrate(engine)
        assert TABLES <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
