"""Alembic environment: the hub hands over an open connection (see `bridgehub.db.migrate`).
Migrations are written by hand; `bridgehub.tables` is what the tests check them against."""

from __future__ import annotations

from alembic import context

context.configure(connection=context.config.attributes["connection"])
with context.begin_transaction():
    context.run_migrations()
