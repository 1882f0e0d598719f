"""Background jobs of synchronization: running a sync, scheduling due ones, and giving
back the jobs of workers that died."""

from __future__ import annotations

import uuid

import procrastinate
from procrastinate import JobContext, RetryStrategy

from bridgehub.contacts import sync
from bridgehub.runtime import Runtime
from bridgehub.worker import MAINTENANCE_QUEUE, RUNTIME, SYNC_QUEUE, requeue_stalled

EVERY_MINUTE = "* * * * *"


def register(queue: procrastinate.App) -> None:
    # Retried when the job itself breaks (database gone, run claimed elsewhere): the run
    # resumes from its last written page. A failing bridge ends the run, recorded on it.
    queue.task(
        name=sync.SYNC_TASK,
        queue=SYNC_QUEUE,
        pass_context=True,
        retry=RetryStrategy(max_attempts=5, exponential_wait=2),
    )(run_sync)
    # Each queued at most once at a time, however many workers' schedulers fire.
    maintenance = {
        "contacts.schedule_syncs": schedule_syncs,
        "worker.recover_stalled_jobs": recover_stalled_jobs,
    }
    for name, job in maintenance.items():
        queue.periodic(cron=EVERY_MINUTE)(
            queue.task(name=name, queue=MAINTENANCE_QUEUE, pass_context=True, queueing_lock=name)(
                job
            )
        )


def _runtime(context: JobContext) -> Runtime:
    runtime: Runtime = context.additional_context[RUNTIME]
    return runtime


async def run_sync(context: JobContext, run_id: str) -> None:
    await sync.perform(_runtime(context), uuid.UUID(run_id))


async def schedule_syncs(context: JobContext, timestamp: int) -> None:
    """Queue a sync for every active activation whose interval has passed."""
    del timestamp
    async with _runtime(context).sessionmaker() as session:
        await sync.schedule_due(session)
        await session.commit()


async def recover_stalled_jobs(context: JobContext, timestamp: int) -> None:
    del timestamp
    await requeue_stalled(context.app)
