"""Authentication of API callers by bearer key.

An endpoint states who may call it in its signature (`AdminSubject`, ...); the
dependency resolves the caller from the `Authorization` header or answers 401.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.models import AdminKey
from bridgehub.db.session import DbSession
from bridgehub.kit.errors import Unauthorized
from bridgehub.settings import Settings

ADMIN_KEY_PREFIX = "bh_admin_"


@dataclass(frozen=True)
class Admin:
    """The operator of the hub: manages the catalog and accounts."""


def digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def ensure_admin_key(session: AsyncSession, settings: Settings) -> str | None:
    """Generate and store (as a digest) an admin key on first start.

    Returns the new key so that it can be shown once, or None when a key exists or
    `BRIDGEHUB_ADMIN_KEY` provides one.
    """
    if settings.admin_key is not None or await session.scalar(
        select(exists().select_from(AdminKey))
    ):
        return None
    key = ADMIN_KEY_PREFIX + secrets.token_urlsafe(32)
    session.add(AdminKey(digest=digest(key)))
    await session.commit()
    return key


async def is_admin_key(session: AsyncSession, settings: Settings, key: str) -> bool:
    if settings.admin_key is not None:
        # When the environment names the admin key, it is the only one.
        return hmac.compare_digest(key.encode(), settings.admin_key.get_secret_value().encode())
    found = await session.scalar(select(exists().where(AdminKey.digest == digest(key))))
    return bool(found)


def bearer_key(request: Request) -> str:
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise Unauthorized("Send your API key as 'Authorization: Bearer <key>'.")
    return key.strip()


async def _admin(request: Request, session: DbSession) -> Admin:
    key = bearer_key(request)
    if not await is_admin_key(session, request.app.state.settings, key):
        raise Unauthorized("The API key is not valid for this operation.")
    return Admin()


AdminSubject = Annotated[Admin, Depends(_admin)]
