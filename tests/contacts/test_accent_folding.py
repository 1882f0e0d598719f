"""fold_accents, which contact search and its index call: PostgreSQL's unaccent where the
server has it (a standalone server from Debian's package), translate() on the embedded one."""

from __future__ import annotations

import psycopg
from sqlalchemy import create_engine, text

from bridgehub.db import migrate
from tests.conftest import NewDatabase
from tests.standalone_postgres import StandaloneServer

_FOLD = text("SELECT fold_accents(:words)")
_UNACCENT = text("SELECT count(*) FROM pg_extension WHERE extname = 'unaccent'")


def folded(url: str, *words: str) -> tuple[list[str], int]:
    """Each of `words` folded, and how many unaccent extensions the database has."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    try:
        with engine.connect() as connection:
            answers = [connection.scalar(_FOLD, {"words": w}) for w in words]
            return answers, connection.scalar(_UNACCENT)
    finally:
        engine.dispose()


def test_the_embedded_server_folds_letters_unicode_decomposes(new_database: NewDatabase) -> None:
    url = new_database("accent_folding")
    migrate.upgrade(url)
    answers, extensions = folded(url, "Jörg Ångström", "Café Zoë Łódź", "Ørsted", "Acme\t& Co.")
    assert answers == ["Jorg Angstrom", "Cafe Zoe Łodz", "Ørsted", "Acme\t& Co."]
    assert extensions == 0


def test_a_server_with_unaccent_folds_with_it(standalone_postgres: StandaloneServer) -> None:
    migrate.upgrade(standalone_postgres.url)
    answers, extensions = folded(standalone_postgres.url, "Jörg Ångström", "Ørsted Łódź")
    assert answers == ["Jorg Angstrom", "Orsted Lodz"]
    assert extensions == 1


def test_going_back_down_leaves_the_database_its_unaccent(
    standalone_postgres: StandaloneServer,
) -> None:
    # The extension was there first (another application's, or the administrator's).
    with psycopg.connect(standalone_postgres.url, autocommit=True) as database:
        database.execute("CREATE EXTENSION unaccent")
    migrate.upgrade(standalone_postgres.url)
    migrate.downgrade(standalone_postgres.url, "0015")
    with psycopg.connect(standalone_postgres.url) as database:
        assert database.execute("SELECT unaccent('Jörg')").fetchone() == ("Jorg",)
    migrate.upgrade(standalone_postgres.url)
    assert folded(standalone_postgres.url, "Ørsted") == (["Orsted"], 1)
