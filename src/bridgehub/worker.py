"""Background work on procrastinate, a task queue kept in the hub's own PostgreSQL.

Jobs are enqueued in the same transaction as the state they act on (a sync run and its
job exist together or not at all), and any number of workers, in the `serve` process or
started alone with `bridgehub worker`, share them through the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import TYPE_CHECKING

import procrastinate
import structlog
from procrastinate import PsycopgConnector
from procrastinate.app import WorkerOptions
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

if TYPE_CHECKING:
    from bridgehub.runtime import Runtime

log = structlog.get_logger(__name__)


SYNC_QUEUE = "sync"
ACTIONS_QUEUE = "actions"
MAINTENANCE_QUEUE = "maintenance"
"""Scheduling and recovery: periodic, light, and best kept apart from the real work."""

RUNTIME = "runtime"
"""Key of the hub's `Runtime` in each job's `additional_context`."""


def libpq_url(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://", 1)


def connect_queue(database_url: str) -> procrastinate.App:
    """The task queue on the hub's database, with every domain's tasks registered."""
    # Imported here: the task modules import this one.
    from bridgehub.contacts import tasks as contact_tasks
    from bridgehub.executions import tasks as execution_tasks

    queue = procrastinate.App(
        connector=PsycopgConnector(conninfo=libpq_url(database_url), min_size=1, max_size=10)
    )
    contact_tasks.register(queue)
    execution_tasks.register(queue)
    return queue


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


@asynccontextmanager
async def background_worker(
    runtime: Runtime,
    *,
    concurrency: int,
    name: str = "serve",
    queues: list[str] | None = None,
) -> AsyncIterator[None]:
    """Run a worker beside the caller (the API process) for as long as the block runs, on
    `queues` (all by default); with a concurrency of 0, none."""
    if concurrency == 0:
        yield
        return
    running = asyncio.create_task(
        work(
            runtime,
            concurrency=concurrency,
            name=name,
            install_signal_handlers=False,
            queues=queues,
        )
    )
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


async def work(
    runtime: Runtime,
    *,
    concurrency: int,
    name: str,
    install_signal_handlers: bool = True,
    wait: bool = True,
    queues: list[str] | None = None,
) -> None:
    """Run jobs of `queues` (all when None) until stopped, or, without `wait`, until none
    is left."""
    options: WorkerOptions = {
        "concurrency": concurrency,
        "name": name,
        "wait": wait,
        "install_signal_handlers": install_signal_handlers,
        "additional_context": {RUNTIME: runtime},
        "delete_jobs": "successful",
    }
    if queues:  # none given: every queue
        options["queues"] = queues
    await runtime.queue.run_worker_async(**options)


async def requeue_stalled(queue: procrastinate.App, *, seconds_since_heartbeat: float = 30) -> int:
    """Put back in the queue the jobs of workers that stopped sending heartbeats (a worker
    killed or cut off): whoever takes them resumes the work."""
    manager = queue.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat))
    for job in stalled:
        log.warning("requeuing a stalled job", job_id=job.id, task=job.task_name)
        await manager.retry_job(job)
    return len(stalled)
