"""Where the database is, and the async engine and sessions the hub uses to reach it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bridgehub.db.embedded import embedded_database_url, kept_running, start_embedded_postgres
from bridgehub.settings import Settings

_SCHEMES = ("postgres://", "postgresql://", "postgresql+psycopg://")


def sqlalchemy_url(url: str) -> str:
    """Accept the URL forms people and platforms hand out, and pin the psycopg 3 driver."""
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            return "postgresql+psycopg://" + url[len(scheme) :]
    raise ValueError(
        "DATABASE_URL must be a PostgreSQL URL (postgresql://user:password@host/database)"
    )


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    """The database to use: `DATABASE_URL`, or the embedded server for as long as the block runs."""
    if settings.database_url is not None:
        yield sqlalchemy_url(settings.database_url.get_secret_value())
        return
    server = start_embedded_postgres(settings.home)
    try:
        with kept_running(server):
            yield embedded_database_url(server)
    finally:
        server.cleanup()


def create_engine(url: str) -> AsyncEngine:
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
