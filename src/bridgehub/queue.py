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
EXECUTE_ACTION = "executions.execute"
RESUME_HELD_EXECUTIONS = "executions.resume_held"
RECOVER_STALLED_JOBS = "worker.recover_stalled_jobs"


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
    the transaction commits. (procrastinate's own `defer` uses a connection of its own.)"""
    await session.execute(
        text(
            "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, NULL, "
            "CAST(:arguments AS jsonb), CAST(:at AS timestamptz))::procrastinate_job_to_defer_v1])"
        ),
        {"queue": queue, "task": task, "lock": lock, "arguments": json.dumps(arguments), "at": at},
    )


EVERY_MINUTE = "* * * * *"
EVERY_TEN_SECONDS = "* * * * * */10"
"""A sixth field counts seconds."""


def periodic(
    jobs: procrastinate.Blueprint, name: str, job: Callable[..., Awaitable[None]], *, cron: str
) -> None:
    """Declare `job` as the maintenance task `name`, deferred at each tick of `cron`. Each
    tick is deferred once however many workers' schedulers fire (procrastinate records the
    ticks it deferred), and a job is queued at most once at a time."""
    task = jobs.task(name=name, queue=MAINTENANCE_QUEUE, pass_context=True, queueing_lock=name)
    jobs.periodic(cron=cron)(task(job))
