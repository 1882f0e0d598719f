"""Schema migrations, applied on start.

Several hub processes may start at once against one database; a PostgreSQL advisory
lock lets exactly one of them migrate while the others wait and then find nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

# An arbitrary constant that names "the migration lock" for pg_advisory_xact_lock.
_MIGRATION_LOCK_ID = 0x6272_6964_6765


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


def head() -> str:
    """The revision the newest migration brings a database to."""
    current = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert current is not None, "the hub has migrations"
    return current


def upgrade(url: str, revision: str = "head") -> None:
    _run(url, lambda config: command.upgrade(config, revision))


def downgrade(url: str, revision: str) -> None:
    _run(url, lambda config: command.downgrade(config, revision))


def _run(url: str, step: Callable[[Config], None]) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
            )
            config = alembic_config()
            config.attributes["connection"] = connection
            step(config)
    finally:
        engine.dispose()
