"""execution replay: automations that replay failed executions, and each execution's replays

Revision ID: 0014
Revises: 0013

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_WAITING = sa.text("replay_at IS NOT NULL")


def upgrade() -> None:
    op.add_column(
        "automations", sa.Column("replay", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column(
        "executions", sa.Column("replay", sa.Boolean(), server_default="false", nullable=False)
    )
    op.add_column(
        "executions", sa.Column("replays", sa.Integer(), server_default="0", nullable=False)
    )
    op.add_column("executions", sa.Column("replay_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_executions_replay_at", "executions", ["replay_at"], postgresql_where=_WAITING
    )


def downgrade() -> None:
    op.drop_index("ix_executions_replay_at", table_name="executions", postgresql_where=_WAITING)
    op.drop_column("executions", "replay_at")
    op.drop_column("executions", "replays")
    op.drop_column("executions", "replay")
    op.drop_column("automations", "replay")
