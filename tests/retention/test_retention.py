"""The retention purge against real rows: executions (with their attempts), events and sync
runs past their retention are deleted, batch by batch, while recent ones and unfinished
ones, however old, are kept."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from typing import Any

import httpx
from fastapi import FastAPI
from procrastinate.exceptions import AlreadyEnqueued
from sqlalchemy import Delete, Table, event
from sqlalchemy.orm import ORMExecuteState, Session

from bridgehub.queue import MAINTENANCE_QUEUE, PURGE_EXPIRED
from bridgehub.retention.service import purge_expired
from bridgehub.worker import work
from tests.conftest import HubSql, TableRows, Tenant
from tests.executions.test_executions import execute
from tests.helpdesk_fixtures import RunJobs, SyncNow
from tests.metric_samples import scrape
from tests.webhooks.receiver import Receiver, subscribe

PURGED = "bridgehub_retention_purged_rows_total"
RETENTION_DAYS = 90
# Every time of a row put past the retention (91 days back), so that only its status can
# save it.
_LONG_AGO = "now() - interval '91 days'"


async def test_expired_history_is_purged_and_the_rest_kept(
    hub: FastAPI,
    client: httpx.AsyncClient,
    tenant: Tenant,
    connected: str,
    sync_now: SyncNow,
    run_jobs: RunJobs,
    hub_sql: HubSql,
    database_rows: TableRows,
    captured_logs: StringIO,
    receiver: Receiver,
) -> None:
    await subscribe(tenant, receiver.url, "sync.succeeded")
    old_execution, recent_execution = [(await execute(tenant, run_jobs))["id"] for _ in range(2)]
    old_run, recent_run = [(await sync_now(connected))["id"] for _ in range(2)]
    for external_id in ("evt-old", "evt-recent"):
        await _post_event(tenant, external_id)
    # Unfinished, yet as old as the expired rows: a queued and a held execution, a queued run.
    queued_execution, held_execution = [await _queue_execution(tenant) for _ in range(2)]
    await hub_sql(f"UPDATE executions SET status = 'held' WHERE id = '{held_execution}'")  # noqa: S608
    queued_run = await _queue_sync(tenant, connected)
    await _age(hub_sql, "executions", old_execution, queued_execution, held_execution)
    await _age(hub_sql, "sync_runs", old_run, queued_run)
    await hub_sql(f"UPDATE events SET received_at = {_LONG_AGO} WHERE external_id = 'evt-old'")  # noqa: S608
    await hub_sql(
        f"UPDATE outbox_events SET occurred_at = {_LONG_AGO} "  # noqa: S608
        f"WHERE data->>'sync_run_id' = '{old_run}'"
    )
    before = await scrape(client)

    await _run_the_purge_job(hub)

    assert _ids(await database_rows("executions")) == {
        recent_execution,
        queued_execution,
        held_execution,
    }
    assert {row["execution_id"] for row in await database_rows("execution_attempts")} == {
        recent_execution
    }
    # (The scheduler's tick, run by the same worker, may have queued an agents sync.)
    runs = _ids(await database_rows("sync_runs"))
    assert old_run not in runs
    assert {recent_run, queued_run} <= runs
    events = await database_rows("events")
    assert {row["external_id"] for row in events} == {"evt-recent"}
    told_runs = {row["data"].get("sync_run_id") for row in await database_rows("outbox_events")}
    assert old_run not in told_runs
    assert recent_run in told_runs
    after = await scrape(client)
    for table in ("executions", "sync_runs", "events"):
        assert after.value(PURGED, table=table) - before.value(PURGED, table=table) == 1
    [logged] = [
        line for line in _log_lines(captured_logs) if line["event"] == "purged expired rows"
    ]
    assert (logged["executions"], logged["sync_runs"], logged["events"]) == (1, 1, 1)


async def test_a_purge_deletes_a_batch_per_transaction_until_none_is_left(
    hub: FastAPI, tenant: Tenant, hub_sql: HubSql, database_rows: TableRows
) -> None:
    for number in range(8):
        await _post_event(tenant, f"evt-{number}")
    await hub_sql(f"UPDATE events SET received_at = {_LONG_AGO} WHERE external_id <> 'evt-7'")  # noqa: S608
    with _deletes() as deletes:
        purged = await purge_expired(hub.state.runtime.sessionmaker, RETENTION_DAYS, batch_size=3)
    assert purged == {"executions": 0, "events": 7, "outbox_events": 0, "sync_runs": 0}
    # Three batches of events (3, 3, 1), one empty look at each other table.
    assert deletes == Counter(executions=1, events=3, outbox_events=1, sync_runs=1)
    assert [row["external_id"] for row in await database_rows("events")] == ["evt-7"]


async def test_rows_are_kept_as_many_days_as_the_setting_says(
    hub: FastAPI, tenant: Tenant, hub_sql: HubSql, database_rows: TableRows
) -> None:
    await _post_event(tenant, "evt-ten-days-old")
    await hub_sql("UPDATE events SET received_at = now() - interval '10 days'")
    sessionmaker = hub.state.runtime.sessionmaker
    assert (await purge_expired(sessionmaker, RETENTION_DAYS))["events"] == 0
    assert len(await database_rows("events")) == 1
    assert (await purge_expired(sessionmaker, 7))["events"] == 1
    assert await database_rows("events") == []


async def _post_event(tenant: Tenant, external_id: str) -> None:
    call = {"from": "+15555550111", "to": "+15555550100"}
    event_body = {"id": external_id, "type": "call.missed", "call": call}
    assert (await tenant.client.post("/v1/events", json=event_body)).status_code == 202


async def _queue_execution(tenant: Tenant) -> str:
    body = {"action": "demo-helpdesk/create_ticket", "data": {"subject": "s", "description": "d"}}
    queued = await tenant.client.post("/v1/executions", json=body)
    assert queued.status_code == 202, queued.text
    execution_id: str = queued.json()["id"]
    return execution_id


async def _queue_sync(tenant: Tenant, activation_id: str) -> str:
    started = await tenant.client.post(
        f"/v1/activations/{activation_id}/sync", json={"what": "contacts"}
    )
    assert started.status_code == 202, started.text
    run_id: str = started.json()["run_id"]
    return run_id


async def _age(hub_sql: HubSql, table: str, *ids: str) -> None:
    """Put every time of these rows past the retention (`finished_at` of unfinished ones too:
    their status alone must keep them)."""
    listed = ", ".join(f"'{row_id}'" for row_id in ids)
    await hub_sql(
        f"UPDATE {table} SET created_at = {_LONG_AGO}, finished_at = {_LONG_AGO} "  # noqa: S608
        f"WHERE id IN ({listed})"
    )


async def _run_the_purge_job(hub: FastAPI) -> None:
    """Queue the periodic job now, as its hourly tick does, and run the maintenance queue
    with a real worker. The scheduler of an earlier worker may have queued the last tick
    already: a job is queued once at a time."""
    runtime = hub.state.runtime
    with contextlib.suppress(AlreadyEnqueued):
        await runtime.queue.configure_task(PURGE_EXPIRED).defer_async(timestamp=0)
    await work(
        runtime,
        concurrency=1,
        name="tests",
        wait=False,
        install_signal_handlers=False,
        queues=[MAINTENANCE_QUEUE],
    )


def _ids(rows: list[dict[str, Any]]) -> set[str]:
    return {row["id"] for row in rows}


def _log_lines(captured: StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.getvalue().splitlines() if line.startswith("{")]


@contextlib.contextmanager
def _deletes() -> Iterator[Counter[str]]:
    """How many DELETE statements each table received while the block ran."""
    counted: Counter[str] = Counter()

    def on_execute(state: ORMExecuteState) -> None:
        statement = state.statement
        if isinstance(statement, Delete) and isinstance(statement.table, Table):
            counted[statement.table.name] += 1

    event.listen(Session, "do_orm_execute", on_execute)
    try:
        yield counted
    finally:
        event.remove(Session, "do_orm_execute", on_execute)
