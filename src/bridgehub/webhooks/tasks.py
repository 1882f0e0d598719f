"""Background jobs of webhooks: fanning an event out, and one attempt at a delivery."""

from __future__ import annotations

import uuid

import procrastinate
from procrastinate import JobContext

from bridgehub.queue import ACTIONS_QUEUE, DELIVER_WEBHOOK, FAN_OUT_EVENT
from bridgehub.runtime import runtime_of
from bridgehub.webhooks import delivery

# Retries of a delivery are scheduled by `delivery` on its own schedule; these only cover a
# job breaking (database gone, worker killed).
_WHEN_THE_JOB_BREAKS = procrastinate.RetryStrategy(max_attempts=3, exponential_wait=2)


async def fan_out(context: JobContext, event_id: str, account_id: str) -> None:
    await delivery.fan_out(runtime_of(context), uuid.UUID(event_id), uuid.UUID(account_id))


async def deliver(context: JobContext, delivery_id: str, account_id: str) -> None:
    await delivery.deliver(runtime_of(context), uuid.UUID(delivery_id), uuid.UUID(account_id))


def blueprint() -> procrastinate.Blueprint:
    jobs = procrastinate.Blueprint()
    for name, job in {FAN_OUT_EVENT: fan_out, DELIVER_WEBHOOK: deliver}.items():
        jobs.task(name=name, queue=ACTIONS_QUEUE, pass_context=True, retry=_WHEN_THE_JOB_BREAKS)(
            job
        )
    return jobs
