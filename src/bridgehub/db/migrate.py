"""Schema migrations, applied on start.

Several hub processes may start at once against one database; a PostgreSQL advisory
lock lets exactly one of them migrate while the others wait and then find nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, text

from bridgehub.accounts import models as _accounts  # noqa: F401  (registers tables)
from bridgehub.activations import models as _activations  # noqa: F401  (registers tables)
from bridgehub.agents import models as _agents  # noqa: F401  (registers tables)
from bridgehub.automations import models as _automations  # noqa: F401  (registers tables)
from bridgehub.contacts import models as _contacts  # noqa: F401  (registers tables)
from bridgehub.db.base import Base
from bridgehub.executions import models as _executions  # noqa: F401  (registers tables)
from bridgehub.integrations import models as _integrations  # noqa: F401  (registers tables)
from bridgehub.web import models as _web  # noqa: F401  (registers tables)

target_metadata = Base.metadata


def owned_by_the_hub(_: object, name: str | None, kind: str, *__: object) -> bool:
    """Alembic's `include_object`: what autogenerate compares. The task queue's tables are
    procrastinate's, not ours; and Alembic cannot compare indexes on expressions, which
    are therefore named `..._expression` and left out."""
    if name is None:
        return True
    if kind == "table":
        return not name.startswith("procrastinate_")
    return not (kind == "index" and name.endswith("_expression"))


# An arbitrary constant that names "the migration lock" for pg_advisory_xact_lock.
_MIGRATION_LOCK_ID = 0x6272_6964_6765


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return config


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
