from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, TypedDict

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import AccountOwned, Base, Timestamps, utc_now


class ExecutionStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    HELD = "held"
    """Waiting for a person to reauthorize the activation; resumes by itself afterwards."""


class Logged(TypedDict):
    logged: str
    """The integration whose latest execution of the call answers the value."""


Part = str | Logged
"""A piece of a deferred input: text rendered when the event arrived, or what the call
logged in an integration."""


class Execution(AccountOwned, Timestamps, Base):
    """One run of an action for an account, with everything needed to repeat it."""

    __tablename__ = "executions"
    __table_args__ = (
        Index("ix_executions_account_recent", "account_id", text("created_at DESC")),
        Index("ix_executions_activation_status", "activation_id", "status"),
        # Only the few waiting for a replay: the sweep reads them every minute.
        Index(
            "ix_executions_replay_at",
            "replay_at",
            postgresql_where=text("replay_at IS NOT NULL"),
        ),
        # An automation's executions are listed by it.
        Index(
            "ix_executions_account_automation",
            "account_id",
            "automation_id",
            postgresql_where=text("automation_id IS NOT NULL"),
        ),
        # A later execution of a call looks up what the call's earlier ones logged.
        Index(
            "ix_executions_account_call",
            "account_id",
            "call_id",
            postgresql_where=text("call_id IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    activation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activations.id", ondelete="CASCADE")
    )
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(Text)
    """`provider/name`, as the caller named it."""
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Indexed: deleting a contact sets this to NULL wherever it is named.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    agent_email: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[str | None] = mapped_column(Text)
    automation_id: Mapped[uuid.UUID | None] = mapped_column()
    call_id: Mapped[str | None] = mapped_column(Text)
    """The contact center's id of the call the originating event was about."""
    deferred_inputs: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """Inputs naming what earlier executions of the call logged, filled into `data` at
    each attempt (`bridgehub.executions.call_log`)."""
    status: Mapped[ExecutionStatus] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
    replay: Mapped[bool] = mapped_column(Boolean, default=False)
    """Whether it is replayed after failing for its bridge being unavailable: its
    automation's choice when it was made."""
    replays: Mapped[int] = mapped_column(Integer, default=0)
    """How many times it was replayed automatically (see `bridgehub.executions.replay`)."""
    replay_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When it is replayed next; only while it is failed and its automation replays."""
    # Indexed: the retention purge finds expired executions by it.
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class ExecutionAttempt(Base):
    """One request to the bridge for an execution, kept for a person to read."""

    __tablename__ = "execution_attempts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    execution_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("executions.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
