"""Erasures: a person's phone or e-mail address the account asked to forget, kept only as a
keyed digest so that later syncs can leave them out without the hub knowing who they are."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import AccountOwned, Base, utc_now


class IdentifierKind(StrEnum):
    PHONE = "phone"
    EMAIL = "email"


class Erasure(AccountOwned, Base):
    """One erasure request; while the row exists, its identifier is kept out of the account."""

    __tablename__ = "erasures"
    __table_args__ = (Index("ix_erasures_account_digest", "account_id", "digest"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    kind: Mapped[IdentifierKind] = mapped_column(String(8))
    key_id: Mapped[str] = mapped_column(Text)
    """The encryption key the digest's key was derived from (see `digests`)."""
    digest: Mapped[str] = mapped_column(String(64))
    """HMAC-SHA256 of the normalized identifier, hex: never the identifier itself."""
    contacts_erased: Mapped[int] = mapped_column(Integer)
    records_redacted: Mapped[int] = mapped_column(Integer)
    """Executions, their attempts and events whose stored JSON or text was redacted."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
