"""API shapes of contacts, sync runs and caller-ID lookups."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from bridgehub.contacts.models import SyncKind, SyncStatus


class ContactRead(BaseModel):
    id: uuid.UUID
    activation_id: uuid.UUID
    integration: str
    external_id: str
    name: str
    company: str | None
    title: str | None
    emails: list[str]
    phones: list[str] = Field(
        description="E.164 where the number could be read, otherwise as received."
    )
    photo_url: str | None
    address: str | None
    websites: list[str]
    twitter: str | None
    updated_at: datetime


class ContactList(BaseModel):
    items: list[ContactRead]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null at the end."
    )


class LookupAnswer(BaseModel):
    matches: list[ContactRead] = Field(
        description="Best match first: exact numbers, then the same line written otherwise."
    )


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
