"""The task queue's vocabulary: queue and task names, and enqueueing inside a transaction.

Services enqueue jobs by name through this module and never import the worker, which
registers every domain's tasks (`bridgehub.worker`). Task names are stored in queued jobs:
renaming one strands the jobs already queued under the old name.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import datetime

import procrastinate
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

SYNC_QUEUE = "sync"
ACTIONS_QUEUE = "actions"
MAINTENANCE_QUEUE = "maintenance"
"""Scheduling and recovery: periodic, light, and best kept apart from the real work."""

RUN_SYNC = "contacts.sync"
SCHEDULE_SYNCS = "contacts.schedule_syncs"
FIRST_SYNCS = "contacts.first_syncs"
EXECUTE_ACTION = "executions.execute"
RESUME_HELD_EXECUTIONS = "executions.resume_held"
REPLAY_DUE_EXECUTIONS = "executions.replay_due"
RECOVER_STALLED_JOBS = "worker.recover_stalled_jobs"
PURGE_EXPIRED = "retention.purge_expired"
DELIVER_WEBHOOK = "webhooks.deliver"


def libpq_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


async def enqueue(
    session: AsyncSession,
    task: str,
    *,
    queue: str,
    lock: str | None,
    at: datetime | None = None,
    **arguments: str,
) -> None:
    """Defer the task named `task` inside the session's transaction: the job exists only if
    the transaction commits. (procrastinate's own `defer` uses a connection of its own.)

    A job to run now is scheduled now: procrastinate keeps no time for it otherwise, and
    the time it waited before a worker took it is measured from there."""
    await session.execute(
        text(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, NULL, "
            "CAST(:arguments AS jsonb), COALESCE(CAST(:at AS timestamptz), now()))"
            "::procrastinate_job_to_defer_v1])"
        ),
        {"queue": queue, "task": task, "lock": lock, "arguments": json.dumps(arguments), "at": at},
    )


QUEUES = (SYNC_QUEUE, ACTIONS_QUEUE, MAINTENANCE_QUEUE)

SCHEDULED = "scheduled"
"""A job waiting for a later time (a retry's pause, say); procrastinate counts it as todo."""


async def jobs_by_queue_and_status(session: AsyncSession) -> dict[tuple[str, str], int]:
    """How many jobs each queue holds in each status: procrastinate's (`todo` ready to run,
    `doing`, `failed`...) with `scheduled` told apart from `todo`. Every queue's `todo` and
    `doing` are there, 0 when empty, so that a drained queue still shows."""
    counts = {(queue, status): 0 for queue in QUEUES for status in ("todo", "doing")}
    rows = await session.execute(
        text(
            "SELECT queue_name, CASE WHEN status = 'todo' AND scheduled_at > now() "
            "THEN :scheduled ELSE status::text END AS shown_status, count(*) "
            "FROM procrastinate_jobs GROUP BY queue_name, shown_status"
        ),
        {"scheduled": SCHEDULED},
    )
    counts.update({(queue, status): count for queue, status, count in rows})
    return counts


EVERY_MINUTE = "* * * * *"
EVERY_TEN_SECONDS = "* * * * * */10"
"""A sixth field counts seconds."""
HOURLY = "17 * * * *"
"""Once an hour, at a minute of its own: away from the top of the hour, when work others
schedule on the hour tends to start."""


def periodic(
    jobs: procrastinate.Blueprint, name: str, job: Callable[..., Awaitable[None]], *, cron: str
) -> None:
    """Declare `job` as the maintenance task `name`, deferred at each tick of `cron`. Each
    tick is deferred once however many workers' schedulers fire (procrastinate records the
    ticks it deferred), and a job is queued at most once at a time."""
    task = jobs.task(name=name, queue=MAINTENANCE_QUEUE, pass_context=True, queueing_lock=name)
    jobs.periodic(cron=cron)(task(job))
