"""API shapes of activations. Credential values never appear in an answer unmasked."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from bridgehub.activations.models import ActivationStatus
from bridgehub.integrations.configuration import NAME_SCHEMA

SyncInterval = Annotated[int, Field(ge=1, le=10_080, description="Minutes between contact syncs.")]


class ActivationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    integration: str = Field(
        description="The `name` of the integration to connect.", json_schema_extra=NAME_SCHEMA
    )
    auth: dict[str, Any] = Field(
        default_factory=dict, description="Values for the fields a person types, by field name."
    )
    interaction_types: list[str] | None = Field(
        default=None,
        description="The interaction types to retrieve; all offered ones when omitted.",
    )
    sync_interval_minutes: SyncInterval = 15


class ActivationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    auth: dict[str, Any] | None = Field(
        default=None,
        description="Changed values; the others are kept. Validated by the bridge again.",
    )
    interaction_types: list[str] | None = None
    sync_interval_minutes: SyncInterval | None = None
    status: Literal[ActivationStatus.ACTIVE, ActivationStatus.DISABLED] | None = None


class ActivationRead(BaseModel):
    id: uuid.UUID
    integration: str
    status: ActivationStatus
    status_reason: str | None = Field(description="Why the activation is not active, for a person.")
    auth: dict[str, str] = Field(
        description="Stored values, masked but for those the integration shows "
        "(formatted or default)."
    )
    interaction_types: list[str]
    sync_interval_minutes: int
    token_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime
    authorize_url: str | None = Field(
        default=None, description="Where to send the person to authorize an OAuth 2.0 connection."
    )


class ActivationList(BaseModel):
    items: list[ActivationRead]
