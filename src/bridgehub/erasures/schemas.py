"""API shapes of erasures. No answer ever carries the erased identifier."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from bridgehub.erasures.models import Erasure, IdentifierKind

_ONE_LINE = r"^[^\x00-\x1f\x7f]+$"
"""Without control characters, which no identifier holds (and PostgreSQL's text refuses NUL)."""


class ErasureCreate(BaseModel):
    """One identifier per erasure: a person known by a phone and an address is erased by two
    requests, each of which can be lifted on its own."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(
        default=None,
        max_length=64,
        pattern=_ONE_LINE,
        description="Written any usual way; read in the account's region.",
    )
    email: str | None = Field(default=None, max_length=320, pattern=_ONE_LINE)

    @model_validator(mode="after")
    def _one_identifier(self) -> Self:
        if (self.phone is None) == (self.email is None):
            raise ValueError("give either `phone` or `email`: one identifier per erasure")
        return self


class ErasureRead(BaseModel):
    id: uuid.UUID
    kind: IdentifierKind = Field(description="Which identifier was erased; never its value.")
    contacts_erased: int
    records_redacted: int = Field(
        description="Executions, execution attempts and events whose stored values were redacted."
    )
    created_at: datetime

    @classmethod
    def from_row(cls, erasure: Erasure) -> ErasureRead:
        return cls(
            id=erasure.id,
            kind=erasure.kind,
            contacts_erased=erasure.contacts_erased,
            records_redacted=erasure.records_redacted,
            created_at=erasure.created_at,
        )


class ErasureList(BaseModel):
    items: list[ErasureRead]
