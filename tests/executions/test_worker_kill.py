"""A worker process killed with SIGKILL in the middle of a burst of executions: the one it
was running goes back to the queue, and every execution ends succeeded, none lost and none
recorded twice (the bridge may see the interrupted one twice: actions are at least once)."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from bridgehub.queue import ACTIONS_QUEUE
from bridgehub.settings import Settings
from bridgehub.worker import requeue_stalled
from tests.conftest import Tenant
from tests.contacts.test_worker_kill import kill_once, start_worker
from tests.executions.test_executions import ACTION, TICKET
from tests.helpdesk_fixtures import Helpdesk, RunJobs

BURST = 60


@pytest.mark.usefixtures("connected", "empty_queue")
async def test_a_worker_killed_during_a_burst_of_executions_loses_nothing(
    hub: FastAPI,
    settings: Settings,
    database_url: str,
    tenant: Tenant,
    helpdesk: Helpdesk,
    run_jobs: RunJobs,
) -> None:
    ids = []
    for _ in range(BURST):
        queued = await tenant.client.post("/v1/executions", json={"action": ACTION, "data": TICKET})
        ids.append(queued.json()["id"])
    worker = start_worker(settings, database_url, ACTIONS_QUEUE)

    async def a_quarter_done() -> bool:
        return len(helpdesk.bridge.created()) >= BURST // 4

    await kill_once(worker, a_quarter_done, "carried out a quarter of the burst")
    assert len(helpdesk.bridge.created()) < BURST, "the kill came after the burst"

    # Once its heartbeat is overdue, the dead worker's job (if it had one) is handed back.
    await asyncio.sleep(1.5)
    await requeue_stalled(hub.state.runtime.queue, seconds_since_heartbeat=1)
    await run_jobs()

    executions = [(await tenant.client.get(f"/v1/executions/{each}")).json() for each in ids]
    assert [execution["status"] for execution in executions] == ["succeeded"] * BURST
    for execution in executions:
        outcomes = [attempt["outcome"] for attempt in execution["history"]]
        assert outcomes.count("succeeded") == 1, execution
    assert BURST <= len(helpdesk.bridge.created()) <= BURST + 1
