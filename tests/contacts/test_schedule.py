"""Periodic synchronization: contacts every `sync_interval_minutes`, agents daily, never a
second run while one is unfinished."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI

from bridgehub.syncs.service import sync_service
from tests.conftest import HubSql, Tenant
from tests.helpdesk_fixtures import Helpdesk, RunJobs, connect_helpdesk


async def schedule(hub: FastAPI) -> list[str]:
    async with hub.state.runtime.sessionmaker() as session:
        runs = await sync_service.schedule_due(session)
        await session.commit()
        return sorted(run.kind for run in runs)


@pytest.mark.usefixtures("connected")
async def test_due_activations_are_synced_on_schedule(
    hub: FastAPI, tenant: Tenant, run_jobs: RunJobs, hub_sql: HubSql
) -> None:
    assert await schedule(hub) == ["agents", "contacts"]
    # Queued runs are not queued again.
    assert await schedule(hub) == []
    await run_jobs()
    runs = (await tenant.client.get("/v1/sync-runs")).json()["items"]
    assert sorted((r["what"], r["status"], r["trigger"]) for r in runs) == [
        ("agents", "succeeded", "schedule"),
        ("contacts", "succeeded", "schedule"),
    ]
    # Nothing is due right after a run...
    assert await schedule(hub) == []
    # ...contacts are once their interval has passed, agents only daily.
    await hub_sql("UPDATE sync_runs SET created_at = created_at - interval '16 minutes'")
    assert await schedule(hub) == ["contacts"]


async def test_disabled_activations_are_not_scheduled(
    hub: FastAPI, tenant: Tenant, connected: str
) -> None:
    await tenant.client.patch(f"/v1/activations/{connected}", json={"status": "disabled"})
    assert await schedule(hub) == []


async def test_a_new_activation_syncs_contacts_and_agents_at_once(
    hub: FastAPI, client: httpx.AsyncClient, tenant: Tenant, helpdesk: Helpdesk, run_jobs: RunJobs
) -> None:
    await connect_helpdesk(client, tenant, helpdesk)
    # Queued with the activation: no scheduler tick is needed.
    await run_jobs()
    runs = (await tenant.client.get("/v1/sync-runs")).json()["items"]
    assert sorted((r["what"], r["status"], r["trigger"]) for r in runs) == [
        ("agents", "succeeded", "activation"),
        ("contacts", "succeeded", "activation"),
    ]
    assert await schedule(hub) == []


async def test_a_first_sync_late_behind_the_schedule_adds_no_run(
    hub: FastAPI, tenant: Tenant, connected: str, run_jobs: RunJobs
) -> None:
    # The minute's tick saw the activation first, and its runs ended before the
    # activation's own job was taken (a busy queue): that job has nothing left to do.
    assert await schedule(hub) == ["agents", "contacts"]
    await run_jobs()
    async with hub.state.runtime.sessionmaker() as session:
        assert await sync_service.first_syncs(session, uuid.UUID(connected), None) == []
    runs = (await tenant.client.get("/v1/sync-runs")).json()["items"]
    assert sorted(r["trigger"] for r in runs) == ["schedule", "schedule"]
