"""Upserts that say what they did: how many rows they inserted, updated, or left alone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Select, func, literal_column, select
from sqlalchemy.dialects.postgresql import Insert
from sqlalchemy.ext.asyncio import AsyncSession

# PostgreSQL leaves xmax at 0 on a row the statement inserted, not on one it updated.
_INSERTED: ColumnElement[bool] = literal_column("xmax = 0", Boolean)


@dataclass(frozen=True)
class Written:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def counted(upsert: Insert) -> Select[int, int]:
    """An insert-or-update that skips unchanged rows, answering how many rows it inserted
    and how many it wrote: one row back, where RETURNING would send one per row."""
    written = upsert.returning(_INSERTED.label("inserted")).cte("written")
    return select(func.count().filter(written.c.inserted), func.count()).select_from(written)


async def write_counted(
    session: AsyncSession, statement: Select[int, int], parameters: dict[str, Any], total: int
) -> Written:
    """Run a `counted` upsert of `total` rows that skips unchanged ones; count each kind."""
    created, written = (await session.execute(statement, parameters)).one()
    return Written(created=created, updated=written - created, unchanged=total - written)
