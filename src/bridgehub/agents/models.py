from __future__ import annotations

from sqlalchemy import Index, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import Base, SyncedRecord


class Agent(SyncedRecord, Base):
    __tablename__ = "agents"
    __table_args__ = (
        UniqueConstraint("activation_id", "external_id"),
        # Who is this agent in each connected system: matched by email.
        Index("ix_agents_account_email", "account_id", "email"),
    )

    email: Mapped[str] = mapped_column(Text)
