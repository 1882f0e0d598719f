from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Integer, String, func
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import Base, utc_now


class UiSession(Base):
    """A person signed in to the web UI with a key.

    The browser holds a random token; the row holds only its digest and a reference to
    the key that signed in, so revoking that key deletes its sessions (the foreign keys
    cascade). The admin key named by `BRIDGEHUB_ADMIN_KEY` has no row: its sessions keep
    the key's digest and end once the environment names another key.
    """

    __tablename__ = "ui_sessions"
    __table_args__ = (
        CheckConstraint(
            "num_nonnulls(account_key_id, admin_key_id, environment_admin_key_digest) = 1",
            name="one_key",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    account_key_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("account_keys.id", ondelete="CASCADE"), index=True
    )
    admin_key_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("admin_keys.id", ondelete="CASCADE"), index=True
    )
    environment_admin_key_digest: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utc_now, server_default=func.now()
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
