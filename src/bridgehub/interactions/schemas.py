"""API shapes of a contact's interactions."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from bridgehub.bridge import Priority, Status


class InteractionRead(BaseModel):
    integration: str
    icon_url: str
    id: str
    subject: str
    description: str | None
    date: datetime | None
    url: str | None
    type: str
    priority: Priority
    status: Status


class RetrievalError(BaseModel):
    integration: str
    message: str


class DroppedInteraction(BaseModel):
    integration: str
    id: str | None
    reason: str


class InteractionsAnswer(BaseModel):
    items: list[InteractionRead] = Field(
        description="Newest first, from every integration that answered."
    )
    errors: list[RetrievalError] = Field(
        description="Integrations that failed or did not answer in time."
    )
    dropped: list[DroppedInteraction] = Field(
        default_factory=list, description="Items a bridge sent against the protocol, left out."
    )
