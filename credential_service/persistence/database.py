"""Engine construction (SQLite with WAL and foreign keys, or PostgreSQL) and migrations."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

_MIGRATIONS = Path(__file__).parent / "migrations"


def create_database_engine(url: str) -> Engine:
    """An engine for ``url``. A SQLite file gets WAL journalling, foreign keys and a busy
    timeout on every connection; its directory is created when missing."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    return engine


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


@dataclass(frozen=True)
class SealingSecrets:
    """The keystore secrets that seal personal data at rest, for migrations that seal rows
    written before (``labour``: contract documents; ``consent``: consent requests)."""

    labour: bytes = field(repr=False)
    consent: bytes = field(repr=False)


def migrate(
    engine: Engine, revision: str = "head", *, sealing: SealingSecrets | None = None
) -> None:
    """Upgrade the schema of ``engine``'s database to ``revision``.

    ``sealing`` is needed only when existing rows must be sealed on the way (a database with
    contract documents or consent requests from before revision ``sealing_0001``); without
    it such an upgrade raises ``RuntimeError`` and changes nothing.
    """
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        config.attributes["sealing"] = sealing
        command.upgrade(config, revision)
