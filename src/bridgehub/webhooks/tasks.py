"""Background jobs of webhooks: one attempt at a delivery."""

from __future__ import annotations

import uuid

import procrastinate
from procrastinate import JobContext

from bridgehub.queue import ACTIONS_QUEUE, DELIVER_WEBHOOK
from bridgehub.runtime import runtime_of
from bridgehub.webhooks import delivery

# Retries of a delivery are scheduled by `delivery` on its own schedule; these only cover a
# job breaking (database gone, worker killed).
_WHEN_THE_JOB_BREAKS = procrastinate.RetryStrategy(max_attempts=3, exponential_wait=2)


async def deliver(context: JobContext, delivery_id: str, account_id: str) -> None:
    await delivery.deliver(runtime_of(context), uuid.UUID(delivery_id), uuid.UUID(account_id))


def blueprint() -> procrastinate.Blueprint:
    jobs = procrastinate.Blueprint()
    jobs.task(
        name=DELIVER_WEBHOOK, queue=ACTIONS_QUEUE, pass_context=True, retry=_WHEN_THE_JOB_BREAKS
    )(deliver)
    return jobs
