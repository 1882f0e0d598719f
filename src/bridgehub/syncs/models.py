"""Sync runs: each synchronization of an activation's contacts or agents, and how far it got."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import AccountOwned, Base, utc_now


class SyncKind(StrEnum):
    CONTACTS = "contacts"
    AGENTS = "agents"


class SyncStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class SyncRun(AccountOwned, Base):
    """One synchronization of an activation's contacts or agents, and how far it got."""

    __tablename__ = "sync_runs"
    __table_args__ = (
        # At most one unfinished run per activation and kind: a second request joins it.
        Index(
            "uq_sync_runs_unfinished",
            "activation_id",
            "kind",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_sync_runs_activation_recent", "activation_id", "kind", text("created_at DESC")),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    activation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activations.id", ondelete="CASCADE")
    )
    kind: Mapped[SyncKind] = mapped_column(String(16))
    status: Mapped[SyncStatus] = mapped_column(String(16))
    trigger: Mapped[str] = mapped_column(String(16))
    checkpoint: Mapped[str | None] = mapped_column(Text)
    """The checkpoint this run asks from (None: a full sync)."""
    next_offset: Mapped[str | None] = mapped_column(Text)
    """Where the run resumes: the offset of the next page to fetch."""
    offsets_seen: Mapped[list[str]] = mapped_column(JSONB, default=list)
    pages: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    updated: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejections: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, default=list)
    """Why contacts were rejected (the first ones; `rejected` counts them all)."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Indexed: the retention purge finds expired runs by it.
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)
