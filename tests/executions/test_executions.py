"""Running actions by hand against the demo helpdesk bridge over real HTTP: every outcome,
retries with backoff, holding until the credentials work again."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import HubSql, Tenant, as_account, create_account
from tests.helpdesk_fixtures import Helpdesk, RunJobs, SyncNow, all_contacts
from tests.integrations.test_catalog_api import assert_error

ACTION = "demo-helpdesk/create_ticket"
ENDPOINT = "/helpdesk/actions/create_ticket"
TICKET = {"subject": "Missed call", "description": "Jane called and nobody answered."}


async def execute(tenant: Tenant, run_jobs: RunJobs, **body: Any) -> dict[str, Any]:
    queued = await tenant.client.post(
        "/v1/executions", json={"action": ACTION, "data": TICKET} | body
    )
    assert queued.status_code == 202, queued.text
    assert queued.json()["status"] == "queued"
    await run_jobs()
    execution: dict[str, Any] = (
        await tenant.client.get(f"/v1/executions/{queued.json()['id']}")
    ).json()
    return execution


async def test_an_action_runs_with_the_contact_and_agent_the_bridge_knows(
    tenant: Tenant, connected: str, sync_now: SyncNow, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    await sync_now(connected)
    await sync_now(connected, "agents")
    contact = next(c for c in await all_contacts(tenant) if c["external_id"] == "3")
    agent = (await tenant.client.get("/v1/agents")).json()["items"][0]
    execution = await execute(
        tenant, run_jobs, contact_id=contact["id"], agent_email=agent["email"].upper()
    )
    assert execution["status"] == "succeeded", execution
    assert execution["attempts"] == 1
    assert execution["response"]["external_id"]
    assert execution["response"]["message"]
    assert [a["outcome"] for a in execution["history"]] == ["succeeded"]
    sent = helpdesk.bridge.received(ENDPOINT)[-1].json()
    assert sent["data"] == TICKET
    assert sent["meta"] == {"contact_external_id": "3", "agent_external_id": agent["external_id"]}
    assert helpdesk.bridge.created()[-1].details.subject == "Missed call"


@pytest.mark.usefixtures("connected")
async def test_a_refused_request_fails_at_once(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    helpdesk.bridge.fail_next(ENDPOINT, 1, 400)
    execution = await execute(tenant, run_jobs)
    assert execution["status"] == "failed"
    assert execution["attempts"] == 1
    assert execution["history"][0]["status_code"] == 400
    assert execution["finished_at"] is not None


@pytest.mark.usefixtures("connected")
async def test_transient_failures_are_retried_until_success(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    helpdesk.bridge.fail_next(ENDPOINT, 1, 503)
    helpdesk.bridge.fail_next(ENDPOINT, 1, 429, retry_after=1)
    execution = await execute(tenant, run_jobs)
    assert execution["status"] == "succeeded", execution
    assert [(a["status_code"], a["outcome"]) for a in execution["history"]] == [
        (503, "unavailable"),
        (429, "unavailable"),
        (201, "succeeded"),
    ]
    started = [datetime.fromisoformat(a["started_at"]) for a in execution["history"]]
    # The bridge asked for a second's pause after its 429, and got it.
    assert (started[2] - started[1]).total_seconds() >= 1.0
    assert len(helpdesk.bridge.created()) == 1


@pytest.mark.usefixtures("connected")
async def test_exhausted_retries_fail_and_a_person_can_retry(
    tenant: Tenant, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    helpdesk.bridge.fail_next(ENDPOINT, 3, 502)
    execution = await execute(tenant, run_jobs)
    assert execution["status"] == "failed"
    assert execution["attempts"] == 3
    assert "502" in execution["error"]

    retried = await tenant.client.post(f"/v1/executions/{execution['id']}/retry")
    assert retried.status_code == 202
    await run_jobs()
    again = (await tenant.client.get(f"/v1/executions/{execution['id']}")).json()
    assert again["status"] == "succeeded"
    assert again["attempts"] == 4
    assert_error(
        await tenant.client.post(f"/v1/executions/{execution['id']}/retry"), 409, "conflict"
    )


async def test_refused_credentials_hold_the_action_until_they_work_again(
    tenant: Tenant, connected: str, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    helpdesk.bridge.fail_next(ENDPOINT, 1, 401)
    execution = await execute(tenant, run_jobs)
    assert execution["status"] == "held"
    activation = (await tenant.client.get(f"/v1/activations/{connected}")).json()
    assert activation["status"] == "needs_reauthorization"
    # What the bridge said comes with the reason a person reads.
    assert activation["status_reason"] == (
        "The bridge refused the stored credentials: Failing on purpose with 401."
    )
    # Held ones wait; a second one is held without calling the bridge.
    second = await execute(tenant, run_jobs)
    assert second["status"] == "held"
    assert second["attempts"] == 0

    login = helpdesk.database.accounts()[0]
    fixed = await tenant.client.patch(
        f"/v1/activations/{connected}", json={"auth": {"api_token": login.api_token}}
    )
    assert fixed.json()["status"] == "active"
    await run_jobs()
    statuses = [
        (await tenant.client.get(f"/v1/executions/{e['id']}")).json()["status"]
        for e in (execution, second)
    ]
    assert statuses == ["succeeded", "succeeded"]
    listed = (await tenant.client.get("/v1/executions", params={"status": "succeeded"})).json()[
        "items"
    ]
    assert {e["id"] for e in listed} == {execution["id"], second["id"]}


@pytest.mark.usefixtures("connected")
@pytest.mark.parametrize(
    ("body", "paths"),
    [
        ({"action": "demo-helpdesk/close_ticket"}, ["action"]),
        ({"action": "create_ticket"}, ["action"]),
        ({"data": {"subject": " "}}, ["data.subject", "data.description"]),
        ({"data": TICKET | {"urgency": "high"}}, ["data.urgency"]),
        ({"contact_id": "00000000-0000-0000-0000-000000000000"}, ["contact_id"]),
    ],
)
async def test_an_execution_that_cannot_run_is_refused_up_front(
    tenant: Tenant, body: dict[str, Any], paths: list[str]
) -> None:
    response = await tenant.client.post(
        "/v1/executions", json={"action": ACTION, "data": TICKET} | body
    )
    error = assert_error(response, 422, response.json()["error"]["code"])
    assert [detail["path"] for detail in error["details"]] == paths
    assert (await tenant.client.get("/v1/executions")).json() == {"items": []}


async def test_an_integration_that_is_not_connected_cannot_run_actions(
    tenant: Tenant, connected: str
) -> None:
    await tenant.client.patch(f"/v1/activations/{connected}", json={"status": "disabled"})
    response = await tenant.client.post("/v1/executions", json={"action": ACTION, "data": TICKET})
    assert "not active" in assert_error(response, 409, "conflict")["message"]


async def test_another_account_cannot_see_or_retry_an_execution(
    client: httpx.AsyncClient, tenant: Tenant, connected: str, run_jobs: RunJobs
) -> None:
    execution = await execute(tenant, run_jobs)
    _, key = await create_account(client, "Globex")
    other = as_account(key)
    assert (await client.get("/v1/executions", headers=other)).json() == {"items": []}
    assert_error(
        await client.get(f"/v1/executions/{execution['id']}", headers=other), 404, "not_found"
    )
    assert_error(
        await client.post(f"/v1/executions/{execution['id']}/retry", headers=other),
        404,
        "not_found",
    )
    refused = await client.post(
        "/v1/executions", json={"action": ACTION, "data": TICKET}, headers=other
    )
    assert_error(refused, 409, "conflict")
    del connected


async def test_credentials_the_hub_cannot_open_fail_the_execution_which_can_be_retried(
    tenant: Tenant, connected: str, run_jobs: RunJobs, hub_sql: HubSql, helpdesk: Helpdesk
) -> None:
    """A fault of the hub's own during an attempt (here, stored credentials sealed with a key
    the hub no longer has) ends the execution `failed`, not `running` for good."""
    unopenable = "UPDATE activations SET sealed_credentials = 'v1.gone.AAAA' WHERE id = '{}'"
    await hub_sql(unopenable.format(connected))
    execution = await execute(tenant, run_jobs)

    assert execution["status"] == "failed", execution
    assert "could not carry out" in execution["error"]
    assert [a["outcome"] for a in execution["history"]] == ["hub_error"]
    assert helpdesk.bridge.received(ENDPOINT) == []
    retried = await tenant.client.post(f"/v1/executions/{execution['id']}/retry")
    assert retried.status_code == 202, retried.text
    assert retried.json()["status"] == "queued"
