"""The outbox: one row per event, and a job to fan it out queued in the same transaction, so
an event exists exactly when the change it tells of was committed."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import AccountOwned, Base, utc_now
from bridgehub.queue import ACTIONS_QUEUE, FAN_OUT_EVENT, enqueue


class EventType(StrEnum):
    SYNC_SUCCEEDED = "sync.succeeded"
    SYNC_FAILED = "sync.failed"
    EXECUTION_SUCCEEDED = "execution.succeeded"
    EXECUTION_FAILED = "execution.failed"
    EXECUTION_HELD = "execution.held"
    ACTIVATION_NEEDS_REAUTHORIZATION = "activation.needs_reauthorization"
    CONTACT_DELETED = "contact.deleted"


class OutboxEvent(AccountOwned, Base):
    __tablename__ = "outbox_events"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    type: Mapped[EventType] = mapped_column(String(64))
    data: Mapped[dict[str, Any]] = mapped_column(JSONB)
    # Indexed: the retention purge finds expired events by it.
    occurred_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, index=True
    )


async def emit(
    session: AsyncSession, account_id: uuid.UUID, type: EventType, data: dict[str, Any]
) -> None:
    """Record that `type` happened in the account, with `data` (JSON) telling what; the event
    is sent on only if the session's transaction commits."""
    event = OutboxEvent(id=uuid.uuid4(), account_id=account_id, type=type, data=data)
    session.add(event)
    await session.flush()
    await enqueue(
        session,
        FAN_OUT_EVENT,
        queue=ACTIONS_QUEUE,
        lock=None,
        event_id=str(event.id),
        account_id=str(account_id),
    )
