from __future__ import annotations

from typing import Any

from sqlalchemy import Index, String, Text, UniqueConstraint, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from bridgehub.db.base import Base, SyncedRecord


class Contact(SyncedRecord, Base):
    """A contact as a bridge delivered it, with its phones prepared for caller-ID lookup."""

    __tablename__ = "contacts"
    __table_args__ = (
        UniqueConstraint("activation_id", "external_id"),
        # Caller-ID lookup: an exact E.164 match, or a match on the number's last digits.
        Index("ix_contacts_phone_e164", "phone_e164", postgresql_using="gin"),
        Index("ix_contacts_phone_keys", "phone_keys", postgresql_using="gin"),
        Index("ix_contacts_emails", "emails", postgresql_using="gin"),
        # Listing an account's contacts newest first, resumed by keyset.
        Index("ix_contacts_account_recent", "account_id", text("updated_at DESC"), text("id DESC")),
        # Searching names and companies, accents ignored (fold_accents: migration 0016).
        Index(
            "ix_contacts_words_expression",
            text("to_tsvector('simple', fold_accents(name || ' ' || coalesce(company, '')))"),
            postgresql_using="gin",
        ),
    )

    company: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    emails: Mapped[list[str]] = mapped_column(ARRAY(Text))
    phones: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """Each phone as received (`raw`), in E.164 when it could be read (`e164`), and its
    national number (`national`), which ranks lookup candidates."""
    phone_e164: Mapped[list[str]] = mapped_column(ARRAY(Text))
    phone_keys: Mapped[list[str]] = mapped_column(ARRAY(Text))
    photo_url: Mapped[str | None] = mapped_column(Text)
    address: Mapped[str | None] = mapped_column(Text)
    websites: Mapped[list[str]] = mapped_column(ARRAY(Text))
    twitter: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(32))
    """Of the contact as received: an unchanged contact costs no write."""
