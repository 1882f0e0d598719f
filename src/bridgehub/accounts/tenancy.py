"""Keeping each account to its own rows: every service reads an account's data through
these two, so a query that forgets the tenant stands out."""

from __future__ import annotations

import uuid
from typing import TypeVar

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.db.base import AccountOwned
from bridgehub.kit.errors import NotFound

Row = TypeVar("Row", bound=AccountOwned)


def owned_by(account: Account, model: type[AccountOwned]) -> ColumnElement[bool]:
    """The condition that keeps a statement about `model` to `account`'s rows."""
    return model.account_id == account.account_id


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
