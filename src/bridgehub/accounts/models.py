from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Identity, String, func
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import Base


class AdminKey(Base):
    """A generated admin key, kept only as its SHA-256 digest."""

    __tablename__ = "admin_keys"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
