"""Contacts deleted on the bridge's side leave the hub: named in a page's
`deleted_contacts`, or left out of a full run (held for a person when too many), and never
because a run failed or rejected them. Protocol sections 6.1, 6.3 and 6.4."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import Tenant
from tests.contacts.directory_bridge import NAME, Directory
from tests.helpdesk_fixtures import RunJobs


@pytest.fixture
async def activation(client: httpx.AsyncClient, tenant: Tenant, directory: Directory) -> str:
    """The tenant's activation of a directory of ten contacts, synchronized once."""
    for number in range(10):
        directory.put(str(number), f"Person {number}", _phone(number))
    assert (await client.post("/v1/integrations", json=directory.integration())).status_code == 201
    created = await tenant.client.post("/v1/activations", json={"integration": NAME})
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _phone(number: int) -> str:
    return f"+1415555{number:04d}"


async def sync(
    tenant: Tenant, run_jobs: RunJobs, activation: str, *, full: bool = False
) -> dict[str, Any]:
    asked = await tenant.client.post(
        f"/v1/activations/{activation}/sync", json={"what": "contacts", "full": full}
    )
    assert asked.status_code == 202, asked.text
    await run_jobs()
    run: dict[str, Any] = (
        await tenant.client.get(f"/v1/sync-runs/{asked.json()['run_id']}")
    ).json()
    return run


async def stored_ids(tenant: Tenant) -> set[str]:
    page = (await tenant.client.get("/v1/contacts", params={"limit": "100"})).json()
    return {contact["external_id"] for contact in page["items"]}


async def found_by_phone(tenant: Tenant, number: int) -> bool:
    answer = await tenant.client.get("/v1/lookup", params={"phone": _phone(number)})
    return bool(answer.json()["matches"])


async def test_the_first_run_is_full_and_removes_nothing(
    tenant: Tenant, run_jobs: RunJobs, activation: str
) -> None:
    first = await sync(tenant, run_jobs, activation)
    assert (first["full"], first["full_reason"], first["created"]) == (True, "first", 10)
    assert (first["deleted"], first["deletions_held"]) == (0, 0)


async def test_contacts_named_deleted_leave_the_store_and_the_lookup_in_that_run(
    tenant: Tenant, run_jobs: RunJobs, activation: str, directory: Directory
) -> None:
    await sync(tenant, run_jobs, activation)
    directory.delete("3")
    directory.delete("7")
    directory.put("4", "Person Four", _phone(4))
    run = await sync(tenant, run_jobs, activation)
    assert (run["full"], run["deleted"], run["updated"]) == (False, 2, 1)
    assert await stored_ids(tenant) == {str(n) for n in range(10)} - {"3", "7"}
    assert not await found_by_phone(tenant, 3)
    assert await found_by_phone(tenant, 4)


async def test_an_incremental_run_removes_only_what_it_is_told(
    tenant: Tenant, run_jobs: RunJobs, activation: str, directory: Directory
) -> None:
    await sync(tenant, run_jobs, activation)
    directory.tells_deletions = False
    directory.delete("5")
    run = await sync(tenant, run_jobs, activation)
    assert (run["full"], run["deleted"]) == (False, 0)
    assert "5" in await stored_ids(tenant)

    # A full run asked for finds it gone.
    full = await sync(tenant, run_jobs, activation, full=True)
    assert (full["full_reason"], full["deleted"]) == ("requested", 1)
    assert "5" not in await stored_ids(tenant)
    assert not await found_by_phone(tenant, 5)


async def test_a_full_run_missing_most_contacts_holds_its_deletions_until_confirmed(
    tenant: Tenant, run_jobs: RunJobs, activation: str, directory: Directory
) -> None:
    await sync(tenant, run_jobs, activation)
    directory.omits = {str(n) for n in range(3, 10)}  # 30% of the contacts come back
    held = await sync(tenant, run_jobs, activation, full=True)
    assert held["status"] == "succeeded"
    assert (held["deleted"], held["deletions_held"]) == (0, 7)
    assert len(await stored_ids(tenant)) == 10

    confirmed = await tenant.client.post(f"/v1/sync-runs/{held['id']}/confirm-deletions")
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["deleted"], confirmed.json()["deletions_held"]) == (7, 0)
    assert await stored_ids(tenant) == {"0", "1", "2"}
    again = await tenant.client.post(f"/v1/sync-runs/{held['id']}/confirm-deletions")
    assert again.status_code == 409


