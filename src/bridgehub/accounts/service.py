"""Accounts and their keys. Every read is scoped by the caller: an account sees itself only."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts import models
from bridgehub.accounts.auth import ACCOUNT_KEY_PREFIX, Account, Admin, Caller, digest, new_key
from bridgehub.accounts.schemas import AccountCreate, AccountUpdate
from bridgehub.kit.errors import Conflict, NotFound

_HINT_LENGTH = len(ACCOUNT_KEY_PREFIX) + 4
# Creations and renames wait for one another on this lock, so that two at once cannot both
# take a name neither of them saw taken.
_NAME_LOCK = 0x6163636F756E7473  # "accounts"


class AccountService:
    async def create(
        self, session: AsyncSession, data: AccountCreate
    ) -> tuple[models.AccountRecord, str]:
        """Create an account with its first key; the key is returned once and stored as a digest."""
        await _refuse_taken_name(session, data.name)
        account = models.AccountRecord(
            id=uuid.uuid4(), name=data.name, default_region=data.default_region
        )
        session.add(account)
        await session.flush()
        _, key = self._add_key(session, account.id)
        await session.flush()
        await session.refresh(account)
        return account, key

    async def list(self, session: AsyncSession, caller: Caller) -> Sequence[models.AccountRecord]:
        statement = select(models.AccountRecord).order_by(
            models.AccountRecord.created_at, models.AccountRecord.id
        )
        if not isinstance(caller, Admin):
            statement = statement.where(models.AccountRecord.id == caller.account_id)
        return (await session.scalars(statement)).all()

    async def get(
        self, session: AsyncSession, caller: Caller, account_id: uuid.UUID
    ) -> models.AccountRecord:
        # Another account's id answers exactly like an id that does not exist.
        if not isinstance(caller, Admin) and caller.account_id != account_id:
            raise _not_found(account_id)
        account = await session.get(models.AccountRecord, account_id)
        if account is None:
            raise _not_found(account_id)
        return account

    async def update(
        self, session: AsyncSession, caller: Caller, account_id: uuid.UUID, data: AccountUpdate
    ) -> models.AccountRecord:
        account = await self.get(session, caller, account_id)
        if data.name is not None:
            await _refuse_taken_name(session, data.name, account_id)
        for field, value in data.model_dump(exclude_unset=True, exclude_none=True).items():
            setattr(account, field, value)
        await session.flush()
        return account

    async def delete(self, session: AsyncSession, account_id: uuid.UUID) -> None:
        await session.delete(await self.get(session, Admin(), account_id))
        await session.flush()

    async def list_keys(
        self, session: AsyncSession, caller: Caller, account_id: uuid.UUID
    ) -> Sequence[models.AccountKey]:
        await self.get(session, caller, account_id)
        statement = (
            select(models.AccountKey)
            .where(models.AccountKey.account_id == account_id)
            .order_by(models.AccountKey.created_at)
        )
        return (await session.scalars(statement)).all()

    async def create_key(
        self, session: AsyncSession, caller: Caller, account_id: uuid.UUID
    ) -> tuple[models.AccountKey, str]:
        """A further key, so that a key can be replaced without downtime: add, deploy, revoke."""
        await self.get(session, caller, account_id)
        record, key = self._add_key(session, account_id)
        await session.flush()
        await session.refresh(record)
        return record, key

    async def revoke_key(
        self, session: AsyncSession, caller: Caller, account_id: uuid.UUID, key_id: uuid.UUID
    ) -> None:
        await self.get(session, caller, account_id)
        key = await session.scalar(
            select(models.AccountKey).where(
                models.AccountKey.id == key_id, models.AccountKey.account_id == account_id
            )
        )
        if key is None:
            raise NotFound(f"Account {account_id} has no key {key_id}.")
        remaining = await session.scalar(
            select(func.count()).where(models.AccountKey.account_id == account_id)
        )
        if remaining == 1:
            raise Conflict("This is the account's last key; create another before revoking it.")
        await session.delete(key)
        await session.flush()

    def _add_key(
        self, session: AsyncSession, account_id: uuid.UUID
    ) -> tuple[models.AccountKey, str]:
        key = new_key(ACCOUNT_KEY_PREFIX)
        record = models.AccountKey(
            account_id=account_id, digest=digest(key), hint=key[:_HINT_LENGTH]
        )
        session.add(record)
        return record, key


def _not_found(account_id: uuid.UUID) -> NotFound:
    return NotFound(f"No account {account_id}.")


account_service = AccountService()


async def region_of(session: AsyncSession, account: Account) -> str:
    """`default_region` of the calling account: the one its key brought, or asked for."""
    if account.default_region is not None:
        return account.default_region
    return await default_region(session, account.account_id)


async def default_region(session: AsyncSession, account_id: uuid.UUID) -> str:
    """The region the account's phone numbers without a country code are read in."""
    region = await session.scalar(
        select(models.AccountRecord.default_region).where(models.AccountRecord.id == account_id)
    )
    return region or "US"


async def _refuse_taken_name(
    session: AsyncSession, name: str, renamed: uuid.UUID | None = None
) -> None:
    """Refuse a name another account has, whatever its letters' case: people tell accounts
    apart by name in the admin's list and in the hub's messages."""
    await session.execute(select(func.pg_advisory_xact_lock(_NAME_LOCK)))
    statement = select(models.AccountRecord.id).where(
        func.lower(models.AccountRecord.name) == name.lower()
    )
    if renamed is not None:
        statement = statement.where(models.AccountRecord.id != renamed)
    if await session.scalar(statement.limit(1)) is not None:
        raise Conflict(f"An account named “{name}” already exists: choose another name.")
