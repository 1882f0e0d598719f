"""Keeping each account to its own rows: every service reads an account's data through
these, so a query that forgets the tenant stands out (tests/accounts/test_account_filters.py
fails on one). Every statement naming its account is also what lets the tenant-owned tables
be distributed by account (docs/scaling.md)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from typing import TypeVar

from sqlalchemy import ColumnElement, select, true
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
    row = await session.scalar(select(model).where(model.id == row_id, owned_by(account, model)))
    if row is None:
        raise NotFound(f"No {what} {row_id}.")
    return row


async def owned_rows(
    session: AsyncSession, account: Account, model: type[Row], row_ids: Collection[uuid.UUID]
) -> Sequence[Row]:
    """The `model` rows of `account` among `row_ids`, in one statement; the others (another
    account's, or gone) are left out."""
    statement = select(model).where(model.id.in_(row_ids), owned_by(account, model))
    return (await session.scalars(statement)).all()


def of_account(model: type[AccountOwned], account_id: uuid.UUID | None) -> ColumnElement[bool]:
    """The condition that keeps a job's statement about `model` to the account its arguments
    name. Jobs queued before their arguments named the account (`None`) still run: their
    first row is found by its id alone, and names the account for the rest."""
    return true() if account_id is None else model.account_id == account_id


def account_of_job(argument: str | None) -> uuid.UUID | None:
    """The account a job's arguments name; jobs queued before they named it come without."""
    return uuid.UUID(argument) if argument else None
