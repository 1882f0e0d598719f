"""SIGTERM, as a service manager or an orchestrator sends it before replacing a process:
`serve` stops taking connections, lets the requests in flight finish and exits; a worker
stops taking jobs, hands back the one it cannot finish in time, and exits; another resumes
it from its last stored page."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from bridgehub.settings import Settings
from tests.conftest import Tenant
from tests.contacts.test_worker_kill import pages_written
from tests.faults.served_hub import HUB_SETTINGS, connected_account, wait_for
from tests.helpdesk_fixtures import CONTACTS, PAGE_SIZE, Helpdesk, RunJobs, all_contacts
from tests.processes import (
    BRIDGES_ON_LOOPBACK,
    bridgehub,
    free_port,
    running_hub,
    running_worker,
    seconds_to_stop,
)
from tests.production.shape import shared_settings
from tests.standalone_postgres import StandaloneServer

SLOW_CHECK = 3.0
"""Seconds the bridge takes to validate credentials: a request still in flight at SIGTERM."""
JOBS_GRACE = 2.0
"""Seconds the stopped worker gives its job before handing it back (15 by default)."""


def test_serve_with_two_processes_lets_the_requests_in_flight_finish_then_exits(
    tmp_path: Path, helpdesk: Helpdesk
) -> None:
    port = free_port()
    api_only = {**HUB_SETTINGS, "BRIDGEHUB_WORKERS": "0"}
    with (
        (tmp_path / "serve.log").open("w") as log,
        running_hub(tmp_path, port, api_only, log, ["--processes", "2"]) as process,
        connected_account(f"http://127.0.0.1:{port}", helpdesk) as (account, activation_id),
    ):
        assert _postmasters(tmp_path) == 1, "the processes must share one embedded PostgreSQL"
        helpdesk.control.slowed = ("auth_validation",)
        helpdesk.control.delay = SLOW_CHECK
        answers: list[httpx.Response] = []

        def check() -> None:
            answers.append(account.post(f"/v1/activations/{activation_id}/check", timeout=30))

        in_flight = threading.Thread(target=check)
        in_flight.start()
        wait_for(lambda: helpdesk.control.requests == 1, "the check to reach the bridge", 10)
        took = seconds_to_stop(process)
        in_flight.join()
    assert answers[0].status_code == 200, answers[0].text
    assert took > SLOW_CHECK / 2, "serve exited without waiting for the request in flight"
    print(f"serve exited {took:.1f} s after SIGTERM")


def _postmasters(home: Path) -> int:
    found = subprocess.run(
        ["pgrep", "-f", str(home / "pgdata")], capture_output=True, text=True, check=False
    )
    return len(found.stdout.split())


async def test_a_stopped_worker_hands_its_sync_back_and_another_finishes_it(
    hub: FastAPI,
    settings: Settings,
    database_url: str,
    tenant: Tenant,
    connected: str,
    helpdesk: Helpdesk,
    run_jobs: RunJobs,
) -> None:
    helpdesk.control.delay = 1.0  # slow pages: the run outlasts the worker's grace
    started = await tenant.client.post(f"/v1/activations/{connected}/sync", json={})
    run_id = started.json()["run_id"]
    worker = bridgehub(
        ["worker", "--concurrency", "1"],
        settings.home,
        {
            "DATABASE_URL": database_url,
            "BRIDGEHUB_SHUTDOWN_JOBS_SECONDS": str(JOBS_GRACE),
            **BRIDGES_ON_LOOPBACK,
        },
        subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while await pages_written(tenant, run_id) < 2:
        assert time.monotonic() < deadline, "the worker never wrote two pages"
    took = seconds_to_stop(worker)
    assert JOBS_GRACE <= took < 30, took

    # Handed back, not failed: queued again for whichever worker comes next...
    async with hub.state.runtime.sessionmaker() as session:
        statuses = (
            await session.scalars(
                text("SELECT status FROM procrastinate_jobs WHERE task_name = 'contacts.sync'")
            )
        ).all()
    assert statuses == ["todo"]
    interrupted = (await tenant.client.get(f"/v1/sync-runs/{run_id}")).json()
    assert interrupted["status"] == "running"
    assert 2 <= interrupted["pages"] < CONTACTS // PAGE_SIZE

    # ...which resumes the run where it stopped.
    helpdesk.control.delay = 0.0
    await run_jobs()
    finished = (await tenant.client.get(f"/v1/sync-runs/{run_id}")).json()
    assert finished["status"] == "succeeded", finished
    assert finished["created"] == CONTACTS
    contacts = await all_contacts(tenant)
    assert len({c["external_id"] for c in contacts}) == len(contacts) == CONTACTS


pytestmark = pytest.mark.usefixtures("empty_queue")


def test_a_worker_stopped_while_its_database_is_away_exits(
    tmp_path: Path, standalone_postgres: StandaloneServer
) -> None:
    log_path = tmp_path / "worker.log"
    with (
        log_path.open("w") as log,
        running_worker(tmp_path, shared_settings(standalone_postgres), log) as worker,
    ):
        wait_for(lambda: "Starting worker" in log_path.read_text(), "the worker to start", 30)
        standalone_postgres.stop()
        try:
            time.sleep(1)
            took = seconds_to_stop(worker)
        finally:
            standalone_postgres.start()
    print(f"the worker exited {took:.1f} s after SIGTERM, its database away")
