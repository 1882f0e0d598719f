"""Sending events on: each delivery (see `bridgehub.events.outbox`) is POSTed, signed, and
retried on a schedule until the receiver answers 2xx.

The retry schedule, after the first attempt: `webhook_retry_seconds` (5 s by default) times
1, 12, 60, 360, 1440 and 5760, so 5 s, 1 min, 5 min, 30 min, 2 h and 8 h; seven attempts in
all over about 10.6 hours, after which the delivery is failed (and may be redelivered).
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.tenancy import of_account
from bridgehub.bridge import BridgeError, GuardedTransport
from bridgehub.db.base import utc_now
from bridgehub.events.models import (
    DeliveryStatus,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from bridgehub.events.outbox import queue_delivery
from bridgehub.kit.messages import network_failure
from bridgehub.kit.redaction import known_secrets
from bridgehub.runtime import Runtime
from bridgehub.webhooks.service import secret_context
from bridgehub.webhooks.signing import signed_headers

RETRY_FACTORS = (1, 12, 60, 360, 1440, 5760)
"""Pauses before each retry, in units of `webhook_retry_seconds`."""

TIMEOUT_SECONDS = 10.0
"""A receiver should answer at once and do its work later; one slower counts as failed."""

_ERROR_LENGTH = 500


async def deliver(runtime: Runtime, delivery_id: uuid.UUID, account_id: uuid.UUID) -> None:
    """One attempt at the delivery, recorded; the next one scheduled if it failed and the
    schedule has one left."""
    async with runtime.sessionmaker() as session:
        found = (
            await session.execute(
                select(WebhookDelivery, WebhookSubscription, OutboxEvent)
                .join(
                    WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id
                )
                .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
                .where(
                    WebhookDelivery.id == delivery_id,
                    of_account(WebhookDelivery, account_id),
                    of_account(WebhookSubscription, account_id),
                    of_account(OutboxEvent, account_id),
                )
            )
        ).one_or_none()
        if found is None:
            return  # its subscription was deleted since
        delivery, subscription, event = found
        number = await _attempts_made(session, delivery.id) + 1
        attempt = await _post(runtime, subscription, event, delivery, number)
        session.add(attempt)
        await _settle(session, runtime, delivery, attempt)
        await session.commit()


def payload(event: OutboxEvent) -> bytes:
    """The body, as the specification shapes it: the event's type, time and data."""
    body: dict[str, Any] = {
        "type": str(event.type),
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": event.data,
    }
    return json.dumps(body, separators=(",", ":")).encode()


async def _attempts_made(session: AsyncSession, delivery_id: uuid.UUID) -> int:
    count = await session.scalar(
        select(func.count()).where(WebhookAttempt.delivery_id == delivery_id)
    )
    return count or 0


async def _post(
    runtime: Runtime,
    subscription: WebhookSubscription,
    event: OutboxEvent,
    delivery: WebhookDelivery,
    number: int,
) -> WebhookAttempt:
    secret = runtime.vault.decrypt(
        subscription.sealed_secret, context=secret_context(subscription.id)
    )
    known_secrets.register(secret)  # kept out of logs, should anything print it
    body = payload(event)
    headers = signed_headers(secret, f"msg_{delivery.id.hex}", int(time.time()), body)
    started_at = utc_now()
    started = time.perf_counter()
    status_code: int | None = None
    error: str | None = None
    # The guard is checked again at each attempt, on the address connected to: a host
    # may resolve elsewhere since the subscription was created.
    transport = GuardedTransport(runtime.network_policy)
    async with httpx.AsyncClient(transport=transport, timeout=TIMEOUT_SECONDS) as http:
        try:
            response = await http.post(subscription.url, content=body, headers=headers)
            status_code = response.status_code
            if not response.is_success:
                error = f"The receiver answered {status_code}."
        # The guard's refusals are the hub's errors; the others, httpx's.
        except (httpx.HTTPError, BridgeError) as failure:
            error = known_secrets.scrub(network_failure(failure))
    return WebhookAttempt(
        delivery_id=delivery.id,
        number=number,
        started_at=started_at,
        duration_ms=round((time.perf_counter() - started) * 1000),
        status_code=status_code,
        error=error[:_ERROR_LENGTH] if error else None,
    )


async def _settle(
    session: AsyncSession, runtime: Runtime, delivery: WebhookDelivery, attempt: WebhookAttempt
) -> None:
    if attempt.error is None:
        delivery.status = DeliveryStatus.SUCCEEDED
        delivery.next_attempt_at = None
        return
    pause = retry_pause(runtime.settings.webhook_retry_seconds, attempt.number)
    if pause is None:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        return
    delivery.status = DeliveryStatus.PENDING
    delivery.next_attempt_at = attempt.started_at + pause
    await queue_delivery(session, delivery, at=delivery.next_attempt_at)


def retry_pause(base_seconds: float, attempts_made: int) -> timedelta | None:
    """How long to wait after `attempts_made` attempts failed; None when none is left."""
    if attempts_made > len(RETRY_FACTORS):
        return None
    return timedelta(seconds=base_seconds * RETRY_FACTORS[attempts_made - 1])
