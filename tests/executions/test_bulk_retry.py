"""Retrying every failed or held execution a filter matches, against the demo helpdesk bridge:
exactly the matching ones of the calling account are queued again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bridgehub.executions import service
from tests.conftest import HubSql, Tenant, as_account, create_account
from tests.executions.test_executions import ACTION, ENDPOINT, execute
from tests.helpdesk_fixtures import Helpdesk, RunJobs
from tests.integrations.test_catalog_api import assert_error

pytestmark = pytest.mark.usefixtures("connected")


async def failed(tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk) -> str:
    """An execution the bridge refused at once."""
    helpdesk.bridge.fail_next(ENDPOINT, 1, 400)
    execution = await execute(tenant, run_jobs)
    assert execution["status"] == "failed"
    return str(execution["id"])


async def statuses(tenant: Tenant, *ids: str) -> list[str]:
    return [(await tenant.client.get(f"/v1/executions/{i}")).json()["status"] for i in ids]


async def retry(tenant: Tenant, **filters: Any) -> int:
    response = await tenant.client.post("/v1/executions/retry", json=filters)
    assert response.status_code == 202, response.text
    retried: int = response.json()["retried"]
    return retried


async def test_every_failed_execution_of_the_account_is_retried_and_others_left(
    client: httpx.AsyncClient, tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    first = await failed(tenant, run_jobs, helpdesk)
    second = await failed(tenant, run_jobs, helpdesk)
    succeeded = (await execute(tenant, run_jobs))["id"]
    _, key = await create_account(client, "Globex")
    other = await client.post("/v1/executions/retry", json={}, headers=as_account(key))
    assert other.json() == {"retried": 0}
    assert await statuses(tenant, first, second) == ["failed", "failed"]

    assert await retry(tenant) == 2
    assert await statuses(tenant, first, second, succeeded) == ["queued", "queued", "succeeded"]
    await run_jobs()
    assert await statuses(tenant, first, second) == ["succeeded", "succeeded"]
    assert await retry(tenant) == 0


async def test_each_filter_narrows_the_retry(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk, hub_sql: HubSql
) -> None:
    old = await failed(tenant, run_jobs, helpdesk)
    recent = await failed(tenant, run_jobs, helpdesk)
    await hub_sql(
        f"UPDATE executions SET created_at = now() - interval '2 days' WHERE id = '{old}'"  # noqa: S608
    )
    assert await retry(tenant, action="demo-crm/log_call") == 0
    assert await retry(tenant, status="held") == 0
    assert await retry(tenant, since="2000-01-01T00:00:00Z", status="held") == 0
    assert await statuses(tenant, old, recent) == ["failed", "failed"]

    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    assert await retry(tenant, since=since, integration="demo-helpdesk") == 1
    assert await statuses(tenant, old, recent) == ["failed", "queued"]
    assert await retry(tenant, status="failed", action="demo-helpdesk/create_ticket") == 1
    assert await statuses(tenant, old, recent) == ["queued", "queued"]


async def test_held_executions_are_retried_and_held_again_while_credentials_fail(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    helpdesk.bridge.fail_next(ENDPOINT, 1, 401)
    held = (await execute(tenant, run_jobs))["id"]
    assert await statuses(tenant, held) == ["held"]
    assert await retry(tenant, status="held") == 1
    await run_jobs()
    assert await statuses(tenant, held) == ["held"]


@pytest.mark.parametrize(
    ("filters", "paths"),
    [
        ({"status": "succeeded"}, ["status"]),
        ({"integration": "demo-crm"}, ["integration"]),
        ({"colour": "red"}, ["colour"]),
        ({"since": "yesterday"}, ["since"]),
    ],
)
async def test_invalid_filters_are_refused_with_their_paths(
    tenant: Tenant, filters: dict[str, str], paths: list[str]
) -> None:
    response = await tenant.client.post("/v1/executions/retry", json=filters)
    error = assert_error(response, 422, response.json()["error"]["code"])
    assert [detail["path"] for detail in error["details"]] == paths


async def test_the_list_with_the_same_filters_names_the_executions_a_retry_queues(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    refused = await failed(tenant, run_jobs, helpdesk)
    await execute(tenant, run_jobs)
    filters = {"status": "failed", "integration": "demo-helpdesk", "action": ACTION}
    listed = (await tenant.client.get("/v1/executions", params=filters)).json()["items"]
    assert [e["id"] for e in listed] == [refused]
    assert await retry(tenant, **filters) == 1
    assert (await tenant.client.get("/v1/executions", params=filters)).json() == {"items": []}
    unknown = await tenant.client.get("/v1/executions", params={"integration": "demo-crm"})
    assert [d["path"] for d in assert_error(unknown, 422, "invalid_request")["details"]] == [
        "integration"
    ]


async def test_more_matching_executions_than_one_retry_takes_are_refused_as_a_whole(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "MAX_BULK_RETRY", 1)
    ids = [await failed(tenant, run_jobs, helpdesk) for _ in range(2)]
    refused = await tenant.client.post("/v1/executions/retry", json={})
    assert "2 executions match" in assert_error(refused, 409, "conflict")["message"]
    assert await statuses(tenant, *ids) == ["failed", "failed"]
