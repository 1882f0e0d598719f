"""web UI sessions

Revision ID: 0008
Revises: 0007

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ui_sessions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("account_key_id", sa.Uuid(), nullable=True),
        sa.Column("admin_key_id", sa.Integer(), nullable=True),
        sa.Column("environment_admin_key_digest", sa.String(length=64), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "num_nonnulls(account_key_id, admin_key_id, environment_admin_key_digest) = 1",
            name=op.f("ck_ui_sessions_one_key"),
        ),
        sa.ForeignKeyConstraint(
            ["account_key_id"],
            ["account_keys.id"],
            name=op.f("fk_ui_sessions_account_key_id_account_keys"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["admin_key_id"],
            ["admin_keys.id"],
            name=op.f("fk_ui_sessions_admin_key_id_admin_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ui_sessions")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_ui_sessions_token_digest")),
    )
    op.create_index(
        op.f("ix_ui_sessions_account_key_id"), "ui_sessions", ["account_key_id"], unique=False
    )
    op.create_index(
        op.f("ix_ui_sessions_admin_key_id"), "ui_sessions", ["admin_key_id"], unique=False
    )
    op.create_index(op.f("ix_ui_sessions_expires_at"), "ui_sessions", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_table("ui_sessions")
