"""The hub as operators run it in production: a standalone PostgreSQL server (Debian's),
`serve --processes 2` answering the API without a worker of its own, and two `bridgehub
worker` processes. A worker is killed with SIGKILL in the middle of a 20,000-contact sync:
the other takes the run over and it ends with every contact once. Actions run, the
readiness probe follows the database, and SIGTERM stops every process in time."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from bridgehub.demo.helpdesk import HELPDESK, HelpdeskBridge
from bridgehub.demo.helpdesk_seed import seed
from bridgehub.demo.helpdesk_store import HelpdeskDatabase
from bridgehub.demo.serving import serve
from tests.executions.test_executions import ACTION, TICKET
from tests.faults.served_hub import connected_account, health, sync_run, wait_for
from tests.helpdesk_fixtures import Helpdesk, PageControl
from tests.metric_samples import Samples
from tests.processes import STOP_BUDGET, seconds_to_stop
from tests.production.shape import Deployment, Worker, deployed
from tests.standalone_postgres import StandaloneServer

CONTACTS = 20_000
PAGE_SIZE = 500
ACTIONS = 10
FAMILIES = {
    "bridgehub_http_requests",
    "bridgehub_http_request_duration_seconds",
    "bridgehub_bridge_calls",
    "bridgehub_bridge_call_duration_seconds",
    "bridgehub_sync_runs",
    "bridgehub_sync_records",
    "bridgehub_sync_run_duration_seconds",
    "bridgehub_executions",
    "bridgehub_execution_attempts",
    "bridgehub_queue_jobs",
    "bridgehub_job_start_delay_seconds",
}
"""Families this test makes samples of: in multiprocess mode a family appears with its first
sample (token refreshes need OAuth 2.0: tests/executions/test_refresh_on_401.py)."""
SYNC_REQUEST = {"method": "POST", "route": "/v1/activations/{activation_id}/sync", "status": "202"}
TAKEN_OVER_WITHIN = 60.0
"""Seconds for the surviving worker to resume a killed worker's sync: its heartbeat is
found stale after 20 s, requeued at the next ten-second tick, and polled for within 5 s."""


@pytest.fixture(scope="module")
def large_helpdesk() -> Iterator[Helpdesk]:
    database = HelpdeskDatabase()
    seed(database, count_contacts=CONTACTS, count_agents=5, interactions_per_contact=0)
    bridge = HelpdeskBridge(database, token_is_valid=lambda _: False, page_size=PAGE_SIZE)
    control = PageControl(bridge.app, delay=0.2)  # the kill lands mid-run
    with serve(control) as url:
        yield Helpdesk(database, bridge, control, url)


def test_api_processes_and_workers_on_one_standalone_postgresql(
    tmp_path: Path, standalone_postgres: StandaloneServer, large_helpdesk: Helpdesk
) -> None:
    with (
        deployed(tmp_path, standalone_postgres, api_processes=2, workers=2) as deployment,
        connected_account(deployment.hub_url, large_helpdesk) as (account, activation_id),
    ):
        run_id = _sync_through_a_worker_kill(deployment, account, activation_id)
        _assert_every_contact_once(standalone_postgres)
        survivor = next(w for w in deployment.workers if w.process.poll() is None)
        _assert_the_job_s_lines_name_the_run(survivor, run_id)
        _run_actions(account)
        _assert_the_metrics_tell_what_happened(deployment.hub_url, survivor)
        _readiness_follows_the_database(deployment.hub_url, standalone_postgres)
        assert "Starting job" not in deployment.serve_log.read_text(), "API-only serve ran a job"
        for process in (deployment.serve, survivor.process):
            took = seconds_to_stop(process)
            print(f"stopped {took:.1f} s after SIGTERM (budget {STOP_BUDGET:g} s)")


def _sync_through_a_worker_kill(
    deployment: Deployment, account: httpx.Client, activation_id: str
) -> str:
    started = account.post(f"/v1/activations/{activation_id}/sync", json={})
    assert started.status_code == 202, started.text
    run_id: str = started.json()["run_id"]
    wait_for(lambda: sync_run(account, run_id)["pages"] >= 3, "three pages written", 60)
    holder = _worker_running(deployment, "contacts.sync")
    holder.process.kill()
    holder.process.wait()
    killed_at = time.monotonic()
    pages_at_kill = sync_run(account, run_id)["pages"]
    assert pages_at_kill < CONTACTS // PAGE_SIZE, "the run ended before the kill"

    wait_for(
        lambda: sync_run(account, run_id)["pages"] > pages_at_kill,
        "the other worker to take the run over",
        TAKEN_OVER_WITHIN,
    )
    print(f"the run went on {time.monotonic() - killed_at:.1f} s after its worker was killed")
    wait_for(lambda: sync_run(account, run_id)["status"] != "running", "the run to end", 60)
    finished = sync_run(account, run_id)
    assert finished["status"] == "succeeded", finished
    assert finished["pages"] == CONTACTS // PAGE_SIZE
    assert finished["created"] == CONTACTS
    return run_id


def _worker_running(deployment: Deployment, task: str) -> Worker:
    """The worker that started a job of `task` (it says so in its log)."""
    wait_for(
        lambda: any(w.mentions(f"Starting job {task}") for w in deployment.workers),
        f"a worker to start {task}",
        30,
    )
    return next(w for w in deployment.workers if w.mentions(f"Starting job {task}"))


def _assert_every_contact_once(database: StandaloneServer) -> None:
    with psycopg.connect(database.url) as connection:
        counted = connection.execute(
            "SELECT count(*), count(DISTINCT external_id) FROM contacts"
        ).fetchone()
    assert counted == (CONTACTS, CONTACTS)


def _assert_the_job_s_lines_name_the_run(worker: Worker, run_id: str) -> None:
    job_lines = [line for line in worker.lines() if line.get("task") == "contacts.sync"]
    assert job_lines, "the worker logged nothing while it ran the sync"
    assert {line.get("run_id") for line in job_lines} == {run_id}
    assert all("job_id" in line for line in job_lines)


def _run_actions(account: httpx.Client) -> None:
    ids = [
        account.post("/v1/executions", json={"action": ACTION, "data": TICKET}).json()["id"]
        for _ in range(ACTIONS)
    ]

    def statuses() -> list[str]:
        return [account.get(f"/v1/executions/{each}").json()["status"] for each in ids]

    wait_for(lambda: "queued" not in statuses() and "running" not in statuses(), "actions", 60)
    assert statuses() == ["succeeded"] * ACTIONS


def _assert_the_metrics_tell_what_happened(hub_url: str, worker: Worker) -> None:
    """The API processes' /metrics (requests, the queue) and the worker's (its bridge calls,
    syncs, executions, jobs) hold every family, with what this test did counted."""
    api = Samples.parse(httpx.get(f"{hub_url}/metrics").text)
    jobs = Samples.parse(httpx.get(f"{worker.metrics_url}/metrics").text)
    assert api.families | jobs.families >= FAMILIES, FAMILIES - (api.families | jobs.families)
    assert api.value("bridgehub_http_requests_total", **SYNC_REQUEST) == 1
    assert api.label_values("bridgehub_queue_jobs", "queue") >= {"sync", "actions"}
    helpdesk = {"integration": HELPDESK}
    assert (
        jobs.value("bridgehub_sync_runs_total", **helpdesk, kind="contacts", outcome="succeeded")
        == 1
    )
    assert (
        jobs.value("bridgehub_sync_records_total", **helpdesk, kind="contacts", result="created")
        == CONTACTS
    )
    assert jobs.value("bridgehub_executions_total", **helpdesk, status="succeeded") == ACTIONS
    assert (
        jobs.value("bridgehub_bridge_calls_total", **helpdesk, endpoint="contacts", outcome="ok")
        > 0
    )


def _readiness_follows_the_database(hub_url: str, database: StandaloneServer) -> None:
    assert health(hub_url, "/health/ready") == (200, None)
    database.stop()
    try:
        assert health(hub_url, "/health/ready") == (503, "database_unavailable")
        assert health(hub_url, "/health/live") == (200, None)
    finally:
        database.start()
    wait_for(lambda: health(hub_url, "/health/ready")[0] == 200, "ready again", 30)
