"""An account's webhook subscriptions, their deliveries, and redelivering one by hand."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.accounts.tenancy import owned_by, owned_row
from bridgehub.bridge import BridgeUnavailable, TargetRefused, check_target
from bridgehub.events.models import (
    DeliveryStatus,
    EventType,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from bridgehub.events.outbox import queue_delivery
from bridgehub.kit.errors import Unprocessable
from bridgehub.runtime import Runtime
from bridgehub.webhooks.schemas import DeliveryRead, WebhookCreate
from bridgehub.webhooks.signing import new_secret


def secret_context(subscription_id: uuid.UUID) -> str:
    """What the vault binds a sealed secret to: it opens for its own subscription only."""
    return f"webhook-secret:{subscription_id}"


async def check_url(runtime: Runtime, url: str) -> None:
    """Refuse a URL the network guard would refuse, as for bridges: an account must not point
    the hub at its own machine or network unless the operator allows private networks."""
    try:
        await check_target(url, runtime.network_policy)
    except (TargetRefused, BridgeUnavailable) as error:
        raise Unprocessable(str(error).replace("Bridge URL", "Webhook URL")) from None


class WebhookService:
    async def create(
        self, session: AsyncSession, runtime: Runtime, account: Account, data: WebhookCreate
    ) -> tuple[WebhookSubscription, str]:
        """The new subscription and its secret, which is kept sealed and never shown again."""
        await check_url(runtime, data.url)
        secret = new_secret()
        subscription_id = uuid.uuid4()
        subscription = WebhookSubscription(
            id=subscription_id,
            account_id=account.account_id,
            url=data.url,
            events=list(dict.fromkeys(data.events)),
            sealed_secret=runtime.vault.encrypt(secret, context=secret_context(subscription_id)),
        )
        session.add(subscription)
        await session.commit()
        return subscription, secret

    async def list(self, session: AsyncSession, account: Account) -> Sequence[WebhookSubscription]:
        statement = select(WebhookSubscription).where(owned_by(account, WebhookSubscription))
        return (await session.scalars(statement.order_by(WebhookSubscription.created_at))).all()

    async def get(
        self, session: AsyncSession, account: Account, subscription_id: uuid.UUID
    ) -> WebhookSubscription:
        return await owned_row(session, account, WebhookSubscription, subscription_id, "webhook")

    async def delete(
        self, session: AsyncSession, account: Account, subscription_id: uuid.UUID
    ) -> None:
        await session.delete(await self.get(session, account, subscription_id))
        await session.commit()

    async def deliveries(
        self, session: AsyncSession, account: Account, subscription_id: uuid.UUID, limit: int = 100
    ) -> builtins.list[DeliveryRead]:
        """The subscription's latest deliveries, newest first, each with every attempt."""
        await self.get(session, account, subscription_id)
        rows = (
            await session.execute(
                select(WebhookDelivery, OutboxEvent.type)
                .join(OutboxEvent, OutboxEvent.id == WebhookDelivery.event_id)
                .where(
                    WebhookDelivery.subscription_id == subscription_id,
                    owned_by(account, WebhookDelivery),
                    owned_by(account, OutboxEvent),
                )
                .order_by(WebhookDelivery.created_at.desc())
                .limit(limit)
            )
        ).all()
        attempts = await self._attempts(session, [delivery.id for delivery, _ in rows])
        return [
            DeliveryRead.from_rows(delivery, EventType(type), attempts.get(delivery.id, []))
            for delivery, type in rows
        ]

    async def redeliver(
        self, session: AsyncSession, account: Account, delivery_id: uuid.UUID
    ) -> WebhookDelivery:
        """Send the delivery again now, with the same `webhook-id` (receivers deduplicate by
        it), whatever became of it before."""
        delivery = await owned_row(session, account, WebhookDelivery, delivery_id, "delivery")
        delivery.status = DeliveryStatus.PENDING
        delivery.next_attempt_at = None
        await queue_delivery(session, delivery)
        await session.commit()
        return delivery

    async def _attempts(
        self, session: AsyncSession, delivery_ids: builtins.list[uuid.UUID]
    ) -> dict[uuid.UUID, builtins.list[WebhookAttempt]]:
        statement = select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
        by_delivery: dict[uuid.UUID, builtins.list[WebhookAttempt]] = {}
        for attempt in await session.scalars(statement.order_by(WebhookAttempt.number)):
            by_delivery.setdefault(attempt.delivery_id, []).append(attempt)
        return by_delivery


webhook_service = WebhookService()
