"""What `make demo` runs: its bridge and provider, registered in a real hub, connected by an
account the way a person would (typing the helpdesk login; clicking Allow at the provider)."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from bridgehub.demo.stack import DemoStack, connect_demo_account, demo_stack
from tests.conftest import HUB_URL, Tenant, as_account
from tests.demo.consent import click_allow
from tests.helpdesk_fixtures import RunJobs


@pytest.fixture(scope="module")
def stack() -> Iterator[DemoStack]:
    with demo_stack(HUB_URL) as running:
        yield running


async def test_the_demo_integrations_connect_through_the_hub(
    client: httpx.AsyncClient, tenant: Tenant, stack: DemoStack
) -> None:
    await _load_catalog(client, stack)

    subdomain = urlsplit(stack.login.url).hostname.split(".")[0]  # type: ignore[union-attr]
    auth = {"subdomain": subdomain, "email": stack.login.email, "api_token": stack.login.api_token}
    helpdesk = await tenant.client.post(
        "/v1/activations", json={"integration": "demo-helpdesk", "auth": auth}
    )
    assert helpdesk.status_code == 201, helpdesk.text
    assert helpdesk.json()["status"] == "active"
    assert helpdesk.json()["auth"]["subdomain"] == stack.login.url

    wrong = await tenant.client.patch(
        f"/v1/activations/{helpdesk.json()['id']}", json={"auth": {"api_token": "not-the-token"}}
    )
    assert wrong.json()["error"]["code"] == "credentials_rejected"

    crm = await tenant.client.post("/v1/activations", json={"integration": "demo-crm"})
    callback = urlsplit(await click_allow(crm.json()["authorize_url"]))
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}
    page = await tenant.client.get(callback.path, params=query)
    assert "Demo CRM is connected" in page.text
    connected = (await tenant.client.get(f"/v1/activations/{crm.json()['id']}")).json()
    assert connected["status"] == "active"
    assert (await tenant.client.post(f"/v1/activations/{connected['id']}/check")).status_code == 200


async def test_the_demo_account_creates_a_contact_when_an_unknown_number_calls(
    hub: FastAPI, client: httpx.AsyncClient, stack: DemoStack, run_jobs: RunJobs
) -> None:
    await _load_catalog(client, stack)
    demo = as_account(await connect_demo_account(hub.state.runtime, stack, None))
    await run_jobs()  # the syncs it asked for
    number = "+81 3 4567 8901"
    lookup = {"phone": number}
    assert (await client.get("/v1/lookup", params=lookup, headers=demo)).json()["matches"] == []

    event = {
        "id": "evt-demo",
        "type": "call.missed",
        "call": {"from": number, "to": "+15555550100"},
    }
    answer = (await client.post("/v1/events", json=event, headers=demo)).json()
    assert len(answer["executions"]) == 2
    await run_jobs()

    [found] = (await client.get("/v1/lookup", params=lookup, headers=demo)).json()["matches"]
    assert found["name"] == f"Unknown caller {number}"


@pytest.mark.usefixtures("empty_queue")  # the syncs it queues are not run
async def test_the_demo_account_gets_the_demo_automations_once(
    hub: FastAPI, client: httpx.AsyncClient, stack: DemoStack
) -> None:
    await _load_catalog(client, stack)
    key = await connect_demo_account(hub.state.runtime, stack, None)
    assert await connect_demo_account(hub.state.runtime, stack, key) == key
    listed = (await client.get("/v1/automations", headers=as_account(key))).json()["items"]
    assert [automation["summary"] for automation in listed] == [
        "When a call is missed, then create a ticket",
        "When a call is missed from an unknown caller, then create a contact",
        "When a call ends, then log a call",
        "When a call is dispositioned, then log a call",
    ]
    disposition = listed[3]["inputs"]
    assert disposition["call_external_id"] == "{{call.logged.demo-crm.external_id}}"


async def _load_catalog(client: httpx.AsyncClient, stack: DemoStack) -> None:
    for document in stack.documents:
        path = "/v1/actions" if "provider" in document else "/v1/integrations"
        assert (await client.post(path, json=document)).status_code == 201
