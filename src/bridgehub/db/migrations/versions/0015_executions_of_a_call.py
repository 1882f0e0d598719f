"""executions remember their call, and the inputs filled in from what the call logged

Revision ID: 0015
Revises: 0014

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("executions", sa.Column("call_id", sa.Text(), nullable=True))
    op.add_column(
        "executions",
        sa.Column("deferred_inputs", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
    )
    op.create_index(
        "ix_executions_account_call",
        "executions",
        ["account_id", "call_id"],
        postgresql_where=sa.text("call_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_executions_account_call", table_name="executions")
    op.drop_column("executions", "deferred_inputs")
    op.drop_column("executions", "call_id")
