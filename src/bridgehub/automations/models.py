from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import AccountOwned, Base, Timestamps, utc_now


class Automation(AccountOwned, Timestamps, Base):
    """When `trigger` happens, run `action` with `inputs` rendered from the event."""

    __tablename__ = "automations"
    __table_args__ = (
        Index("ix_automations_account_trigger", "account_id", "trigger"),
        # Names tell an account's automations apart, in lists and in their executions.
        UniqueConstraint("account_id", "name", name="uq_automations_account_name"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(Text)
    trigger: Mapped[str] = mapped_column(String(32))
    action_id: Mapped[int] = mapped_column(ForeignKey("actions.id", ondelete="CASCADE"))
    action: Mapped[str] = mapped_column(Text)
    inputs: Mapped[dict[str, str]] = mapped_column(JSONB)
    """Each input's template, e.g. `Missed call from {{contact.name}}`."""
    conditions: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    replay: Mapped[bool] = mapped_column(Boolean, default=False)
    """Replay its executions that failed because the bridge was unavailable, on a schedule."""


class Event(AccountOwned, Base):
    """A contact-center event as received; its `external_id` makes posting it idempotent."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("account_id", "external_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(Text)
    type: Mapped[str] = mapped_column(String(32))
    occurred_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Indexed: deleting a contact sets this to NULL wherever it is named.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contacts.id", ondelete="SET NULL"), index=True
    )
    outcome: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    """What the event led to: executions queued, automations skipped and why."""
    # Indexed: the retention purge finds expired events by it.
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, index=True
    )
