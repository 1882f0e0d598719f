"""Automations fired by contact-center events, end to end: the caller looked up, inputs
rendered from real contact, call and agent data, one execution per automation, events
idempotent even when posted concurrently."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import Tenant, as_account, create_account
from tests.helpdesk_fixtures import Helpdesk, RunJobs, SyncNow, all_contacts
from tests.integrations.test_catalog_api import assert_error

ACTION = "demo-helpdesk/create_ticket"
MISSED_CALL = {
    "trigger": "call.missed",
    "action": ACTION,
    "inputs": {
        "subject": "Missed call from {{contact.name}}",
        "description": "{{contact.name}} ({{contact.company}}) called {{call.to}} at "
        "{{event.occurred_at}}; {{agent.name}} missed it.",
    },
}


def missed_call(event_id: str, caller: str, **call: Any) -> dict[str, Any]:
    return {
        "id": event_id,
        "type": "call.missed",
        "occurred_at": "2026-11-24T10:02:00Z",
        "call": {"from": caller, "to": "+15555550100", "duration_seconds": 0} | call,
    }


@pytest.fixture
async def synced(tenant: Tenant, connected: str, sync_now: SyncNow) -> dict[str, Any]:
    """Contacts and agents synced; answers a contact that has a phone."""
    await sync_now(connected)
    await sync_now(connected, "agents")
    return next(c for c in await all_contacts(tenant) if c["phones"])


async def test_an_automation_summarizes_itself_from_the_action_display(
    tenant: Tenant, connected: str
) -> None:
    created = await tenant.client.post("/v1/automations", json=MISSED_CALL)
    assert created.status_code == 201, created.text
    assert created.json()["summary"] == "When a call is missed, then create a ticket"
    assert created.json()["enabled"] is True
    listed = (await tenant.client.get("/v1/automations")).json()["items"]
    assert [a["id"] for a in listed] == [created.json()["id"]]
    del connected


@pytest.mark.usefixtures("connected")
@pytest.mark.parametrize(
    ("inputs", "paths"),
    [
        ({"subject": "Missed call"}, ["inputs.description"]),
        ({"subject": "x", "description": "x", "urgency": "x"}, ["inputs.urgency"]),
        ({"subject": "{{contact.password}}", "description": "x"}, ["inputs.subject"]),
        ({"subject": "{{ __import__('os') }}", "description": "x"}, ["inputs.subject"]),
        ({"subject": "{{contact.name", "description": "x"}, ["inputs.subject"]),
    ],
)
async def test_an_automation_must_map_every_mandatory_input_with_safe_templates(
    tenant: Tenant, inputs: dict[str, str], paths: list[str]
) -> None:
    response = await tenant.client.post("/v1/automations", json=MISSED_CALL | {"inputs": inputs})
    error = assert_error(response, 422, "invalid_request")
    assert [detail["path"] for detail in error["details"]] == paths
    assert (await tenant.client.get("/v1/automations")).json() == {"items": []}


async def test_a_missed_call_creates_a_ticket_with_real_data(
    tenant: Tenant, synced: dict[str, Any], run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    automation = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    agent = (await tenant.client.get("/v1/agents")).json()["items"][0]
    event = missed_call("evt-1", synced["phones"][0], agent_email=agent["email"])
    accepted = await tenant.client.post("/v1/events", json=event)
    assert accepted.status_code == 202, accepted.text
    body = accepted.json()
    assert body["duplicate"] is False
    assert body["contact_id"] == synced["id"]
    assert len(body["executions"]) == 1
    await run_jobs()
    execution = (await tenant.client.get(f"/v1/executions/{body['executions'][0]}")).json()
    assert execution["status"] == "succeeded", execution
    assert execution["event_id"] == "evt-1"
    assert execution["automation_id"] == automation["id"]
    assert execution["data"] == {
        "subject": f"Missed call from {synced['name']}",
        "description": f"{synced['name']} ({synced['company'] or ''}) called +15555550100 at "
        f"2026-11-24T10:02:00+00:00; {agent['name']} missed it.",
    }
    sent = helpdesk.bridge.received("/helpdesk/actions/create_ticket")[-1].json()
    assert sent["meta"] == {
        "contact_external_id": synced["external_id"],
        "agent_external_id": agent["external_id"],
    }


async def test_the_same_event_posted_concurrently_acts_once(
    tenant: Tenant, synced: dict[str, Any]
) -> None:
    await tenant.client.post("/v1/automations", json=MISSED_CALL)
    event = missed_call("evt-dup", synced["phones"][0])
    answers = await asyncio.gather(
        *(tenant.client.post("/v1/events", json=event) for _ in range(8))
    )
    assert {a.status_code for a in answers} == {202}
    assert sorted(a.json()["duplicate"] for a in answers) == [False] + [True] * 7
    executions = (await tenant.client.get("/v1/executions")).json()["items"]
    assert len(executions) == 1
    assert {tuple(a.json()["executions"]) for a in answers} == {(executions[0]["id"],)}


async def test_only_enabled_automations_of_the_trigger_whose_conditions_hold_fire(
    tenant: Tenant, synced: dict[str, Any]
) -> None:
    wanted = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    other_trigger = MISSED_CALL | {"trigger": "call.finished"}
    await tenant.client.post("/v1/automations", json=other_trigger)
    disabled = (
        await tenant.client.post("/v1/automations", json=MISSED_CALL | {"enabled": False})
    ).json()
    long_calls = MISSED_CALL | {"conditions": {"min_duration_seconds": 60}}
    conditional = (await tenant.client.post("/v1/automations", json=long_calls)).json()
    answer = (
        await tenant.client.post("/v1/events", json=missed_call("evt-2", synced["phones"][0]))
    ).json()
    assert len(answer["executions"]) == 1
    assert [s["automation_id"] for s in answer["skipped"]] == [conditional["id"]]
    assert "less than 60 s" in answer["skipped"][0]["reason"]
    executions = (await tenant.client.get("/v1/executions")).json()["items"]
    assert [e["automation_id"] for e in executions] == [wanted["id"]]
    assert disabled["enabled"] is False


async def test_an_unknown_caller_still_fires_with_empty_contact_values(
    tenant: Tenant, connected: str
) -> None:
    await tenant.client.post("/v1/automations", json=MISSED_CALL)
    answer = (
        await tenant.client.post("/v1/events", json=missed_call("evt-3", "+1 212 555 0199"))
    ).json()
    assert answer["contact_id"] is None
    execution = (await tenant.client.get(f"/v1/executions/{answer['executions'][0]}")).json()
    assert execution["data"]["subject"] == "Missed call from "
    del connected


async def test_an_automation_whose_integration_was_disconnected_is_skipped_with_why(
    tenant: Tenant, connected: str
) -> None:
    automation = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    assert (await tenant.client.delete(f"/v1/activations/{connected}")).status_code == 204
    answer = (
        await tenant.client.post("/v1/events", json=missed_call("evt-5", "+1 212 555 0199"))
    ).json()
    assert answer["executions"] == []
    assert [s["automation_id"] for s in answer["skipped"]] == [automation["id"]]
    assert "is not active for this account" in answer["skipped"][0]["reason"]


async def test_changing_and_removing_an_automation(tenant: Tenant, connected: str) -> None:
    automation = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    path = f"/v1/automations/{automation['id']}"
    changed = await tenant.client.patch(path, json={"enabled": False, "trigger": "voicemail.left"})
    assert changed.json()["summary"] == "When a voicemail is left, then create a ticket"
    assert changed.json()["enabled"] is False
    refused = await tenant.client.patch(path, json={"inputs": {"subject": "x"}})
    assert_error(refused, 422, "invalid_request")
    assert (await tenant.client.delete(path)).status_code == 204
    assert_error(await tenant.client.get(path), 404, "not_found")
    del connected


async def test_another_account_sees_none_of_it(
    client: httpx.AsyncClient, tenant: Tenant, connected: str
) -> None:
    automation = (await tenant.client.post("/v1/automations", json=MISSED_CALL)).json()
    await tenant.client.post("/v1/events", json=missed_call("evt-4", "+14155550142"))
    _, key = await create_account(client, "Globex")
    other = as_account(key)
    assert (await client.get("/v1/automations", headers=other)).json() == {"items": []}
    assert_error(
        await client.get(f"/v1/automations/{automation['id']}", headers=other), 404, "not_found"
    )
    # The same event id is another account's own event, not a duplicate of this one.
    answer = await client.post(
        "/v1/events", json=missed_call("evt-4", "+14155550142"), headers=other
    )
    assert answer.json()["duplicate"] is False
    assert answer.json()["executions"] == []
    del connected
