"""API shapes of sync runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridgehub.syncs.models import SyncKind, SyncStatus


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    what: SyncKind = SyncKind.CONTACTS


class SyncStarted(BaseModel):
    run_id: uuid.UUID
    status: SyncStatus


class SyncRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    activation_id: uuid.UUID
    what: SyncKind = Field(validation_alias="kind")
    status: SyncStatus
    trigger: str = Field(description="`manual` (asked for) or `schedule` (periodic).")
    pages: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejections: list[dict[str, Any]] = Field(
        description="Why contacts were rejected (the first hundred)."
    )
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SyncRunList(BaseModel):
    items: list[SyncRunRead]
