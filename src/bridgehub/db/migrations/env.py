"""Alembic environment: the hub hands over an open connection (see `bridgehub.db.migrate`)."""

from __future__ import annotations

from alembic import context

from bridgehub.db.migrate import owned_by_the_hub, target_metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    compare_type=True,
    include_object=owned_by_the_hub,
)
with context.begin_transaction():
    context.run_migrations()
