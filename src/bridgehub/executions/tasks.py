"""Background jobs of executions: one attempt at running an action, resuming those held
while their activation waited for reauthorization, and the sweep of replays due."""

from __future__ import annotations

import uuid

import procrastinate
from procrastinate import JobContext

from bridgehub.accounts.tenancy import account_of_job
from bridgehub.executions import runner
from bridgehub.executions.replay import replay_due
from bridgehub.executions.service import resume_held
from bridgehub.queue import (
    ACTIONS_QUEUE,
    EVERY_MINUTE,
    EXECUTE_ACTION,
    REPLAY_DUE_EXECUTIONS,
    RESUME_HELD_EXECUTIONS,
    periodic,
)
from bridgehub.runtime import runtime_of

# Retries of the action itself are scheduled by the runner (with the bridge's Retry-After);
# these only cover a job breaking (database gone, worker killed).
_WHEN_THE_JOB_BREAKS = procrastinate.RetryStrategy(max_attempts=3, exponential_wait=2)


async def execute(context: JobContext, execution_id: str, account_id: str | None = None) -> None:
    await runner.perform(runtime_of(context), uuid.UUID(execution_id), account_of_job(account_id))


async def resume_held_executions(
    context: JobContext, activation_id: str, account_id: str | None = None
) -> None:
    async with runtime_of(context).sessionmaker() as session:
        await resume_held(session, uuid.UUID(activation_id), account_of_job(account_id))
        await session.commit()


async def replay_due_executions(context: JobContext, timestamp: int) -> None:
    del timestamp
    await replay_due(runtime_of(context).sessionmaker)


def blueprint() -> procrastinate.Blueprint:
    """These jobs, on a blueprint of their own for each task queue built: a procrastinate
    task belongs to one app, and a process may hold several (tests do)."""
    jobs = procrastinate.Blueprint()
    for name, job in {
        EXECUTE_ACTION: execute,
        RESUME_HELD_EXECUTIONS: resume_held_executions,
    }.items():
        jobs.task(name=name, queue=ACTIONS_QUEUE, pass_context=True, retry=_WHEN_THE_JOB_BREAKS)(
            job
        )
    periodic(jobs, REPLAY_DUE_EXECUTIONS, replay_due_executions, cron=EVERY_MINUTE)
    return jobs
