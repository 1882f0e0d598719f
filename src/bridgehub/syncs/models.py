"""Sync runs: each synchronization of an activation's contacts or agents, and how far it got."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
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


class FullReason(StrEnum):
    """Why a contact sync asks for every contact rather than the changes since a checkpoint."""

    FIRST = "first"
    """The activation never synchronized its contacts."""
    NO_CHECKPOINT = "no_checkpoint"
    """The bridge gives no checkpoint: every run is full."""
    REQUESTED = "requested"
    """A person asked for it."""
    CHECKPOINT_REFUSED = "checkpoint_refused"
    """The bridge answered 410 to the checkpoint (protocol 6.3)."""
    AFTER_REJECTIONS = "after_rejections"
    """The run before rejected contacts, which its checkpoint moved past (protocol 6.4)."""


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
    full_reason: Mapped[FullReason | None] = mapped_column(String(24))
    """Why the run is full (None: an incremental run, from `checkpoint`)."""
    deleted: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Contacts removed: named deleted by the bridge, or left out of a full run."""
    deletions_held: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """Contacts a full run left out but did not remove, as too many: a person confirms."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Indexed: the retention purge finds expired runs by it.
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)

    @property
    def full(self) -> bool:
        return self.full_reason is not None


class SyncRunDelivery(AccountOwned, Base):
    """The contact ids one page of a full run delivered (kept or rejected), written with the
    page: when the run ends, the activation's contacts no page delivered are gone from the
    bridge. Removed once the run's deletions are applied, or the run failed."""

    __tablename__ = "sync_run_deliveries"
    __table_args__ = (UniqueConstraint("run_id", "page"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sync_runs.id", ondelete="CASCADE"))
    page: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    external_ids: Mapped[list[str]] = mapped_column(JSONB)
