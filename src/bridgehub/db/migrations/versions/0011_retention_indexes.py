"""index the times the retention purge reads

The purge deletes executions and sync runs finished, and events received, before a cutoff,
a batch at a time: each batch reads the oldest rows of one of these indexes instead of
scanning the table.

Revision ID: 0011
Revises: 0010

"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_COLUMNS = (("executions", "finished_at"), ("sync_runs", "finished_at"), ("events", "received_at"))


def upgrade() -> None:
    for table, column in _COLUMNS:
        op.create_index(op.f(f"ix_{table}_{column}"), table, [column], unique=False)


def downgrade() -> None:
    for table, column in _COLUMNS:
        op.drop_index(op.f(f"ix_{table}_{column}"), table_name=table)
