"""Tenancy: a second account gets nothing of the first one's data from any list, search or
lookup of the API, and is told its rows do not exist when it names them."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import Tenant, as_account, create_account
from tests.helpdesk_fixtures import RunJobs, SyncNow, all_contacts

# Every GET under /v1 without a path parameter, and what it answers another account.
TENANT_LISTS = {
    "/v1/activations",
    "/v1/agents",
    "/v1/automations",
    "/v1/contacts",
    "/v1/erasures",
    "/v1/executions",
    "/v1/lookup",
    "/v1/sync-runs",
    "/v1/webhooks",
}
# The catalog is the hub's, shared by every account; /v1/accounts answers the caller's own.
NOT_TENANT_DATA = {"/v1/integrations", "/v1/actions", "/v1/accounts"}


@pytest.fixture
async def busy(
    tenant: Tenant, connected: str, sync_now: SyncNow, run_jobs: RunJobs
) -> dict[str, Any]:
    """The first account with something in every list: contacts and agents synced, an
    automation, an execution it made, a webhook, and an erasure (of no one it has)."""
    await sync_now(connected)
    await sync_now(connected, "agents")
    contact = next(c for c in await all_contacts(tenant) if c["phones"] and c["emails"])
    automation = await tenant.client.post(
        "/v1/automations",
        json={
            "trigger": "call.missed",
            "action": "demo-helpdesk/create_ticket",
            "inputs": {
                "subject": "Missed call from {{contact.name}}",
                "description": "{{contact.name}} called.",
            },
        },
    )
    assert automation.status_code == 201, automation.text
    event = {
        "id": "evt-tenancy",
        "type": "call.missed",
        "call": {"from": contact["phones"][0], "to": "+15555550100"},
    }
    received = await tenant.client.post("/v1/events", json=event)
    assert received.status_code == 202, received.text
    await run_jobs()
    executions = (await tenant.client.get("/v1/executions")).json()["items"]
    runs = (await tenant.client.get("/v1/sync-runs")).json()["items"]
    agents = (await tenant.client.get("/v1/agents")).json()["items"]
    webhook = {"url": "http://127.0.0.1:9/hook", "events": ["contact.deleted"]}
    assert (await tenant.client.post("/v1/webhooks", json=webhook)).status_code == 201
    erasure = await tenant.client.post("/v1/erasures", json={"email": "nobody@example.com"})
    assert erasure.status_code == 201, erasure.text
    assert executions
    assert runs
    assert agents
    return {
        "activation": connected,
        "contact": contact,
        "agent": agents[0],
        "automation": automation.json()["id"],
        "execution": executions[0]["id"],
        "run": runs[0]["id"],
        "erasure": erasure.json()["id"],
    }


@pytest.fixture
async def stranger(client: httpx.AsyncClient) -> httpx.AsyncClient:
    _, key = await create_account(client, name="Stranger")
    client.headers.update(as_account(key))
    return client


def test_every_list_of_the_api_is_classified(hub: FastAPI) -> None:
    """A new list route must be added to TENANT_LISTS (and so to the checks below)."""
    lists = {
        path
        for path, operations in hub.openapi()["paths"].items()
        if path.startswith("/v1/") and "get" in operations and "{" not in path
    }
    assert lists == TENANT_LISTS | NOT_TENANT_DATA


async def test_a_second_account_lists_and_finds_nothing_of_the_first(
    busy: dict[str, Any], stranger: httpx.AsyncClient, tenant: Tenant
) -> None:
    contact = busy["contact"]
    searches = [
        ("/v1/activations", {}),
        ("/v1/agents", {}),
        ("/v1/agents", {"email": busy["agent"]["email"]}),
        ("/v1/automations", {}),
        ("/v1/contacts", {}),
        ("/v1/contacts", {"q": contact["name"].split()[0]}),
        ("/v1/contacts", {"email": contact["emails"][0]}),
        ("/v1/contacts", {"phone": contact["phones"][0]}),
        ("/v1/erasures", {}),
        ("/v1/executions", {}),
        ("/v1/lookup", {"phone": contact["phones"][0]}),
        ("/v1/sync-runs", {}),
        ("/v1/sync-runs", {"activation_id": busy["activation"]}),
        ("/v1/webhooks", {}),
    ]
    assert {path for path, _ in searches} == TENANT_LISTS
    for path, params in searches:
        owner = await tenant.client.get(path, params=params)
        answer = await stranger.get(path, params=params)
        assert answer.status_code == 200, (path, answer.text)
        assert _found(owner.json()), (path, params, "the first account must find it")
        assert not _found(answer.json()), (path, params, answer.json())


async def test_a_second_account_is_told_the_first_ones_rows_do_not_exist(
    busy: dict[str, Any], stranger: httpx.AsyncClient
) -> None:
    named = [
        f"/v1/activations/{busy['activation']}",
        f"/v1/contacts/{busy['contact']['id']}",
        f"/v1/contacts/{busy['contact']['id']}/interactions",
        f"/v1/automations/{busy['automation']}",
        f"/v1/executions/{busy['execution']}",
        f"/v1/sync-runs/{busy['run']}",
    ]
    for path in named:
        answer = await stranger.get(path)
        assert answer.status_code == 404, (path, answer.text)
    for path in (
        f"/v1/activations/{busy['activation']}/sync",
        f"/v1/executions/{busy['execution']}/retry",
    ):
        assert (await stranger.post(path, json={})).status_code == 404, path
    assert (await stranger.delete(f"/v1/erasures/{busy['erasure']}")).status_code == 404


def _found(body: dict[str, Any]) -> bool:
    return bool(body.get("items") or body.get("matches"))
