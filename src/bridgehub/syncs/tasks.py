"""Background jobs of synchronization: running a sync, and scheduling due ones."""

from __future__ import annotations

import uuid

import procrastinate
from procrastinate import JobContext, RetryStrategy

from bridgehub.accounts.tenancy import account_of_job
from bridgehub.queue import (
    EVERY_MINUTE,
    FIRST_SYNCS,
    RUN_SYNC,
    SCHEDULE_SYNCS,
    SYNC_QUEUE,
    periodic,
)
from bridgehub.runtime import runtime_of
from bridgehub.syncs import runner
from bridgehub.syncs.service import sync_service


async def run_sync(context: JobContext, run_id: str, account_id: str | None = None) -> None:
    await runner.perform(runtime_of(context), uuid.UUID(run_id), account_of_job(account_id))


async def first_syncs(
    context: JobContext, activation_id: str, account_id: str | None = None
) -> None:
    async with runtime_of(context).sessionmaker() as session:
        await sync_service.first_syncs(
            session, uuid.UUID(activation_id), account_of_job(account_id)
        )
        await session.commit()


async def schedule_syncs(context: JobContext, timestamp: int) -> None:
    """Queue a sync for every active activation whose interval has passed."""
    del timestamp
    async with runtime_of(context).sessionmaker() as session:
        await sync_service.schedule_due(session)
        await session.commit()


def blueprint() -> procrastinate.Blueprint:
    """These jobs, on a blueprint of their own for each task queue built: a procrastinate
    task belongs to one app, and a process may hold several (tests do)."""
    jobs = procrastinate.Blueprint()
    # Retried when the job itself breaks (database gone, run claimed elsewhere): the run
    # resumes from its last written page. A failing bridge ends the run, recorded on it.
    jobs.task(
        name=RUN_SYNC,
        queue=SYNC_QUEUE,
        pass_context=True,
        retry=RetryStrategy(max_attempts=5, exponential_wait=2),
    )(run_sync)
    jobs.task(name=FIRST_SYNCS, queue=SYNC_QUEUE, pass_context=True)(first_syncs)
    periodic(jobs, SCHEDULE_SYNCS, schedule_syncs, cron=EVERY_MINUTE)
    return jobs
