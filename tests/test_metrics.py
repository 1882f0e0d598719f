"""GET /metrics: what the hub counts as requests, bridge calls, syncs and executions happen,
the queue read at each scrape, and the token that may guard it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from bridgehub.app import create_app
from bridgehub.kit.redaction import REDACTED, known_secrets
from bridgehub.metrics import MULTIPROCESS_VARIABLE, start_metrics_server
from bridgehub.settings import Settings
from tests.conftest import HUB_URL, NewDatabase, Tenant
from tests.executions.test_executions import ENDPOINT, execute
from tests.faults.served_hub import HUB_SETTINGS, connected_account, sync_run, wait_for
from tests.helpdesk_fixtures import PAGE_SIZE, Helpdesk, RunJobs, SyncNow
from tests.metric_samples import Samples, scrape
from tests.processes import free_port, running_hub, running_worker

HELPDESK = "demo-helpdesk"
DASHBOARD = Path(__file__).resolve().parents[1] / "docs" / "grafana-dashboard.json"


async def test_requests_are_counted_by_route_template_never_by_path(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    before = await scrape(client)
    missing = uuid.uuid4()
    assert (await tenant.client.get(f"/v1/activations/{missing}")).status_code == 404
    assert (await client.get(f"/no/such/{missing}")).status_code == 404
    after = await scrape(client)

    route = {"method": "GET", "route": "/v1/activations/{activation_id}"}
    assert _delta(before, after, "bridgehub_http_requests_total", **route, status="404") == 1
    assert _delta(before, after, "bridgehub_http_request_duration_seconds_count", **route) == 1
    unmatched = {"method": "GET", "route": "unmatched", "status": "404"}
    assert _delta(before, after, "bridgehub_http_requests_total", **unmatched) == 1
    # The scrape before counted itself under its own single route.
    metrics_route = {"method": "GET", "route": "/metrics", "status": "200"}
    assert _delta(before, after, "bridgehub_http_requests_total", **metrics_route) == 1
    assert str(missing) not in after.text


async def test_a_sync_counts_its_run_records_bridge_calls_and_job_delay(
    client: httpx.AsyncClient, connected: str, sync_now: SyncNow, helpdesk: Helpdesk
) -> None:
    before = await scrape(client)
    run = await sync_now(connected)
    after = await scrape(client)

    assert run["status"] == "succeeded", run
    labels = {"integration": HELPDESK, "kind": "contacts"}
    assert _delta(before, after, "bridgehub_sync_runs_total", **labels, outcome="succeeded") == 1
    assert _delta(before, after, "bridgehub_sync_run_duration_seconds_count", **labels) == 1
    records = "bridgehub_sync_records_total"
    assert _delta(before, after, records, **labels, result="created") == run["created"]
    assert run["created"] == len(helpdesk.database.contacts()) > 0
    assert _delta(before, after, records, **labels, result="updated") == 0
    assert (records, frozenset({**labels, "result": "deleted"}.items())) in after.values
    pages = {"integration": HELPDESK, "endpoint": "contacts"}
    assert (
        _delta(before, after, "bridgehub_bridge_calls_total", **pages, outcome="ok")
        == (run["pages"])
    )
    assert run["pages"] >= len(helpdesk.database.contacts()) // PAGE_SIZE
    assert (
        _delta(before, after, "bridgehub_bridge_call_duration_seconds_count", **pages)
        == (run["pages"])
    )
    assert _delta(before, after, "bridgehub_job_start_delay_seconds_count", queue="sync") == 1


async def test_a_failed_sync_counts_as_failed_with_the_bridge_s_unavailability(
    client: httpx.AsyncClient, connected: str, sync_now: SyncNow, helpdesk: Helpdesk
) -> None:
    helpdesk.control.failing_from = 1
    before = await scrape(client)
    run = await sync_now(connected)
    after = await scrape(client)

    assert run["status"] == "failed", run
    labels = {"integration": HELPDESK, "kind": "contacts"}
    assert _delta(before, after, "bridgehub_sync_runs_total", **labels, outcome="failed") == 1
    assert _delta(before, after, "bridgehub_sync_runs_total", **labels, outcome="succeeded") == 0
    calls = {"integration": HELPDESK, "endpoint": "contacts"}
    assert (
        _delta(before, after, "bridgehub_bridge_calls_total", **calls, outcome="unavailable") == 1
    )


@pytest.mark.usefixtures("connected")
async def test_an_execution_counts_its_status_attempts_and_each_bridge_call(
    client: httpx.AsyncClient, tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    helpdesk.bridge.fail_next(ENDPOINT, 1, 503)
    before = await scrape(client)
    execution = await execute(tenant, run_jobs)
    after = await scrape(client)

    assert execution["status"] == "succeeded", execution
    assert execution["attempts"] == 2
    done = {"integration": HELPDESK, "status": "succeeded"}
    assert _delta(before, after, "bridgehub_executions_total", **done) == 1
    assert _delta(before, after, "bridgehub_execution_attempts_count", **done) == 1
    assert _delta(before, after, "bridgehub_execution_attempts_sum", **done) == 2
    action = {"integration": HELPDESK, "endpoint": "action"}
    assert _delta(before, after, "bridgehub_bridge_calls_total", **action, outcome="ok") == 1
    assert (
        _delta(before, after, "bridgehub_bridge_calls_total", **action, outcome="unavailable") == 1
    )
    # The first attempt's job and the retry's.
    assert _delta(before, after, "bridgehub_job_start_delay_seconds_count", queue="actions") == 2


async def test_a_refused_validation_is_counted_as_such(
    client: httpx.AsyncClient, tenant: Tenant, helpdesk: Helpdesk, connected: str
) -> None:
    before = await scrape(client)
    checked = await tenant.client.post(f"/v1/activations/{connected}/check")
    helpdesk.bridge.fail_next("/helpdesk/auth_validation", 1, 401)
    refused = await tenant.client.post(f"/v1/activations/{connected}/check")
    after = await scrape(client)

    assert (checked.status_code, refused.status_code) == (200, 422)
    validation = {"integration": HELPDESK, "endpoint": "auth_validation"}
    calls = "bridgehub_bridge_calls_total"
    assert _delta(before, after, calls, **validation, outcome="ok") == 1
    assert _delta(before, after, calls, **validation, outcome="credentials_rejected") == 1


@pytest.mark.usefixtures("empty_queue")
async def test_the_queue_s_depth_is_read_at_each_scrape(
    client: httpx.AsyncClient, tenant: Tenant, connected: str, run_jobs: RunJobs
) -> None:
    before = await scrape(client)
    asked = await tenant.client.post(f"/v1/activations/{connected}/sync", json={"what": "agents"})
    assert asked.status_code == 202, asked.text
    queued = await scrape(client)
    await run_jobs()
    drained = await scrape(client)

    sync_todo = {"queue": "sync", "status": "todo"}
    assert queued.value("bridgehub_queue_jobs", **sync_todo) == (
        before.value("bridgehub_queue_jobs", **sync_todo) + 1
    )
    assert drained.value("bridgehub_queue_jobs", **sync_todo) == 0
    # An empty queue still shows, at 0.
    assert ("bridgehub_queue_jobs", frozenset({"queue": "actions", "status": "doing"}.items())) in (
        drained.values
    )


async def test_a_metrics_token_is_asked_for_and_kept_out_of_logs(
    settings: Settings, database_url: str
) -> None:
    token = f"metrics-{uuid.uuid4().hex}"
    guarded = create_app(
        settings.model_copy(update={"metrics_token": SecretStr(token)}), database=database_url
    )
    assert known_secrets.scrub(f"the token is {token}") == f"the token is {REDACTED}"
    async with (
        guarded.router.lifespan_context(guarded),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url=HUB_URL) as http,
    ):
        for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": token}):
            refused = await http.get("/metrics", headers=headers)
            assert refused.status_code == 401
            assert refused.headers["WWW-Authenticate"] == "Bearer"
            assert refused.json()["error"]["code"] == "unauthorized"
        allowed = await http.get("/metrics", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200
        assert "bridgehub_queue_jobs" in Samples.parse(allowed.text).names()


async def test_the_dashboard_reads_only_families_the_hub_answers(
    client: httpx.AsyncClient,
) -> None:
    answered = (await scrape(client)).families
    dashboard = json.loads(DASHBOARD.read_text())
    expressions = [
        target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])
    ]
    assert expressions
    for expression in expressions:
        named = set(re.findall(r"\bbridgehub_\w+", expression))
        assert named, expression
        # A counter's samples end in _total, a histogram's in _bucket, _sum and _count.
        assert {re.sub(r"_(total|bucket|sum|count)$", "", n) for n in named} <= answered, expression


def _delta(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return after.value(name, **labels) - before.value(name, **labels)


def test_serve_s_processes_and_a_worker_report_together_from_one_metrics_folder(
    tmp_path: Path, new_database: NewDatabase, helpdesk: Helpdesk
) -> None:
    metrics_folder = tmp_path / "metrics"
    _leave_stale_counts(metrics_folder)
    settings = {
        **HUB_SETTINGS,
        "DATABASE_URL": new_database(f"metrics_{uuid.uuid4().hex[:8]}"),
        "BRIDGEHUB_METRICS_DIR": str(metrics_folder),
        "BRIDGEHUB_WORKERS": "0",  # every job is the worker's
    }
    hub_url = f"http://127.0.0.1:{free_port()}"
    worker_url = f"http://127.0.0.1:{free_port()}"
    with (
        (tmp_path / "serve.log").open("w") as serve_log,
        running_hub(
            tmp_path, int(hub_url.rsplit(":", 1)[1]), settings, serve_log, ["--processes", "2"]
        ),
        running_worker(
            tmp_path,
            settings,
            arguments=["--metrics-port", worker_url.rsplit(":", 1)[1]],
        ) as worker,
    ):
        wait_for(lambda: _answers(f"{worker_url}/metrics"), "the worker's /metrics", 30)
        liveness_checks = _until_both_api_processes_counted(hub_url, metrics_folder, worker.pid)
        with connected_account(hub_url, helpdesk) as (account, activation_id):
            asked = account.post(f"/v1/activations/{activation_id}/sync", json={"what": "contacts"})
            assert asked.status_code == 202, asked.text
            run_id = asked.json()["run_id"]

            def finished() -> bool:
                return bool(sync_run(account, run_id)["status"] == "succeeded")

            wait_for(finished, "the worker to finish the sync", 60)
            pages = sync_run(account, run_id)["pages"]
        from_hub = Samples.parse(httpx.get(f"{hub_url}/metrics", timeout=10).text)
        from_worker = Samples.parse(httpx.get(f"{worker_url}/metrics", timeout=10).text)

    contact_pages = {"integration": HELPDESK, "endpoint": "contacts", "outcome": "ok"}
    validation = {"integration": HELPDESK, "endpoint": "auth_validation", "outcome": "ok"}
    run = {"integration": HELPDESK, "kind": "contacts", "outcome": "succeeded"}
    live = {"method": "GET", "route": "/health/live", "status": "200"}
    for seen in (from_hub, from_worker):
        # Both API processes' requests, the worker's bridge calls and run, an API process's
        # validation: every process counted, each once.
        assert seen.value("bridgehub_http_requests_total", **live) == liveness_checks
        assert seen.value("bridgehub_bridge_calls_total", **contact_pages) == pages > 0
        assert seen.value("bridgehub_bridge_calls_total", **validation) == 1
        assert seen.value("bridgehub_sync_runs_total", **run) == 1
        # Answered before the worker started: a worker starting beside them keeps them.
        health = {"method": "GET", "route": "/health", "status": "200"}
        assert seen.value("bridgehub_http_requests_total", **health) >= 1
        assert "/stale" not in seen.label_values("bridgehub_http_requests_total", "route")
    assert from_hub.value("bridgehub_queue_jobs", queue="sync", status="doing") == 0


def _until_both_api_processes_counted(hub_url: str, folder: Path, worker_pid: int) -> int:
    """Ask /health/live until two processes besides the worker have counted a request (the
    kernel hands each connection to either API process); answers how many were asked."""
    asked = 0
    while len(_processes_with_counts(folder) - {worker_pid}) < 2:
        assert asked < 500, "one API process answered every request"
        assert httpx.get(f"{hub_url}/health/live", timeout=10).status_code == 200
        asked += 1
    return asked


def _processes_with_counts(folder: Path) -> set[int]:
    return {int(file.stem.rsplit("_", 1)[1]) for file in folder.glob("counter_*.db")}


def _leave_stale_counts(folder: Path) -> None:
    """Files a process that has ended left in the folder, as an earlier run of the hub's."""
    folder.mkdir()
    subprocess.run(
        [
            sys.executable,
            "-c",
            "from bridgehub import metrics\n"
            "metrics.http_requests.labels('GET', '/stale', '200').inc(1000)",
        ],
        env={**os.environ, MULTIPROCESS_VARIABLE: str(folder)},
        check=True,
    )
    assert list(folder.glob("counter_*.db"))


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.TransportError:
        return False


def test_a_worker_s_own_metrics_port_asks_for_the_token_too() -> None:
    token = f"metrics-{uuid.uuid4().hex}"
    port = free_port()
    server = start_metrics_server("127.0.0.1", port, SecretStr(token))
    assert known_secrets.scrub(token) == REDACTED
    try:
        url = f"http://127.0.0.1:{port}"
        refused = httpx.get(f"{url}/metrics", headers={"Authorization": "Bearer wrong"})
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"] == "Bearer"
        assert refused.json()["error"]["code"] == "unauthorized"
        allowed = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {token}"})
        assert allowed.status_code == 200
        assert "bridgehub_bridge_calls" in Samples.parse(allowed.text).families
        elsewhere = httpx.get(f"{url}/", headers={"Authorization": f"Bearer {token}"})
        assert elsewhere.status_code == 404
    finally:
        server.shutdown()
        server.server_close()
