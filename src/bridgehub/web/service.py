"""Web UI sessions: sign in with a key, find who holds a session token, sign out.

The browser's cookie holds a random token; the database holds its digest and which key
signed in, never the key. Each request checks that key still works, so a revoked or
rotated key ends its sessions at once.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account, Admin, Caller, digest, identify
from bridgehub.accounts.models import AccountKey, AccountRecord, AdminKey
from bridgehub.db.base import utc_now
from bridgehub.settings import Settings
from bridgehub.web.models import UiSession

IDLE_TIMEOUT = timedelta(hours=2)
"""A session unused this long ends."""
MAX_LIFETIME = timedelta(hours=12)
"""However busy, a session ends this long after signing in."""
# Extending the expiry on every page view would be a write per request; once a minute is
# as good for an idle timeout counted in hours.
_EXTEND_STEP = timedelta(minutes=1)


@dataclass(frozen=True)
class Operator:
    """The person signed in: the caller the domain services take, and their session."""

    caller: Caller
    session_id: uuid.UUID
    csrf_token: str
    account_name: str | None
    """The account's name, for an account session."""

    @property
    def is_admin(self) -> bool:
        return isinstance(self.caller, Admin)


class SessionService:
    async def sign_in(
        self, session: AsyncSession, settings: Settings, key: str
    ) -> tuple[str, Operator] | None:
        """A new session for whoever `key` identifies; answers its token (for the cookie)
        and the operator, or None when the key is not valid."""
        caller = await identify(session, settings, key)
        if caller is None:
            return None
        await session.execute(delete(UiSession).where(UiSession.expires_at <= utc_now()))
        token = secrets.token_urlsafe(32)
        record = UiSession(
            id=uuid.uuid4(), token_digest=digest(token), expires_at=utc_now() + IDLE_TIMEOUT
        )
        if isinstance(caller, Account):
            record.account_key_id = await session.scalar(
                select(AccountKey.id).where(AccountKey.digest == digest(key))
            )
        elif settings.admin_key is not None:
            record.environment_admin_key_digest = digest(key)
        else:
            record.admin_key_id = await session.scalar(
                select(AdminKey.id).where(AdminKey.digest == digest(key))
            )
        session.add(record)
        await session.flush()
        operator = await self.find(session, settings, token)
        assert operator is not None  # the key was valid a moment ago
        return token, operator

    async def find(self, session: AsyncSession, settings: Settings, token: str) -> Operator | None:
        """The operator holding `token`, or None when the session ended or never was."""
        now = utc_now()
        record = await session.scalar(
            select(UiSession).where(
                UiSession.token_digest == digest(token), UiSession.expires_at > now
            )
        )
        if record is None:
            return None
        found = await self._caller(session, settings, record)
        if found is None:
            await session.delete(record)
            await session.flush()
            return None
        caller, account_name = found
        _extend(record, now)
        return Operator(caller, record.id, csrf_token(token), account_name)

    async def sign_out(self, session: AsyncSession, token: str) -> None:
        await session.execute(delete(UiSession).where(UiSession.token_digest == digest(token)))

    async def _caller(
        self, session: AsyncSession, settings: Settings, record: UiSession
    ) -> tuple[Caller, str | None] | None:
        if record.account_key_id is not None:
            row = (
                await session.execute(
                    select(AccountRecord.id, AccountRecord.name, AccountRecord.default_region)
                    .join(AccountKey, AccountKey.account_id == AccountRecord.id)
                    .where(AccountKey.id == record.account_key_id)
                )
            ).one_or_none()
            return None if row is None else (Account(row.id, row.default_region), row.name)
        # When the environment names the admin key it is the only one, as for the API.
        environment_key = settings.admin_key
        if record.environment_admin_key_digest is not None:
            current = (
                None if environment_key is None else digest(environment_key.get_secret_value())
            )
            valid = current is not None and hmac.compare_digest(
                current, record.environment_admin_key_digest
            )
            return (Admin(), None) if valid else None
        return (Admin(), None) if environment_key is None else None


def csrf_token(session_token: str) -> str:
    """The session's CSRF token: derived from the session token, so it needs no storage and
    reveals nothing about the token it came from."""
    return hmac.new(session_token.encode(), b"bridgehub csrf", hashlib.sha256).hexdigest()


def _extend(record: UiSession, now: datetime) -> None:
    wanted = min(now + IDLE_TIMEOUT, record.created_at + MAX_LIFETIME)
    if wanted - record.expires_at >= _EXTEND_STEP:
        record.expires_at = wanted


session_service = SessionService()
