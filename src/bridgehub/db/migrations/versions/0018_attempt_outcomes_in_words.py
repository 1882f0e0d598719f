"""execution attempts' outcomes in plain words instead of the hub's error class names

Revision ID: 0018
Revises: 0017

"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# The class names attempts were recorded with, and the words that replace them.
_WORDS = {
    "BridgeError": "failed",
    "TargetRefused": "address_refused",
    "CredentialsRejected": "credentials_rejected",
    "RequestRefused": "refused",
    "CheckpointRefused": "checkpoint_refused",
    "BridgeUnavailable": "unavailable",
    "ProtocolViolation": "protocol_violation",
}

_RENAME = sa.text("UPDATE execution_attempts SET outcome = :new WHERE outcome = :old")


def upgrade() -> None:
    op.get_bind().execute(_RENAME, [{"old": old, "new": new} for old, new in _WORDS.items()])


def downgrade() -> None:
    op.get_bind().execute(_RENAME, [{"old": new, "new": old} for old, new in _WORDS.items()])
