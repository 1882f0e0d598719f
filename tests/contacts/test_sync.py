"""Contact and agent synchronization end to end: the API asks, a real worker runs the job
against the demo helpdesk bridge over HTTP, and the contact store shows the result."""

from __future__ import annotations

import asyncio

import httpx

from bridgehub.demo.helpdesk_store import ContactDetails
from tests.conftest import HubSql, Tenant, as_account, create_account
from tests.helpdesk_fixtures import CONTACTS, PAGE_SIZE, Helpdesk, RunJobs, SyncNow, all_contacts
from tests.integrations.test_catalog_api import assert_error


async def test_an_initial_sync_pages_to_the_end(
    tenant: Tenant, connected: str, sync_now: SyncNow
) -> None:
    run = await sync_now(connected)
    assert run["status"] == "succeeded", run
    assert run["what"] == "contacts"
    assert run["pages"] == CONTACTS // PAGE_SIZE
    assert (run["created"], run["updated"], run["unchanged"], run["rejected"]) == (
        CONTACTS,
        0,
        0,
        0,
    )
    assert run["started_at"] <= run["finished_at"]
    contacts = await all_contacts(tenant)
    assert len(contacts) == CONTACTS
    assert len({c["external_id"] for c in contacts}) == CONTACTS
    assert {c["integration"] for c in contacts} == {"demo-helpdesk"}


async def test_an_incremental_sync_asks_from_the_checkpoint(
    tenant: Tenant, connected: str, sync_now: SyncNow, helpdesk: Helpdesk
) -> None:
    await sync_now(connected)
    helpdesk.database.update_contact(3, title="Chief Listener")
    helpdesk.database.update_contact(7, company="Globex")
    helpdesk.database.add_contact(ContactDetails(name="Zoe Newcomer", phones=("+1 415 555 0199",)))
    run = await sync_now(connected)
    assert run["status"] == "succeeded", run
    assert (run["created"], run["updated"]) == (1, 2)
    asked = helpdesk.bridge.received("/helpdesk/contact_sync")[-1].json()
    assert asked["meta"]["synchronization_checkpoint"]
    contacts = await all_contacts(tenant)
    assert len(contacts) == CONTACTS + 1
    assert "Chief Listener" in {c["title"] for c in contacts}


async def test_unchanged_contacts_cost_no_write(
    tenant: Tenant, connected: str, sync_now: SyncNow, hub_sql: HubSql
) -> None:
    await sync_now(connected)
    before = {c["id"]: c["updated_at"] for c in await all_contacts(tenant)}
    # Forget the checkpoint: the next run is a full one, over contacts that did not change.
    await hub_sql("UPDATE activations SET contacts_checkpoint = NULL")
    run = await sync_now(connected)
    assert (run["created"], run["updated"], run["unchanged"]) == (0, 0, CONTACTS)
    assert {c["id"]: c["updated_at"] for c in await all_contacts(tenant)} == before


async def test_a_failed_run_keeps_the_old_checkpoint(
    tenant: Tenant, connected: str, sync_now: SyncNow, helpdesk: Helpdesk
) -> None:
    await sync_now(connected)
    for contact_id in range(1, 26):
        helpdesk.database.update_contact(contact_id, title=f"Changed {contact_id}")
    # The next run breaks on its second page, after its first page was written.
    helpdesk.control.failing_from = helpdesk.control.requests + 2
    failed = await sync_now(connected)
    assert failed["status"] == "failed"
    assert "503" in failed["error"]
    assert failed["pages"] == 1

    helpdesk.control.failing_from = None
    repeated = await sync_now(connected)
    assert repeated["status"] == "succeeded", repeated
    first_pages = [
        request.json()["meta"]
        for request in helpdesk.bridge.received("/helpdesk/contact_sync")
        if "offset" not in request.json()["meta"]
    ]
    # The failed run and its repetition both asked from the first run's checkpoint.
    assert "synchronization_checkpoint" not in first_pages[0]
    assert (
        first_pages[1]["synchronization_checkpoint"] == first_pages[2]["synchronization_checkpoint"]
    )
    titles = {c["title"] for c in await all_contacts(tenant)}
    assert {f"Changed {n}" for n in range(1, 26)} <= titles
    assert len(await all_contacts(tenant)) == CONTACTS


