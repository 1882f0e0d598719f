"""contacts, agents and sync runs

Revision ID: 0004
Revises: 0003

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agents",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("activation_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_agents_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["activation_id"],
            ["activations.id"],
            name=op.f("fk_agents_activation_id_activations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agents")),
        sa.UniqueConstraint("activation_id", "external_id", name=op.f("uq_agents_activation_id")),
    )
    op.create_index("ix_agents_account_email", "agents", ["account_id", "email"], unique=False)
    op.create_table(
        "contacts",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("activation_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("company", sa.Text(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("emails", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("phones", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("phone_e164", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("phone_keys", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("photo_url", sa.Text(), nullable=True),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("websites", postgresql.ARRAY(sa.Text()), nullable=False),
        sa.Column("twitter", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_contacts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["activation_id"],
            ["activations.id"],
            name=op.f("fk_contacts_activation_id_activations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contacts")),
        sa.UniqueConstraint("activation_id", "external_id", name=op.f("uq_contacts_activation_id")),
    )
    op.create_index(
        "ix_contacts_account_recent",
        "contacts",
        ["account_id", sa.literal_column("updated_at DESC"), sa.literal_column("id DESC")],
        unique=False,
    )
    op.create_index(
        "ix_contacts_emails", "contacts", ["emails"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_contacts_phone_e164", "contacts", ["phone_e164"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_contacts_phone_keys", "contacts", ["phone_keys"], unique=False, postgresql_using="gin"
    )
    op.create_index(
        "ix_contacts_words_expression",
        "contacts",
        [sa.literal_column("to_tsvector('simple', name || ' ' || coalesce(company, ''))")],
        unique=False,
        postgresql_using="gin",
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("account_id", sa.Uuid(), nullable=False),
        sa.Column("activation_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trigger", sa.String(length=16), nullable=False),
        sa.Column("checkpoint", sa.Text(), nullable=True),
        sa.Column("next_offset", sa.Text(), nullable=True),
        sa.Column("offsets_seen", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("created", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("rejections", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_sync_runs_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["activation_id"],
            ["activations.id"],
            name=op.f("fk_sync_runs_activation_id_activations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index(op.f("ix_sync_runs_account_id"), "sync_runs", ["account_id"], unique=False)
    op.create_index(
        "ix_sync_runs_activation_recent",
        "sync_runs",
        ["activation_id", "kind", sa.literal_column("created_at DESC")],
        unique=False,
    )
    op.create_index(
        "uq_sync_runs_unfinished",
        "sync_runs",
        ["activation_id", "kind"],
        unique=True,
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.add_column("activations", sa.Column("contacts_checkpoint", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("activations", "contacts_checkpoint")
    op.drop_index(
        "uq_sync_runs_unfinished",
        table_name="sync_runs",
        postgresql_where=sa.text("status IN ('queued', 'running')"),
    )
    op.drop_index("ix_sync_runs_activation_recent", table_name="sync_runs")
    op.drop_index(op.f("ix_sync_runs_account_id"), table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_index("ix_contacts_words_expression", table_name="contacts", postgresql_using="gin")
    op.drop_index("ix_contacts_phone_keys", table_name="contacts", postgresql_using="gin")
    op.drop_index("ix_contacts_phone_e164", table_name="contacts", postgresql_using="gin")
    op.drop_index("ix_contacts_emails", table_name="contacts", postgresql_using="gin")
    op.drop_index("ix_contacts_account_recent", table_name="contacts")
    op.drop_table("contacts")
    op.drop_index("ix_agents_account_email", table_name="agents")
    op.drop_table("agents")
