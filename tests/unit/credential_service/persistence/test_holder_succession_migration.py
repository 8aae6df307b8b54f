"""The holder succession migration goes up, down and up again on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from credential_service.persistence import create_database_engine, migrate
from credential_service.persistence.database import alembic_config


def _shape(engine: object) -> tuple[bool, bool]:
    inspector = inspect(engine)
    holding = {column["name"] for column in inspector.get_columns("card_holding")}
    return "holder_succession" in inspector.get_table_names(), "holder_address" in holding


def test_holder_succession_migration_round_trip(database_url: str) -> None:
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "succession_0001")
        assert _shape(engine) == (True, True)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "consent_subject_0001")
        assert _shape(engine) == (False, False)
        migrate(engine)
        assert _shape(engine) == (True, True)
    finally:
        engine.dispose()
