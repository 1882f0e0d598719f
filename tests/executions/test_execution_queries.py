"""What the activity pages and the dashboard ask of executions: filtered pages, and counts
per activation and status, and per hour."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from bridgehub.accounts.auth import Account
from bridgehub.executions.models import ExecutionStatus
from bridgehub.executions.service import ExecutionFilter, HourlyCount, execution_service
from tests.conftest import HubSql, Tenant, create_account
from tests.executions.test_executions import ACTION, ENDPOINT, execute
from tests.helpdesk_fixtures import Helpdesk, RunJobs

pytestmark = pytest.mark.usefixtures("connected")


@pytest.fixture
async def outcomes(tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk) -> list[str]:
    """Three executions, oldest first: succeeded, failed, succeeded."""
    first = await execute(tenant, run_jobs)
    helpdesk.bridge.fail_next(ENDPOINT, 1, 400)
    second = await execute(tenant, run_jobs)
    third = await execute(tenant, run_jobs)
    assert [e["status"] for e in (first, second, third)] == ["succeeded", "failed", "succeeded"]
    return [first["id"], second["id"], third["id"]]


async def search(hub: FastAPI, tenant: Tenant, criteria: ExecutionFilter, **page: int) -> list[str]:
    async with hub.state.runtime.sessionmaker() as session:
        found = await execution_service.search(
            session, Account(uuid.UUID(tenant.id)), criteria, **{"limit": 10, **page}
        )
        return [str(execution.id) for execution in found]


async def test_search_filters_and_pages_newest_first(
    hub: FastAPI, tenant: Tenant, connected: str, outcomes: list[str], hub_sql: HubSql
) -> None:
    first, second, third = outcomes
    assert await search(hub, tenant, ExecutionFilter()) == [third, second, first]
    assert await search(hub, tenant, ExecutionFilter(), limit=2) == [third, second]
    assert await search(hub, tenant, ExecutionFilter(), limit=2, offset=2) == [first]
    failed = ExecutionFilter(status=ExecutionStatus.FAILED)
    assert await search(hub, tenant, failed) == [second]
    ours = ExecutionFilter(activation_id=uuid.UUID(connected), action=ACTION)
    assert await search(hub, tenant, ours) == [third, second, first]
    assert await search(hub, tenant, ExecutionFilter(activation_id=uuid.uuid4())) == []
    assert await search(hub, tenant, ExecutionFilter(action="demo-crm/log_call")) == []
    await hub_sql(
        f"UPDATE executions SET created_at = now() - interval '2 days' WHERE id = '{first}'"  # noqa: S608
    )
    recent = ExecutionFilter(since=datetime.now(UTC) - timedelta(days=1))
    assert await search(hub, tenant, recent) == [third, second]


async def test_another_accounts_executions_are_never_found(
    hub: FastAPI, client: httpx.AsyncClient, outcomes: list[str]
) -> None:
    del outcomes
    other_id, _ = await create_account(client, "Elsewhere")
    async with hub.state.runtime.sessionmaker() as session:
        other = Account(uuid.UUID(other_id))
        since = datetime.now(UTC) - timedelta(days=1)
        assert await execution_service.search(session, other, ExecutionFilter(), limit=10) == []
        assert await execution_service.status_counts(session, other, since) == {}
        assert await execution_service.hourly_counts(session, other, since) == []


async def test_counts_per_activation_status_and_hour(
    hub: FastAPI, tenant: Tenant, connected: str, outcomes: list[str], hub_sql: HubSql
) -> None:
    this_hour = "date_trunc('hour', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'"
    for execution_id, created_at in zip(
        outcomes,
        ("now() - interval '2 days'", f"{this_hour} - interval '55 minutes'", this_hour),
        strict=True,
    ):
        await hub_sql(
            f"UPDATE executions SET created_at = {created_at} WHERE id = '{execution_id}'"  # noqa: S608
        )
    since = datetime.now(UTC) - timedelta(days=1)
    account = Account(uuid.UUID(tenant.id))
    async with hub.state.runtime.sessionmaker() as session:
        counts = await execution_service.status_counts(session, account, since)
        hourly = await execution_service.hourly_counts(session, account, since)
    assert counts == {
        uuid.UUID(connected): {ExecutionStatus.SUCCEEDED: 1, ExecutionStatus.FAILED: 1}
    }
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    assert hourly == [
        HourlyCount(hour - timedelta(hours=1), ExecutionStatus.FAILED, 1),
        HourlyCount(hour, ExecutionStatus.SUCCEEDED, 1),
    ]