async def test_a_failed_full_run_removes_nothing(
    tenant: Tenant, run_jobs: RunJobs, activation: str, directory: Directory
) -> None:
    await sync(tenant, run_jobs, activation)
    directory.delete("0")
    directory.failing_offset = "8"  # the third page
    failed = await sync(tenant, run_jobs, activation, full=True)
    assert (failed["status"], failed["deleted"]) == ("failed", 0)
    assert len(await stored_ids(tenant)) == 10


async def test_contacts_rejected_by_a_full_run_are_not_removed(
    tenant: Tenant, run_jobs: RunJobs, activation: str, directory: Directory
) -> None:
    await sync(tenant, run_jobs, activation)
    directory.put("2", None, _phone(2))  # now without a name: rejected
    full = await sync(tenant, run_jobs, activation, full=True)
    assert (full["rejected"], full["deleted"]) == (1, 0)
    assert "2" in await stored_ids(tenant)


async def test_an_empty_incremental_page_without_checkpoint_keeps_the_checkpoint(
    tenant: Tenant, run_jobs: RunJobs, activation: str, directory: Directory
) -> None:
    await sync(tenant, run_jobs, activation)
    for _ in range(2):  # nothing changed: no checkpoint comes back
        run = await sync(tenant, run_jobs, activation)
        assert run["full"] is False
    assert directory.checkpoints_received[-2:] == ["10", "10"]


async def test_a_checkpoint_the_bridge_refuses_makes_the_run_full_at_once(
    tenant: Tenant, run_jobs: RunJobs, activation: str, directory: Directory
) -> None:
    await sync(tenant, run_jobs, activation)
    directory.tells_deletions = False
    directory.delete("9")
    directory.forgets_before = directory.version
    run = await sync(tenant, run_jobs, activation)
    assert (run["status"], run["full_reason"], run["deleted"]) == (
        "succeeded",
        "checkpoint_refused",
        1,
    )
    assert directory.checkpoints_received[-4:] == ["10", None, None, None]


async def test_a_contact_rejected_then_fixed_silently_is_stored_by_the_next_run(
    tenant: Tenant, run_jobs: RunJobs, activation: str, directory: Directory
) -> None:
    await sync(tenant, run_jobs, activation)
    directory.put("11", None, _phone(11))
    rejecting = await sync(tenant, run_jobs, activation)
    assert (rejecting["full"], rejecting["rejected"]) == (False, 1)
    directory.fix_silently("11", "Person Eleven")
    fetched_again = await sync(tenant, run_jobs, activation)
    assert (fetched_again["full_reason"], fetched_again["created"]) == ("after_rejections", 1)
    assert "11" in await stored_ids(tenant)


async def test_the_same_rejection_again_does_not_make_every_run_full(
    tenant: Tenant, run_jobs: RunJobs, activation: str, directory: Directory
) -> None:
    await sync(tenant, run_jobs, activation)
    directory.put("11", None, _phone(11))
    await sync(tenant, run_jobs, activation)
    full = await sync(tenant, run_jobs, activation)
    assert (full["full_reason"], full["rejected"]) == ("after_rejections", 1)
    after = await sync(tenant, run_jobs, activation)
    assert after["full"] is False


async def test_full_is_refused_for_agents(tenant: Tenant, activation: str) -> None:
    asked = await tenant.client.post(
        f"/v1/activations/{activation}/sync", json={"what": "agents", "full": True}
    )
    assert asked.status_code == 422


pytestmark = pytest.mark.usefixtures("empty_queue")
