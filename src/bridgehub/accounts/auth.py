"""Who is calling: the admin, or an account, identified by a bearer key.

An endpoint states who may call it in its signature (`AdminCaller`, `AccountCaller`,
`AnyCaller`); services receive the caller and scope their queries by it themselves.
Keys are stored only as SHA-256 digests: they are long random strings, so a slow
password hash would add nothing but latency to every call.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.models import AccountKey, AccountRecord, AdminKey
from bridgehub.db.session import DbSession
from bridgehub.kit.errors import Forbidden, Unauthorized
from bridgehub.settings import Settings

ADMIN_KEY_PREFIX = "bh_admin_"
ACCOUNT_KEY_PREFIX = "bh_acct_"
_ADMIN_KEY_LOCK = 0x61646D696E  # names "making the admin key" among the hub's advisory locks


@dataclass(frozen=True)
class Admin:
    """The hub's operator: manages the catalog and the accounts."""


@dataclass(frozen=True)
class Account:
    """A caller acting for one account."""

    account_id: uuid.UUID
    default_region: str | None = None
    """The region the account reads phone numbers without a country code in, when it came
    with the key (the same statement finds both); None: not known yet (see
    `accounts.service.region_of`)."""


Caller = Admin | Account


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(32)


async def ensure_admin_key(session: AsyncSession, settings: Settings) -> str | None:
    """Generate and store (as a digest) an admin key on first start.

    Returns the new key so that it can be shown once, or None when a key exists or
    `BRIDGEHUB_ADMIN_KEY` provides one.
    """
    if settings.admin_key is not None:
        return None
    # Hub processes starting together on a new database would each make one.
    await session.execute(select(func.pg_advisory_xact_lock(_ADMIN_KEY_LOCK)))
    if await session.scalar(select(exists().select_from(AdminKey))):
        await session.commit()
        return None
    key = new_key(ADMIN_KEY_PREFIX)
    session.add(AdminKey(digest=digest(key)))
    await session.commit()
    return key


async def identify(session: AsyncSession, settings: Settings, key: str) -> Caller | None:
    if await _is_admin_key(session, settings, key):
        return Admin()
    found = (
        await session.execute(
            select(AccountKey.account_id, AccountRecord.default_region)
            .join(AccountRecord, AccountRecord.id == AccountKey.account_id)
            .where(AccountKey.digest == digest(key))
        )
    ).one_or_none()
    return None if found is None else Account(found.account_id, found.default_region)


async def _is_admin_key(session: AsyncSession, settings: Settings, key: str) -> bool:
    if settings.admin_key is not None:
        # When the environment names the admin key, it is the only one.
        return hmac.compare_digest(key.encode(), settings.admin_key.get_secret_value().encode())
    # Every stored admin key starts with the prefix: other keys are spared the query.
    if not key.startswith(ADMIN_KEY_PREFIX):
        return False
    found = await session.scalar(select(exists().where(AdminKey.digest == digest(key))))
    return bool(found)


def _bearer_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'.")
    return key.strip()


async def _any_caller(request: Request, session: DbSession) -> Caller:
    caller = await identify(session, request.app.state.runtime.settings, _bearer_key(request))
    if caller is None:
        raise Unauthorized("The API key is not valid.")
    return caller


async def _admin(caller: Annotated[Caller, Depends(_any_caller)]) -> Admin:
    if not isinstance(caller, Admin):
        raise Forbidden("This needs the admin key; an account key cannot do it.")
    return caller


async def _account(caller: Annotated[Caller, Depends(_any_caller)]) -> Account:
    if not isinstance(caller, Account):
        raise Forbidden("This acts for one account: call it with that account's key.")
    return caller


AnyCaller = Annotated[Caller, Depends(_any_caller)]
AdminCaller = Annotated[Admin, Depends(_admin)]
AccountCaller = Annotated[Account, Depends(_account)]
