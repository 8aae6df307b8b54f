"""The consent migration goes up, down and up again on both databases."""

from __future__ import annotations

from alembic import command
from sqlalchemy import inspect, text

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


def test_grants_from_before_subjects_are_not_the_subjects(database_url: str) -> None:
    """A consent recorded before grants carried an e-card proof migrates as not proved to be
    the subject's (every check of it answers ``subject_mismatch``); the revision goes down and
    up again."""
    engine = create_database_engine(database_url)
    try:
        migrate(engine, "cards_0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO consent (consent_id, request_id, organisation_id, holder, "
                    "signed, state, not_before, not_after, granted_tx, granted_block, "
                    "granted_at, created_at) VALUES ('0x01', 'r', 1, '0x02', '{}', 'granted', "
                    "0, 1, '0x03', 1, 1, CURRENT_TIMESTAMP)"
                )
            )
        migrate(engine)
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT subject_verified, identity_proof_sealed, subject_check FROM consent")
            ).one()
        assert (bool(row[0]), row[1], row[2]) == (False, None, None)
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "cards_0001")
        assert "subject_verified" not in {c["name"] for c in inspect(engine).get_columns("consent")}
        migrate(engine)
        assert "subject_sealed" in {
            c["name"] for c in inspect(engine).get_columns("consent_request")
        }
    finally:
        engine.dispose()


def test_login_pairwise_migration_matches_the_models_and_round_trips(database_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlmodel import SQLModel

    from credential_service.cards.models import CardHolding
    from credential_service.login.models import LoginChallenge

    tables = (CardHolding.__tablename__, LoginChallenge.__tablename__)
    engine = create_database_engine(database_url)
    try:
        migrate(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            differences = [
                d
                for d in compare_metadata(context, SQLModel.metadata)
                if any(table in repr(d) for table in tables)
            ]
        assert differences == []
        columns = {c["name"] for c in inspect(engine).get_columns("login_challenge")}
        assert {"relying_party", "subject"} <= columns
        config = alembic_config()
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "cards_0001")
        columns = {c["name"] for c in inspect(engine).get_columns("login_challenge")}
        assert not {"relying_party", "subject"} & columns
        migrate(engine)
        columns = {c["name"] for c in inspect(engine).get_columns("login_challenge")}
        assert {"relying_party", "subject"} <= columns
    finally:
        engine.dispose()
