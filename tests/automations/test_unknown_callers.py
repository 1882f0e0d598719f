"""Automations for unknown or known callers only (condition `caller`), end to end with the
demo helpdesk: "when a call is missed from an unknown caller, then create a contact" runs
once per new number, and the contact the helpdesk answers with makes the next call from it
a known caller's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.automations.test_automations import MISSED_CALL, missed_call
from tests.conftest import Tenant
from tests.helpdesk_fixtures import Helpdesk, RunJobs, SyncNow, all_contacts
from tests.integrations.test_catalog_api import assert_error

UNKNOWN = "+1 212 555 0199"
CREATE_CONTACT = {
    "trigger": "call.missed",
    "action": "demo-helpdesk/create_contact",
    "inputs": {"name": "Unknown caller {{call.from}}", "phone": "{{call.from}}"},
    "conditions": {"caller": "unknown"},
}
TICKET_FOR_KNOWN = MISSED_CALL | {"conditions": {"caller": "known"}}


@pytest.fixture
async def known(tenant: Tenant, connected: str, sync_now: SyncNow) -> dict[str, Any]:
    """Contacts synced; answers one that has a phone."""
    await sync_now(connected)
    return next(c for c in await all_contacts(tenant) if c["phones"])


async def post_event(tenant: Tenant, event: dict[str, Any]) -> dict[str, Any]:
    accepted = await tenant.client.post("/v1/events", json=event)
    assert accepted.status_code == 202, accepted.text
    answer: dict[str, Any] = accepted.json()
    return answer


def skipped(answer: dict[str, Any]) -> dict[str, str]:
    return {each["automation_id"]: each["reason"] for each in answer["skipped"]}


async def test_the_summary_says_which_callers(tenant: Tenant, connected: str) -> None:
    created = await tenant.client.post("/v1/automations", json=CREATE_CONTACT)
    assert created.status_code == 201, created.text
    assert created.json()["summary"] == (
        "When a call is missed from an unknown caller, then create a contact"
    )
    assert created.json()["conditions"]["caller"] == "unknown"
    path = f"/v1/automations/{created.json()['id']}"
    changed = await tenant.client.patch(path, json={"conditions": {"caller": "known"}})
    assert (
        changed.json()["summary"]
        == "When a call is missed from a known caller, then create a contact"
    )
    every = await tenant.client.patch(path, json={"conditions": {}})
    assert every.json()["summary"] == "When a call is missed, then create a contact"
    del connected


@pytest.mark.usefixtures("connected")
async def test_a_caller_condition_is_known_or_unknown(tenant: Tenant) -> None:
    refused = await tenant.client.post(
        "/v1/automations", json=CREATE_CONTACT | {"conditions": {"caller": "anonymous"}}
    )
    error = assert_error(refused, 422, "invalid_request")
    assert [detail["path"] for detail in error["details"]] == ["conditions.caller"]
    assert (await tenant.client.get("/v1/automations")).json() == {"items": []}


async def test_the_unknown_caller_automation_runs_only_for_unknown_callers(
    tenant: Tenant, known: dict[str, Any], run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    for_unknown = (await tenant.client.post("/v1/automations", json=CREATE_CONTACT)).json()
    for_known = (await tenant.client.post("/v1/automations", json=TICKET_FOR_KNOWN)).json()
    syncs_before = (await tenant.client.get("/v1/sync-runs")).json()["items"]

    from_known = await post_event(tenant, missed_call("evt-known", known["phones"][0]))
    assert from_known["contact_id"] == known["id"]
    assert skipped(from_known) == {
        for_unknown["id"]: "the caller is known: a contact has their number"
    }
    [ticket] = from_known["executions"]

    from_unknown = await post_event(tenant, missed_call("evt-unknown", UNKNOWN))
    assert from_unknown["contact_id"] is None
    assert skipped(from_unknown) == {
        for_known["id"]: "the caller is unknown: no contact has their number"
    }
    [creation] = from_unknown["executions"]

    await run_jobs()
    execution = (await tenant.client.get(f"/v1/executions/{creation}")).json()
    assert execution["status"] == "succeeded", execution
    assert execution["automation_id"] == for_unknown["id"]
    assert execution["data"] == {"name": f"Unknown caller {UNKNOWN}", "phone": UNKNOWN}
    [created] = (await tenant.client.get("/v1/lookup", params={"phone": "2125550199"})).json()[
        "matches"
    ]
    assert created["name"] == f"Unknown caller {UNKNOWN}"
    assert execution["response"]["contact_id"] == created["id"]
    assert helpdesk.database.contact(int(created["external_id"])).details.phones == (UNKNOWN,)
    # Stored from the answer: no sync was needed for it.
    assert (await tenant.client.get("/v1/sync-runs")).json()["items"] == syncs_before
    ticket_run = (await tenant.client.get(f"/v1/executions/{ticket}")).json()
    assert ticket_run["status"] == "succeeded", ticket_run

    # The next call from that number is a known caller's.
    again = await post_event(tenant, missed_call("evt-again", UNKNOWN))
    assert again["contact_id"] == created["id"]
    assert list(skipped(again)) == [for_unknown["id"]]
    assert len(again["executions"]) == 1


@pytest.mark.usefixtures("known")
async def test_a_call_without_the_callers_number_is_neither_known_nor_unknown(
    tenant: Tenant,
) -> None:
    for_unknown = (await tenant.client.post("/v1/automations", json=CREATE_CONTACT)).json()
    for_known = (await tenant.client.post("/v1/automations", json=TICKET_FOR_KNOWN)).json()
    event = missed_call("evt-withheld", "") | {"call": {"to": "+15555550100"}}

    answer = await post_event(tenant, event)

    assert answer["executions"] == []
    reason = "the call gives no caller's number"
    assert skipped(answer) == {for_unknown["id"]: reason, for_known["id"]: reason}
