"""contacts deleted by syncs: why a run is full, what it removed or held, what it delivered

Revision ID: 0010
Revises: 0009

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sync_runs", sa.Column("full_reason", sa.String(length=24), nullable=True))
    for counter in ("deleted", "deletions_held"):
        op.add_column(
            "sync_runs", sa.Column(counter, sa.Integer(), server_default="0", nullable=False)
        )
    op.create_table(
        "sync_run_deliveries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("run_id", sa.Uuid(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("external_ids", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sync_run_deliveries_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["sync_runs.id"],
            name=op.f("fk_sync_run_deliveries_run_id_sync_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_run_deliveries")),
        sa.UniqueConstraint("run_id", "page", name=op.f("uq_sync_run_deliveries_run_id")),
    )
    op.create_index(
        op.f("ix_sync_run_deliveries_account_id"),
        "sync_run_deliveries",
        ["account_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_table("sync_run_deliveries")
    for column in ("deletions_held", "deleted", "full_reason"):
        op.drop_column("sync_runs", column)
