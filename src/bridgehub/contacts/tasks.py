"""Background jobs of synchronization: running a sync, scheduling due ones, and giving
back the jobs of workers that died."""

from __future__ import annotations

import uuid

import structlog
from procrastinate import JobContext, RetryStrategy

from bridgehub.contacts import sync
from bridgehub.runtime import Runtime
from bridgehub.worker import MAINTENANCE_QUEUE, RUNTIME, SYNC_QUEUE, requeue_stalled, tasks

log = structlog.get_logger(__name__)


def _runtime(context: JobContext) -> Runtime:
    runtime: Runtime = context.additional_context[RUNTIME]
    return runtime


# Retried when the job itself breaks (database gone, worker killed): the run resumes from
# its last written page. Failures of the bridge end the run instead, recorded on it.
@tasks.task(
    name="sync",
    queue=SYNC_QUEUE,
    pass_context=True,
    retry=RetryStrategy(max_attempts=5, exponential_wait=2),
)
async def run_sync(context: JobContext, run_id: str) -> None:
    await sync.perform(_runtime(context), uuid.UUID(run_id))


@tasks.periodic(cron="* * * * *")
@tasks.task(
    name="schedule_syncs",
    queue=MAINTENANCE_QUEUE,
    pass_context=True,
    queueing_lock="schedule_syncs",
)
async def schedule_syncs(context: JobContext, timestamp: int) -> None:
    """Queue a sync for every active activation whose interval has passed."""
    del timestamp
    async with _runtime(context).sessionmaker() as session:
        await sync.schedule_due(session)
        await session.commit()


@tasks.periodic(cron="* * * * *")
@tasks.task(
    name="recover_stalled_jobs",
    queue=MAINTENANCE_QUEUE,
    pass_context=True,
    queueing_lock="recover_stalled_jobs",
)
async def recover_stalled_jobs(context: JobContext, timestamp: int) -> None:
    del timestamp
    await requeue_stalled(context.app)
