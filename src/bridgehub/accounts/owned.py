"""Reading one row that belongs to an account."""

from __future__ import annotations

import uuid
from typing import Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.kit.errors import NotFound


class AccountRow(Protocol):
    account_id: uuid.UUID


Row = TypeVar("Row", bound=AccountRow)


async def owned_row(
    session: AsyncSession, account: Account, model: type[Row], row_id: uuid.UUID, what: str
) -> Row:
    """The `model` row `row_id` of `account`. Another account's row is answered as missing
    (404, "No {what} ..."), like one that does not exist: tenants never learn of each
    other's rows."""
    row = await session.get(model, row_id)
    if row is None or row.account_id != account.account_id:
        raise NotFound(f"No {what} {row_id}.")
    return row
