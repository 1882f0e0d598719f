"""The request-scoped database session: one transaction per API call or page."""

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
