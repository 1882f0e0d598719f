"""The outbox: one row per event some webhook subscription wants, with a delivery per such
subscription and a job for each, written in the transaction of the change the event tells
of, so that an event exists exactly when that change was committed."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import any_, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.tenancy import of_account
from bridgehub.events.models import (
    DeliveryStatus,
    EventType,
    OutboxEvent,
    WebhookDelivery,
    WebhookSubscription,
)
from bridgehub.queue import ACTIONS_QUEUE, DELIVER_WEBHOOK, enqueue


async def emit(
    session: AsyncSession, account_id: uuid.UUID, type: EventType, data: dict[str, Any]
) -> None:
    """Record that `type` happened in the account, with `data` (JSON) telling what, for each
    subscription that wants it; it is sent only if the session's transaction commits."""
    await emit_each(session, account_id, type, [data])


async def emit_each(
    session: AsyncSession,
    account_id: uuid.UUID,
    type: EventType,
    items: Sequence[dict[str, Any]],
) -> None:
    """`emit` for several events of one type, with one look at the subscriptions.

    An event no subscription wants is not kept: most accounts subscribe to nothing, and
    each action or sync then costs one indexed read more, not a row and a job."""
    subscriptions = (
        await session.scalars(
            select(WebhookSubscription.id).where(
                of_account(WebhookSubscription, account_id),
                literal(type) == any_(WebhookSubscription.events),
            )
        )
    ).all()
    if not subscriptions or not items:
        return
    for data in items:
        event = OutboxEvent(id=uuid.uuid4(), account_id=account_id, type=type, data=data)
        session.add(event)
        for subscription_id in subscriptions:
            delivery = WebhookDelivery(
                id=uuid.uuid4(),
                account_id=account_id,
                subscription_id=subscription_id,
                event_id=event.id,
                status=DeliveryStatus.PENDING,
            )
            session.add(delivery)
            await queue_delivery(session, delivery)
    await session.flush()


async def queue_delivery(
    session: AsyncSession, delivery: WebhookDelivery, at: datetime | None = None
) -> None:
    """Queue an attempt at the delivery, in the session's transaction: now, or `at`."""
    await enqueue(
        session,
        DELIVER_WEBHOOK,
        queue=ACTIONS_QUEUE,
        lock=None,
        at=at,
        delivery_id=str(delivery.id),
        account_id=str(delivery.account_id),
    )
