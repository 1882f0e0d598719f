"""API shapes of sync runs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridgehub.syncs.models import FullReason, SyncKind, SyncStatus


class SyncRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    what: SyncKind = SyncKind.CONTACTS
    full: bool = Field(
        default=False,
        description="Contacts only: ask the bridge for every contact rather than the changes "
        "since the checkpoint; contacts it no longer has are removed.",
    )

    @model_validator(mode="after")
    def _full_is_for_contacts(self) -> SyncRequest:
        if self.full and self.what != SyncKind.CONTACTS:
            raise ValueError("`full` applies to contacts; agents are always synchronized whole")
        return self


class SyncStarted(BaseModel):
    run_id: uuid.UUID
    status: SyncStatus


class SyncRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    activation_id: uuid.UUID
    what: SyncKind = Field(validation_alias="kind")
    status: SyncStatus
    trigger: str = Field(
        description="`manual` (asked for), `schedule` (periodic), `activation` (the first "
        "syncs of a new activation) or `action` (an action named a contact the hub lacked)."
    )
    pages: int
    created: int
    updated: int
    unchanged: int
    rejected: int
    rejections: list[dict[str, Any]] = Field(
        description="Why contacts were rejected (the first hundred)."
    )
    full: bool = Field(description="Every contact was asked for, not only changes.")
    full_reason: FullReason | None = Field(
        description="Why the run is full: `first`, `no_checkpoint` (the bridge gives none), "
        "`requested`, `checkpoint_refused` (the bridge answered 410), `after_rejections`."
    )
    deleted: int = Field(description="Contacts removed: named deleted, or left out of a full run.")
    deletions_held: int = Field(
        description="Contacts a full run left out but did not remove, as more than "
        "BRIDGEHUB_SYNC_MAX_DELETE_FRACTION of the activation's: "
        "`POST /v1/sync-runs/{id}/confirm-deletions` removes them."
    )
    error: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class SyncRunList(BaseModel):
    items: list[SyncRunRead]
