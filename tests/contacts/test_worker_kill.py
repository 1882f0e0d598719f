"""A worker process killed in the middle of a sync: its job goes back to the queue, and the
run resumes from its last written page, losing and duplicating nothing."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections.abc import Awaitable, Callable

import pytest
from fastapi import FastAPI

from bridgehub.queue import SYNC_QUEUE
from bridgehub.settings import Settings
from bridgehub.worker import requeue_stalled
from tests.conftest import Tenant
from tests.helpdesk_fixtures import CONTACTS, PAGE_SIZE, Helpdesk, RunJobs, all_contacts
from tests.processes import BRIDGES_ON_LOOPBACK, bridgehub


def start_worker(
    settings: Settings, database_url: str, queue: str = SYNC_QUEUE
) -> subprocess.Popen[str]:
    """`bridgehub worker` in a process of its own, one job at a time from `queue`."""
    return bridgehub(
        ["worker", "--concurrency", "1", "--queue", queue],
        settings.home,
        {"DATABASE_URL": database_url, **BRIDGES_ON_LOOPBACK},
        subprocess.DEVNULL,
    )


async def kill_once(
    worker: subprocess.Popen[str], done: Callable[[], Awaitable[bool]], what: str
) -> None:
    """SIGKILL `worker` as soon as it has `done` part of its work (`what`, for the failure)."""
    try:
        deadline = time.monotonic() + 60
        while not await done():
            assert time.monotonic() < deadline, f"the worker never {what}"
            assert worker.poll() is None, "the worker exited on its own"
            await asyncio.sleep(0.02)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)


async def pages_written(tenant: Tenant, run_id: str) -> int:
    pages: int = (await tenant.client.get(f"/v1/sync-runs/{run_id}")).json()["pages"]
    return pages


async def test_a_killed_worker_s_run_resumes_without_loss_or_duplicates(
    hub: FastAPI,
    settings: Settings,
    database_url: str,
    tenant: Tenant,
    connected: str,
    helpdesk: Helpdesk,
    run_jobs: RunJobs,
) -> None:
    helpdesk.control.delay = 0.3  # slow pages, so that the kill lands mid-run
    started = await tenant.client.post(
        f"/v1/activations/{connected}/sync", json={"what": "contacts"}
    )
    run_id = started.json()["run_id"]
    worker = start_worker(settings, database_url)

    async def two_pages() -> bool:
        return await pages_written(tenant, run_id) >= 2

    await kill_once(worker, two_pages, "wrote two pages")
    interrupted = (await tenant.client.get(f"/v1/sync-runs/{run_id}")).json()
    assert interrupted["status"] == "running"
    assert 2 <= interrupted["pages"] < CONTACTS // PAGE_SIZE

    # Once its heartbeat is overdue, the dead worker's job goes back to the queue...
    await asyncio.sleep(1.5)
    assert await requeue_stalled(hub.state.runtime.queue, seconds_since_heartbeat=1) == 1
    helpdesk.control.delay = 0.0
    await run_jobs()

    # ...and the run resumes where it stopped.
    finished = (await tenant.client.get(f"/v1/sync-runs/{run_id}")).json()
    assert finished["status"] == "succeeded", finished
    assert finished["pages"] == CONTACTS // PAGE_SIZE
    assert finished["created"] == CONTACTS
    contacts = await all_contacts(tenant)
    assert len(contacts) == CONTACTS
    assert len({c["external_id"] for c in contacts}) == CONTACTS
    offsets = [
        r.json()["meta"].get("offset") for r in helpdesk.bridge.received("/helpdesk/contact_sync")
    ]
    # Nothing was asked twice but the page the kill interrupted.
    assert len(offsets) - len(set(offsets)) <= 1


pytestmark = pytest.mark.usefixtures("empty_queue")
