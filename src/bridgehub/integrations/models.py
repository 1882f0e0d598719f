from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Identity, String, Text, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSON
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bridgehub.db.base import Base, Timestamps


class Integration(Timestamps, Base):
    __tablename__ = "integrations"

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # The configuration as registered (`json`, not `jsonb`, keeps its keys in the
    # author's order), minus the OAuth 2.0 client secret, which only
    # ever rests encrypted in `sealed_client_secret`.
    configuration: Mapped[dict[str, Any]] = mapped_column(JSON)
    sealed_client_secret: Mapped[str | None] = mapped_column(Text)
    revision: Mapped[int] = mapped_column(default=1)

    actions: Mapped[list[Action]] = relationship(
        back_populates="integration",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Action.name",
    )

    # Optimistic locking: a write based on a stale read fails instead of winning silently.
    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012  (read once by the mapper)


class Action(Timestamps, Base):
    __tablename__ = "actions"
    __table_args__ = (UniqueConstraint("integration_id", "name"),)

    id: Mapped[int] = mapped_column(Identity(), primary_key=True)
    integration_id: Mapped[int] = mapped_column(ForeignKey("integrations.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    configuration: Mapped[dict[str, Any]] = mapped_column(JSON)
    revision: Mapped[int] = mapped_column(default=1)

    integration: Mapped[Integration] = relationship(back_populates="actions", lazy="joined")

    __mapper_args__ = {"version_id_col": revision}  # noqa: RUF012  (read once by the mapper)
