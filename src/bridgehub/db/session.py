"""The request-scoped database session: one transaction per API call or page, committed by
this dependency alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession


async def _session(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.runtime.sessionmaker() as session:
        yield session
        await session.commit()


# Committed before the answer leaves: a client that reads right after a write (the account
# it just created, the run it just asked for) must find it, and so must a browser following
# the redirect after a form.
DbSession = Annotated[AsyncSession, Depends(_session, scope="function")]


async def release_connection(session: AsyncSession) -> None:
    """End the transaction before waiting on something slow (a bridge), so that no database
    connection sits idle through a call that may take seconds. What was read stays usable
    (sessions do not expire objects on commit); the session opens a new transaction when
    next used. Call it only where what the transaction did so far may be kept."""
    await session.commit()