async def test_a_bad_contact_is_rejected_alone(
    tenant: Tenant, connected: str, sync_now: SyncNow, helpdesk: Helpdesk
) -> None:
    helpdesk.bridge.malform_contact(5)
    run = await sync_now(connected)
    assert run["status"] == "succeeded"
    assert run["rejected"] == 1
    assert run["created"] == CONTACTS - 1
    assert run["rejections"][0]["id"] == "5"
    assert "name" in run["rejections"][0]["reason"]


async def test_concurrent_sync_requests_run_once(
    tenant: Tenant, connected: str, run_jobs: RunJobs, helpdesk: Helpdesk
) -> None:
    path = f"/v1/activations/{connected}/sync"
    answers = await asyncio.gather(
        *(tenant.client.post(path, json={"what": "contacts"}) for _ in range(10))
    )
    assert {a.status_code for a in answers} == {202}
    assert len({a.json()["run_id"] for a in answers}) == 1
    await run_jobs()
    runs = (await tenant.client.get("/v1/sync-runs", params={"activation_id": connected})).json()[
        "items"
    ]
    assert len(runs) == 1
    first_pages = [
        r
        for r in helpdesk.bridge.received("/helpdesk/contact_sync")
        if "offset" not in r.json().get("meta", {})
    ]
    assert len(first_pages) == 1


async def test_agents_are_kept_per_activation_and_replaced(
    tenant: Tenant, connected: str, sync_now: SyncNow, helpdesk: Helpdesk
) -> None:
    run = await sync_now(connected, "agents")
    assert run["status"] == "succeeded", run
    agents = (await tenant.client.get("/v1/agents")).json()["items"]
    assert len(agents) == len(helpdesk.database.agents())
    # The bridge sends numeric ids; the hub keeps them as strings.
    assert all(
        isinstance(agent["external_id"], str) and agent["external_id"].isdigit() for agent in agents
    )
    first = agents[0]
    only = (await tenant.client.get("/v1/agents", params={"email": first["email"].upper()})).json()[
        "items"
    ]
    assert only == [first]
    again = await sync_now(connected, "agents")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, len(agents))


async def test_syncing_needs_an_active_activation_with_the_endpoint(
    tenant: Tenant, connected: str
) -> None:
    await tenant.client.patch(f"/v1/activations/{connected}", json={"status": "disabled"})
    refused = await tenant.client.post(
        f"/v1/activations/{connected}/sync", json={"what": "contacts"}
    )
    assert "only an active one syncs" in assert_error(refused, 409, "conflict")["message"]
    invalid = await tenant.client.post(
        f"/v1/activations/{connected}/sync", json={"what": "tickets"}
    )
    assert_error(invalid, 422, "invalid_request")


async def test_another_account_sees_none_of_it(
    client: httpx.AsyncClient, tenant: Tenant, connected: str, sync_now: SyncNow
) -> None:
    run = await sync_now(connected)
    await sync_now(connected, "agents")
    contact = (await all_contacts(tenant))[0]
    _, key = await create_account(client, "Globex")
    other = as_account(key)
    assert (await client.get("/v1/contacts", headers=other)).json()["items"] == []
    assert (await client.get("/v1/agents", headers=other)).json()["items"] == []
    assert (await client.get("/v1/sync-runs", headers=other)).json()["items"] == []
    for path in (f"/v1/contacts/{contact['id']}", f"/v1/sync-runs/{run['id']}"):
        assert_error(await client.get(path, headers=other), 404, "not_found")
    assert_error(
        await client.post(f"/v1/activations/{connected}/sync", json={}, headers=other),
        404,
        "not_found",
    )
    phone = contact["phones"][0] if contact["phones"] else "+14155550142"
    assert (await client.get("/v1/lookup", params={"phone": phone}, headers=other)).json() == {
        "matches": [],
        "people": [],
    }
