"""Background jobs of synchronization: running a sync, and scheduling due ones."""

from __future__ import annotations

import uuid

import procrastinate
from procrastinate import JobContext, RetryStrategy

from bridgehub.queue import EVERY_MINUTE, MAINTENANCE_QUEUE, RUN_SYNC, SCHEDULE_SYNCS, SYNC_QUEUE
from bridgehub.runtime import runtime_of
from bridgehub.syncs import runner
from bridgehub.syncs.service import sync_service

blueprint = procrastinate.Blueprint()


# Retried when the job itself breaks (database gone, run claimed elsewhere): the run
# resumes from its last written page. A failing bridge ends the run, recorded on it.
@blueprint.task(
    name=RUN_SYNC,
    queue=SYNC_QUEUE,
    pass_context=True,
    retry=RetryStrategy(max_attempts=5, exponential_wait=2),
)
async def run_sync(context: JobContext, run_id: str) -> None:
    await runner.perform(runtime_of(context), uuid.UUID(run_id))


# Queued at most once at a time, however many workers' schedulers fire.
@blueprint.periodic(cron=EVERY_MINUTE)
@blueprint.task(
    name=SCHEDULE_SYNCS, queue=MAINTENANCE_QUEUE, pass_context=True, queueing_lock=SCHEDULE_SYNCS
)
async def schedule_syncs(context: JobContext, timestamp: int) -> None:
    """Queue a sync for every active activation whose interval has passed."""
    del timestamp
    async with runtime_of(context).sessionmaker() as session:
        await sync_service.schedule_due(session)
        await session.commit()
