"""Automatic replay of an automation's executions that failed because the bridge was
unavailable, every retry used: the outage may last longer than the retries (5 attempts over
about 30 s), and nobody should have to come back and retry them by hand.

An execution replays when the automation that made it asked for it at the time (`replay`,
copied onto the execution). After it failed so, it is replayed `execution_replay_seconds`
(5 min by default) times 1, 6, 12, 36 and 72 later: 5 min, 30 min, 1 h, 3 h and 6 h. Each
replay is one more attempt, and a replay that fails the same way waits for the next; after
the fifth, it stays failed. A failure the bridge meant (a `400`) is never replayed.

A sweep every minute queues the replays due, rather than a job waiting hours in the queue
for each: retrying an execution by hand, or turning its automation's replay off, takes it
off the schedule at once, by clearing `replay_at`.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridgehub.db.base import utc_now
from bridgehub.executions.models import Execution, ExecutionStatus
from bridgehub.executions.service import queue_execution
from bridgehub.settings import Settings

REPLAY_FACTORS = (1, 6, 12, 36, 72)
"""The pause before each replay, in units of `execution_replay_seconds`."""

_SWEEP_BATCH = 500


def schedule_replay(settings: Settings, execution: Execution) -> None:
    """Give `execution`, just failed for its bridge being unavailable, its next replay when
    it replays and has one left."""
    if not execution.replay or execution.replays >= len(REPLAY_FACTORS):
        return
    pause = settings.execution_replay_seconds * REPLAY_FACTORS[execution.replays]
    execution.replay_at = utc_now() + timedelta(seconds=pause)


async def stop_replays(
    session: AsyncSession, account_id: uuid.UUID, automation_id: uuid.UUID
) -> None:
    """No execution of the automation replays any more, from now on: its automation stopped
    asking for it (or was deleted)."""
    await session.execute(
        update(Execution)
        .where(
            Execution.account_id == account_id,
            Execution.automation_id == automation_id,
            Execution.replay.is_(True),
            or_(Execution.finished_at.is_(None), Execution.replay_at.is_not(None)),
        )
        .values(replay=False, replay_at=None)
        .execution_options(synchronize_session=False)
    )


async def replay_due(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    """Queue again every failed execution whose replay is due, in batches; answers how many."""
    replayed = 0
    while True:
        async with sessionmaker() as session, session.begin():
            batch = await _replay_batch(session)
        replayed += batch
        if batch < _SWEEP_BATCH:
            return replayed


async def _replay_batch(session: AsyncSession) -> int:
    due = (
        select(Execution.id)
        .where(
            Execution.replay_at <= utc_now(),
            Execution.status == ExecutionStatus.FAILED,
        )
        .order_by(Execution.replay_at)
        .limit(_SWEEP_BATCH)
        .with_for_update(skip_locked=True)
    )
    requeued = (
        update(Execution)
        .where(Execution.id.in_(due.scalar_subquery()))
        .values(
            status=ExecutionStatus.QUEUED,
            replays=Execution.replays + 1,
            replay_at=None,
            error=None,
            finished_at=None,
        )
        .returning(Execution.id, Execution.account_id)
    )
    rows: list[tuple[uuid.UUID, uuid.UUID]] = [
        (row.id, row.account_id)
        for row in await session.execute(requeued.execution_options(synchronize_session=False))
    ]
    for execution_id, account_id in rows:
        await queue_execution(session, execution_id, account_id)
    return len(rows)
