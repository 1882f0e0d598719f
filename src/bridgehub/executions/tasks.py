"""Background job of executions: one attempt at running an action."""

from __future__ import annotations

import uuid

import procrastinate
from procrastinate import JobContext

from bridgehub.executions import service
from bridgehub.runtime import Runtime
from bridgehub.worker import ACTIONS_QUEUE, RUNTIME


def register(queue: procrastinate.App) -> None:
    # Retries of the action itself are scheduled by the service (with the bridge's
    # Retry-After); this only covers the job breaking (database gone, worker killed).
    queue.task(
        name=service.EXECUTE_TASK,
        queue=ACTIONS_QUEUE,
        pass_context=True,
        retry=procrastinate.RetryStrategy(max_attempts=3, exponential_wait=2),
    )(execute)


async def execute(context: JobContext, execution_id: str) -> None:
    runtime: Runtime = context.additional_context[RUNTIME]
    await service.perform(runtime, uuid.UUID(execution_id))
