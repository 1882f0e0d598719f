from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bridgehub.db.base import AccountOwned, Base, Timestamps
from bridgehub.integrations.models import Integration


class ActivationStatus(StrEnum):
    PENDING_AUTHORIZATION = "pending_authorization"
    ACTIVE = "active"
    NEEDS_REAUTHORIZATION = "needs_reauthorization"
    DISABLED = "disabled"


class Activation(AccountOwned, Timestamps, Base):
    """One account's connection to one integration."""

    __tablename__ = "activations"
    __table_args__ = (UniqueConstraint("account_id", "integration_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    integration_id: Mapped[int] = mapped_column(
        ForeignKey("integrations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[ActivationStatus] = mapped_column(String(32))
    # Why the activation is not active, in words for the person who must act.
    status_reason: Mapped[str | None] = mapped_column(Text)
    interaction_types: Mapped[list[str]] = mapped_column(JSON)
    sync_interval_minutes: Mapped[int] = mapped_column(Integer, default=15)
    # Field values and OAuth 2.0 tokens, encrypted together (see `credentials.py`).
    sealed_credentials: Mapped[str | None] = mapped_column(Text)
    token_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    contacts_checkpoint: Mapped[str | None] = mapped_column(Text)
    """Where the next contact sync starts: the checkpoint of the last completed one."""

    integration: Mapped[Integration] = relationship(lazy="joined", innerjoin=True)


class OAuthAuthorization(Base):
    """A person's trip to an OAuth 2.0 provider: the state that must come back, once."""

    __tablename__ = "oauth_authorizations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    activation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("activations.id", ondelete="CASCADE"), index=True
    )
    # Only a digest of the state: whoever reads the table cannot complete an authorization.
    state_digest: Mapped[str] = mapped_column(String(64), unique=True)
    sealed_code_verifier: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
