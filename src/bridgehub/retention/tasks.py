"""Background job of retention: the purge of expired history, every hour.

Hourly keeps each run small, about the rows the hub wrote in one hour long ago, so that no
run holds a worker for long; a first run on a database with years of history goes on, a
batch at a time, until it has caught up."""

from __future__ import annotations

import procrastinate
from procrastinate import JobContext

from bridgehub.queue import HOURLY, PURGE_EXPIRED, periodic
from bridgehub.retention.service import purge_expired
from bridgehub.runtime import runtime_of


async def purge_expired_rows(context: JobContext, timestamp: int) -> None:
    del timestamp
    runtime = runtime_of(context)
    await purge_expired(runtime.sessionmaker, runtime.settings.retention_days)


def blueprint() -> procrastinate.Blueprint:
    """This job, on a blueprint of its own for each task queue built: a procrastinate task
    belongs to one app, and a process may hold several (tests do)."""
    jobs = procrastinate.Blueprint()
    periodic(jobs, PURGE_EXPIRED, purge_expired_rows, cron=HOURLY)
    return jobs
