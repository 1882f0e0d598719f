"""An action that creates a contact (protocol 5 and 6.2), over real HTTP: the contact its
answer carries is stored at once, so the next lookup finds it with no sync in between; an
answer that only names a contact the hub lacks has a contact sync asked for at once; a
contact the hub cannot take is noted on an execution that still succeeded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from bridgehub.queue import ACTIONS_QUEUE
from tests.conftest import Tenant
from tests.contacts.directory_bridge import NAME, Directory
from tests.helpdesk_fixtures import RunJobs, all_contacts, sync_and_run_jobs, work_through

ACTION = f"{NAME}/add_caller"
CALLER = "+14155550199"
CREATED = {"id": "C-981", "name": "Unknown caller", "phones": ["(415) 555-0199"]}


@pytest.fixture
async def activation(
    client: httpx.AsyncClient, tenant: Tenant, directory: Directory, run_jobs: RunJobs
) -> str:
    """The tenant's activation of a directory of one contact, synchronized once: later
    syncs are incremental."""
    directory.put("1", "Person 1", "+14155550001")
    assert (await client.post("/v1/integrations", json=directory.integration())).status_code == 201
    assert (await client.post("/v1/actions", json=directory.action())).status_code == 201
    created = await tenant.client.post("/v1/activations", json={"integration": NAME})
    assert created.status_code == 201, created.text
    activation_id = str(created.json()["id"])
    first = await sync_and_run_jobs(tenant, run_jobs, activation_id)
    assert first["status"] == "succeeded", first
    return activation_id


async def queue_action(tenant: Tenant) -> str:
    queued = await tenant.client.post(
        "/v1/executions", json={"action": ACTION, "data": {"phone": CALLER}}
    )
    assert queued.status_code == 202, queued.text
    execution_id: str = queued.json()["id"]
    return execution_id


async def execution_of(tenant: Tenant, execution_id: str) -> dict[str, Any]:
    execution: dict[str, Any] = (await tenant.client.get(f"/v1/executions/{execution_id}")).json()
    return execution


async def run_action(tenant: Tenant, run_jobs: RunJobs) -> dict[str, Any]:
    execution_id = await queue_action(tenant)
    await run_jobs()
    return await execution_of(tenant, execution_id)


async def looked_up(tenant: Tenant, phone: str) -> list[dict[str, Any]]:
    matches: list[dict[str, Any]] = (
        await tenant.client.get("/v1/lookup", params={"phone": phone})
    ).json()["matches"]
    return matches


async def sync_runs(tenant: Tenant) -> list[dict[str, Any]]:
    runs: list[dict[str, Any]] = (await tenant.client.get("/v1/sync-runs")).json()["items"]
    return runs


@pytest.mark.usefixtures("activation")
async def test_the_contact_an_answer_carries_is_found_by_the_next_lookup_with_no_sync(
    tenant: Tenant, run_jobs: RunJobs, directory: Directory
) -> None:
    answer = {"message": "Contact created", "external_id": "C-981", "contact_external_id": "C-981"}
    directory.action_answer = answer | {"contact": CREATED}
    syncs_before = await sync_runs(tenant)

    execution = await run_action(tenant, run_jobs)

    assert execution["status"] == "succeeded", execution
    # Any way of writing the number finds it: its phones were read as a sync reads them.
    [found] = await looked_up(tenant, "+1 415-555-0199")
    assert (found["external_id"], found["name"], found["phones"]) == (
        "C-981",
        "Unknown caller",
        [CALLER],
    )
    assert execution["response"] == answer | {"contact_id": found["id"]}
    assert await sync_runs(tenant) == syncs_before
    assert len(directory.checkpoints_received) == 1

    # Answered again, changed: the same contact, updated in place.
    directory.action_answer = answer | {"contact": CREATED | {"name": "Jane Roe"}}
    again = await run_action(tenant, run_jobs)
    assert again["response"]["contact_id"] == found["id"]
    assert [(c["id"], c["name"]) for c in await looked_up(tenant, CALLER)] == [
        (found["id"], "Jane Roe")
    ]


async def test_an_answer_naming_a_contact_the_hub_lacks_has_it_fetched_by_an_incremental_sync(
    tenant: Tenant, run_jobs: RunJobs, directory: Directory, activation: str
) -> None:
    directory.put("C-982", "New caller", CALLER)  # what the action did on the bridge's side
    directory.action_answer = {"external_id": "C-982", "contact_external_id": "C-982"}
    assert await looked_up(tenant, CALLER) == []

    execution = await run_action(tenant, run_jobs)

    assert execution["status"] == "succeeded", execution
    run_id = execution["response"]["contact_sync_run_id"]
    [run] = [run for run in await sync_runs(tenant) if run["id"] == run_id]
    assert (run["activation_id"], run["trigger"], run["status"]) == (
        activation,
        "action",
        "succeeded",
    )
    assert (run["full"], run["created"]) == (False, 1)
    assert directory.checkpoints_received[-1] is not None
    [found] = await looked_up(tenant, CALLER)
    assert found["external_id"] == "C-982"


@pytest.mark.usefixtures("activation")
async def test_an_answer_naming_a_contact_the_hub_holds_asks_for_no_sync(
    tenant: Tenant, run_jobs: RunJobs, directory: Directory
) -> None:
    [held] = await all_contacts(tenant)
    directory.action_answer = {"contact_external_id": 1}  # a number, as sloppy bridges send
    syncs_before = await sync_runs(tenant)

    execution = await run_action(tenant, run_jobs)

    assert execution["response"] == {"contact_external_id": "1", "contact_id": held["id"]}
    assert await sync_runs(tenant) == syncs_before


async def test_a_sync_already_queued_is_the_one_that_fetches_the_contact(
    hub: FastAPI, tenant: Tenant, run_jobs: RunJobs, directory: Directory, activation: str
) -> None:
    queued = await tenant.client.post(
        f"/v1/activations/{activation}/sync", json={"what": "contacts"}
    )
    assert queued.status_code == 202, queued.text
    directory.put("C-982", "New caller", CALLER)
    directory.action_answer = {"contact_external_id": "C-982"}
    execution_id = await queue_action(tenant)
    # Only the action runs: the sync asked for first is still queued meanwhile.
    await work_through(hub, [ACTIONS_QUEUE])

    execution = await execution_of(tenant, execution_id)
    assert execution["status"] == "succeeded", execution
    assert execution["response"]["contact_sync_run_id"] == queued.json()["run_id"]
    assert [run["status"] for run in await sync_runs(tenant)] == ["queued", "succeeded"]
    await run_jobs()
    assert [c["external_id"] for c in await looked_up(tenant, CALLER)] == ["C-982"]


@pytest.mark.usefixtures("activation")
@pytest.mark.parametrize(
    ("contact", "reason"),
    [
        ({"id": "C-981", "phones": [CALLER]}, "name: is required"),
        ("Unknown caller", "must be an object"),
        ({"id": "C-981", "name": "Unknown caller", "phones": CALLER}, "phones: "),
        ({"id": "C-999", "name": "Unknown caller"}, 'differs from contact_external_id "C-981"'),
    ],
)
async def test_a_contact_the_hub_cannot_take_changes_no_contact_and_the_action_still_succeeded(
    tenant: Tenant, run_jobs: RunJobs, directory: Directory, contact: Any, reason: str
) -> None:
    answer = {"message": "Contact created", "external_id": "C-981", "contact_external_id": "C-981"}
    directory.action_answer = answer | {"contact": contact}
    contacts_before = await all_contacts(tenant)
    syncs_before = await sync_runs(tenant)

    execution = await run_action(tenant, run_jobs)

    assert execution["status"] == "succeeded", execution
    assert [a["outcome"] for a in execution["history"]] == ["succeeded"]
    rejected = execution["response"].pop("contact_rejected")
    assert reason in rejected
    assert execution["response"] == answer
    assert await all_contacts(tenant) == contacts_before
    assert await sync_runs(tenant) == syncs_before
    assert await looked_up(tenant, CALLER) == []


@pytest.mark.usefixtures("activation")
async def test_a_contact_an_erasure_names_is_kept_out(
    tenant: Tenant, run_jobs: RunJobs, directory: Directory
) -> None:
    erased = await tenant.client.post("/v1/erasures", json={"phone": CALLER})
    assert erased.status_code == 201, erased.text
    directory.action_answer = {"contact_external_id": "C-981", "contact": CREATED}

    execution = await run_action(tenant, run_jobs)

    assert execution["status"] == "succeeded", execution
    assert execution["response"]["contact_rejected"] == "erased on request"
    assert "contact_id" not in execution["response"]
    assert await looked_up(tenant, CALLER) == []
