"""API shapes of automations and events."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from bridgehub.integrations.configuration import ACTION_KEY_SCHEMA
from bridgehub.kit.instants import Instant

TRIGGERS = {
    "call.started": "When a call starts",
    "call.answered": "When a call is answered",
    "call.finished": "When a call ends",
    "call.missed": "When a call is missed",
    "voicemail.left": "When a voicemail is left",
    "call.dispositioned": "When a call is dispositioned",
}
"""Event types, and how a summary sentence begins for each."""

Trigger = Literal[
    "call.started",
    "call.answered",
    "call.finished",
    "call.missed",
    "voicemail.left",
    "call.dispositioned",
]


class Conditions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_duration_seconds: int | None = Field(
        default=None, ge=0, description="Only calls at least this long."
    )
    to: str | None = Field(default=None, description="Only calls to this number.")
    caller: Literal["known", "unknown"] | None = Field(
        default=None,
        description="Only callers a contact has the number of (`known`), or only callers "
        "whose number no contact has (`unknown`); a call that gives no caller's number is "
        "neither.",
    )


AutomationName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)
]


class AutomationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AutomationName | None = Field(
        default=None,
        description="Tells the account's automations apart; unique in the account. Without "
        'it, one is made from the action and the trigger: "Create a ticket in Zendesk when a '
        'call is missed", numbered "(2)", "(3)", ... when taken.',
    )
    trigger: Trigger
    action: str = Field(
        description="`provider/name` of the action to run.", json_schema_extra=ACTION_KEY_SCHEMA
    )
    inputs: dict[str, str] = Field(
        description="A template for each input, e.g. `Missed call from {{contact.name}}`; every "
        "mandatory input must be mapped."
    )
    conditions: Conditions = Field(default_factory=Conditions)
    enabled: bool = True
    replay: bool = Field(
        default=False,
        description="Replay its executions that failed because the bridge was unavailable, "
        "after 5 min, 30 min, 1 h, 3 h and 6 h, until one succeeds.",
    )


class AutomationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: AutomationName | None = Field(default=None, description="Unique in the account.")
    trigger: Trigger | None = None
    inputs: dict[str, str] | None = None
    conditions: Conditions | None = None
    enabled: bool | None = None
    replay: bool | None = None


class AutomationRead(BaseModel):
    id: uuid.UUID
    name: str
    trigger: str
    action: str
    inputs: dict[str, str]
    conditions: Conditions
    enabled: bool
    replay: bool
    summary: str = Field(description='"When a call is missed, then create a ticket"')
    created_at: datetime
    updated_at: datetime


class AutomationList(BaseModel):
    items: list[AutomationRead]


class ExecutionRetry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Literal["same", "current"] = Field(
        default="same",
        description="`same`: the input it was sent. `current`: its automation's templates as "
        "they are now, rendered again from the event that made it, e.g. after correcting "
        "the automation; only for an automation's execution whose event is still kept.",
    )


class Call(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="The contact center's id of the call: the events of one call share it, "
        "and their automations can use what earlier ones logged "
        "(`{{call.logged.<integration>.external_id}}`).",
    )
    caller: str | None = Field(default=None, alias="from", description="The caller's number.")
    to: str | None = None
    agent_email: str | None = None
    duration_seconds: int | None = Field(default=None, ge=0)
    recording_url: HttpUrl | None = Field(
        default=None, description="Where the call's recording is, once it ended."
    )
    disposition: str | None = Field(
        default=None, max_length=200, description="The agent's disposition, e.g. `Resolved`."
    )
    notes: str | None = Field(
        default=None, max_length=10_000, description="The agent's notes on the call."
    )


class EventCreate(BaseModel):
    id: str = Field(
        min_length=1,
        max_length=200,
        description="The event's own id: posting it again does nothing.",
    )
    type: Trigger
    occurred_at: Instant | None = None
    call: Call | None = Field(default=None, validate_default=True)

    @field_validator("call")
    @classmethod
    def _dispositions_name_their_call(cls, call: Call | None, info: ValidationInfo) -> Call | None:
        # A disposition only means something on the record of its call: without the call's
        # id, no automation could find what the call logged.
        if info.data.get("type") == "call.dispositioned" and (
            call is None or call.id is None or call.disposition is None
        ):
            raise ValueError("a call.dispositioned event needs call.id and call.disposition")
        return call


class Skipped(BaseModel):
    automation_id: uuid.UUID
    reason: str


class EventAccepted(BaseModel):
    id: str
    duplicate: bool = Field(
        description="True when this event id was posted before; nothing new was done."
    )
    contact_id: uuid.UUID | None = Field(description="The caller, when the lookup found them.")
    executions: list[uuid.UUID]
    skipped: list[Skipped]
