"""API shapes of executions."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridgehub.executions.models import ExecutionStatus
from bridgehub.integrations.configuration import ACTION_KEY_SCHEMA


class ExecutionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(
        description="`provider/name`, e.g. `zendesk/create_ticket`.",
        json_schema_extra=ACTION_KEY_SCHEMA,
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="Values of the action's inputs, by key."
    )
    contact_id: uuid.UUID | None = Field(
        default=None, description="The contact the action is about."
    )
    agent_email: str | None = Field(
        default=None, description="The agent acting, matched to the system's agents."
    )


class ExecutionCriteria(BaseModel):
    """Which executions a listing or a bulk retry is about; each criterion left out matches
    all. Both read this one shape, so a list and the retry of that list mean the same ones."""

    status: ExecutionStatus | None = None
    action: str | None = Field(
        default=None, description="`provider/name`.", json_schema_extra=ACTION_KEY_SCHEMA
    )
    integration: str | None = Field(
        default=None, description="The integration's name, e.g. `demo-helpdesk`."
    )
    automation_id: uuid.UUID | None = Field(
        default=None, description="The automation that made them."
    )
    call_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The call they were made for: the `call.id` of the events that made them.",
    )
    since: datetime | None = Field(default=None, description="Created at or after this moment.")


class ExecutionListQuery(ExecutionCriteria):
    limit: int = Field(default=50, ge=1, le=200)


class ExecutionRetryFilter(ExecutionCriteria):
    """The executions a bulk retry queues again: `status` is `failed` or `held` (both when
    left out), so `{}` retries every failed or held execution of the account."""

    model_config = ConfigDict(extra="forbid")


class ExecutionsRetried(BaseModel):
    retried: int = Field(description="How many executions were queued again.")


class ExecutionQueued(BaseModel):
    id: uuid.UUID
    status: ExecutionStatus


class AttemptRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    number: int
    started_at: datetime
    duration_ms: int
    status_code: int | None = Field(
        description="The HTTP status the bridge answered with; null when no answer came."
    )
    outcome: str = Field(
        description="What happened, in a word: `succeeded`, `refused` (400), "
        "`credentials_rejected` (401), `unavailable` (5xx, 429, a timeout or no connection), "
        "`protocol_violation` (an answer the bridge protocol does not allow), "
        "`address_refused` (the network guard refused the URL) or `hub_error`."
    )
    message: str | None


class ExecutionRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    activation_id: uuid.UUID
    action: str
    data: dict[str, Any]
    contact_id: uuid.UUID | None
    agent_email: str | None
    status: ExecutionStatus
    attempts: int
    response: dict[str, Any] | None = Field(
        description="What the bridge answered: message, external_id, ..."
    )
    error: str | None
    event_id: str | None
    automation_id: uuid.UUID | None
    replays: int = Field(description="How many times it was replayed automatically.")
    replay_at: datetime | None = Field(
        description="When it is replayed next, if its automation replays failed executions."
    )
    call_id: str | None = Field(description="The call of the originating event, by its `call.id`.")
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    history: list[AttemptRead] = Field(
        default_factory=list, description="Every attempt, oldest first."
    )


class ExecutionList(BaseModel):
    items: list[ExecutionRead]
