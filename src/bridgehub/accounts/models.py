from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Identity, String, func
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import AccountOwned, Base, Timestamps


class AdminKey(Base):
    """A generated admin key, kept only as its SHA-256 digest."""

    __tablename__ = "admin_keys"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class AccountRecord(Timestamps, Base):
    """A contact-center tenant as stored: everything it connects and syncs belongs to it. (The
    caller acting for it is `bridgehub.accounts.auth.Account`.)"""

    __tablename__ = "accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    # The country whose conventions apply to phone numbers written without one.
    default_region: Mapped[str] = mapped_column(String(2))


class AccountKey(AccountOwned, Base):
    """An API key acting for one account, kept only as its SHA-256 digest."""

    __tablename__ = "account_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    # The first characters of the key, so a person can tell keys apart without the secret.
    hint: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
