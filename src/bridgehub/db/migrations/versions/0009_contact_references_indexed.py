"""index the contact named by executions and events

Deleting a contact sets `contact_id` to NULL in both tables; without an index each
deletion scans them whole (100,000 contacts of a disconnected activation took over a
minute of PostgreSQL's CPU).

Revision ID: 0009
Revises: 0008

"""

from __future__ import annotations

from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_TABLES = ("executions", "events")


def upgrade() -> None:
    for table in _TABLES:
        op.create_index(op.f(f"ix_{table}_contact_id"), table, ["contact_id"], unique=False)


def downgrade() -> None:
    for table in _TABLES:
        op.drop_index(op.f(f"ix_{table}_contact_id"), table_name=table)
