"""API shapes of webhooks. Only the answer to a subscription's creation carries its secret."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bridgehub.events.models import (
    DeliveryStatus,
    EventType,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="Where deliveries are POSTed (HTTPS).")
    events: list[EventType] = Field(min_length=1, description="The event types to send.")


class WebhookRead(BaseModel):
    id: uuid.UUID
    url: str
    events: list[EventType]
    created_at: datetime

    @classmethod
    def from_row(cls, subscription: WebhookSubscription) -> WebhookRead:
        return cls(
            id=subscription.id,
            url=subscription.url,
            events=[EventType(event) for event in subscription.events],
            created_at=subscription.created_at,
        )


class WebhookCreated(WebhookRead):
    secret: str = Field(
        description="The signing secret (`whsec_...`), shown this once: keep it to verify "
        "deliveries with any Standard Webhooks library."
    )


class WebhookList(BaseModel):
    items: list[WebhookRead]


class AttemptRead(BaseModel):
    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None = Field(description="The receiver's answer; null when none came.")
    error: str | None

    @classmethod
    def from_row(cls, attempt: WebhookAttempt) -> AttemptRead:
        return cls(
            number=attempt.number,
            started_at=attempt.started_at,
            duration_ms=attempt.duration_ms,
            status_code=attempt.status_code,
            error=attempt.error,
        )


class DeliveryRead(BaseModel):
    id: uuid.UUID = Field(description="Sent as `webhook-id` by every attempt.")
    event_id: uuid.UUID
    type: EventType
    status: DeliveryStatus
    created_at: datetime
    next_attempt_at: datetime | None
    attempts: list[AttemptRead]

    @classmethod
    def from_rows(
        cls, delivery: WebhookDelivery, type: EventType, attempts: list[WebhookAttempt]
    ) -> DeliveryRead:
        return cls(
            id=delivery.id,
            event_id=delivery.event_id,
            type=type,
            status=delivery.status,
            created_at=delivery.created_at,
            next_attempt_at=delivery.next_attempt_at,
            attempts=[AttemptRead.from_row(attempt) for attempt in attempts],
        )


class DeliveryList(BaseModel):
    items: list[DeliveryRead]
