"""automations have a name, unique in their account; executions are listed by automation

Revision ID: 0017
Revises: 0016

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Existing automations are named as new ones without a name are: "Create a ticket in Demo
# Helpdesk when a call is missed", numbered from the second of an account with that name.
_NAME_EXISTING = """
WITH named AS (
    SELECT automations.id,
           upper(left(actions.configuration->>'display', 1))
           || substr(actions.configuration->>'display', 2)
           || ' in ' || (integrations.configuration->>'display_name')
           || ' when ' || CASE automations.trigger
               WHEN 'call.started' THEN 'a call starts'
               WHEN 'call.answered' THEN 'a call is answered'
               WHEN 'call.finished' THEN 'a call ends'
               WHEN 'call.missed' THEN 'a call is missed'
               WHEN 'voicemail.left' THEN 'a voicemail is left'
               WHEN 'call.dispositioned' THEN 'a call is dispositioned'
               ELSE automations.trigger END
           || CASE automations.conditions->>'caller'
               WHEN 'known' THEN ' from a known caller'
               WHEN 'unknown' THEN ' from an unknown caller'
               ELSE '' END AS base,
           automations.account_id,
           automations.created_at
    FROM automations
    JOIN actions ON actions.id = automations.action_id
    JOIN integrations ON integrations.id = actions.integration_id
), numbered AS (
    SELECT id, base, row_number() OVER (
        PARTITION BY account_id, base ORDER BY created_at, id
    ) AS number
    FROM named
)
UPDATE automations
SET name = CASE WHEN numbered.number = 1 THEN numbered.base
                ELSE numbered.base || ' (' || numbered.number || ')' END
FROM numbered
WHERE numbered.id = automations.id
"""


def upgrade() -> None:
    op.add_column("automations", sa.Column("name", sa.Text(), nullable=True))
    op.execute(_NAME_EXISTING)
    op.alter_column("automations", "name", nullable=False)
    op.create_unique_constraint(
        "uq_automations_account_name", "automations", ["account_id", "name"]
    )
    op.create_index(
        "ix_executions_account_automation",
        "executions",
        ["account_id", "automation_id"],
        postgresql_where=sa.text("automation_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_executions_account_automation", table_name="executions")
    op.drop_constraint("uq_automations_account_name", "automations", type_="unique")
    op.drop_column("automations", "name")
