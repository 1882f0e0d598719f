"""Every statement about tenant-owned rows is kept to one account (account_filters.py says
how it is read), so that those tables can be distributed by account (docs/scaling.md): a
broad workload runs through the real API, the web UI and real jobs while every statement is
watched, and the test fails on any that is not, naming the function that sent it."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete, insert, select, text, update

from bridgehub.activations.models import Activation
from bridgehub.agents.models import Agent
from bridgehub.contacts.models import Contact
from bridgehub.executions.replay import replay_due
from bridgehub.retention.service import purge_expired
from bridgehub.syncs.service import sync_service
from tests.accounts.account_filters import TENANT_TABLES, unfiltered_tables, watching
from tests.conftest import HUB_URL, HubSql, Tenant, as_account, create_account
from tests.helpdesk_fixtures import (
    Helpdesk,
    RunJobs,
    all_contacts,
    helpdesk_activation,
    helpdesk_catalog,
    sync_and_run_jobs,
)
from tests.webhooks.receiver import serving_receiver, subscribe

# Statements that read tenant-owned rows of every account, by nature, each with the reason.
ACROSS_ACCOUNTS = {
    "bridgehub.accounts.auth:identify": "an API key is what tells a request's account: the "
    "key is found by its digest, before any account is known",
    "bridgehub.web.service:sign_in": "signing in to the web UI with an API key: the same",
    "bridgehub.web.service:_caller": "a web UI session names the key it was opened with, and "
    "the key its account: the same",
    "bridgehub.syncs.service:schedule_due": "the scheduler looks for the active activations "
    "of every account whose sync is due",
    "bridgehub.executions.replay:_replay_batch": "the replay sweep queues the replays due in "
    "every account, found along one small index of those waiting, each minute",
    "bridgehub.retention.service:_delete_batch": "the retention purge deletes the oldest "
    "expired rows of every account together: one walk along each table's time index, where "
    "a pass per account would cost a query per account and table each hour, mostly empty",
}


async def test_every_statement_about_tenant_rows_is_kept_to_an_account(
    hub: FastAPI,
    client: httpx.AsyncClient,
    transport: httpx.ASGITransport,
    helpdesk: Helpdesk,
    run_jobs: RunJobs,
) -> None:
    # The receiver outlives the workload: every sync in it is delivered.
    with serving_receiver() as receiver, watching() as watch:
        _, key = await create_account(client)
        async with httpx.AsyncClient(
            transport=transport, base_url=HUB_URL, headers=as_account(key)
        ) as account:
            tenant = Tenant("", account)
            await _catalog_and_activation(client, tenant, helpdesk)
            webhook = await subscribe(tenant, receiver.url, "sync.succeeded")
            await _syncs(hub, tenant, run_jobs)
            await _webhook_deliveries(tenant, run_jobs, webhook["id"])
            await _contacts_and_agents(tenant)
            await _automation_and_actions(tenant, run_jobs)
            await _erasure(tenant, run_jobs)
            await _web_pages(transport, key)
            await purge_expired(
                hub.state.runtime.sessionmaker, hub.state.runtime.settings.retention_days
            )
            await replay_due(hub.state.runtime.sessionmaker)
            await _disconnect(tenant)
    unfiltered = watch.outside(ACROSS_ACCOUNTS)
    assert not unfiltered, "statements not kept to one account:\n" + "\n".join(map(str, unfiltered))
    # The workload reached every tenant-owned table, and each exception still happens.
    assert watch.tables == TENANT_TABLES
    assert set(ACROSS_ACCOUNTS) <= {found.where for found in watch.unfiltered}


async def _catalog_and_activation(
    admin: httpx.AsyncClient, tenant: Tenant, helpdesk: Helpdesk
) -> None:
    for path, document in helpdesk_catalog(helpdesk):
        assert (await admin.post(path, json=document)).status_code == 201
    for path in ("/v1/integrations", "/v1/actions", "/v1/accounts"):
        assert (await admin.get(path)).status_code == 200
    created = await tenant.client.post("/v1/activations", json=helpdesk_activation(helpdesk))
    assert created.status_code == 201, created.text
    activation = created.json()["id"]
    for path in ("/v1/activations", f"/v1/activations/{activation}", "/v1/integrations"):
        assert (await tenant.client.get(path)).status_code == 200, path
    changed = await tenant.client.patch(
        f"/v1/activations/{activation}", json={"sync_interval_minutes": 30}
    )
    assert changed.status_code == 200, changed.text


async def _syncs(hub: FastAPI, tenant: Tenant, run_jobs: RunJobs) -> None:
    activation = (await tenant.client.get("/v1/activations")).json()["items"][0]["id"]
    for what in ("contacts", "agents"):
        run = await sync_and_run_jobs(tenant, run_jobs, activation, what)
        assert run["status"] == "succeeded", run
    # Again, from the checkpoint; then the scheduler's look for due syncs.
    assert (await sync_and_run_jobs(tenant, run_jobs, activation))["status"] == "succeeded"
    async with hub.state.runtime.sessionmaker() as session, session.begin():
        await sync_service.schedule_due(session)
    runs = (await tenant.client.get("/v1/sync-runs", params={"activation_id": activation})).json()
    assert (await tenant.client.get(f"/v1/sync-runs/{runs['items'][0]['id']}")).status_code == 200


async def _webhook_deliveries(tenant: Tenant, run_jobs: RunJobs, webhook_id: str) -> None:
    deliveries = (await tenant.client.get(f"/v1/webhooks/{webhook_id}/deliveries")).json()
    delivery_id = deliveries["items"][0]["id"]
    redelivered = await tenant.client.post(f"/v1/webhooks/deliveries/{delivery_id}/redeliver")
    assert redelivered.status_code == 202
    await run_jobs()
    assert (await tenant.client.get("/v1/webhooks")).json()["items"]


async def _contacts_and_agents(tenant: Tenant) -> None:
    contacts = await all_contacts(tenant)
    contact = next(c for c in contacts if c["phones"] and c["emails"])
    for path, params in (
        ("/v1/contacts", {"q": contact["name"].split()[0]}),
        ("/v1/contacts", {"email": contact["emails"][0]}),
        ("/v1/contacts", {"phone": contact["phones"][0]}),
        ("/v1/lookup", {"phone": contact["phones"][0]}),
        (f"/v1/contacts/{contact['id']}", {}),
        (f"/v1/contacts/{contact['id']}/interactions", {}),
        ("/v1/agents", {}),
    ):
        answer = await tenant.client.get(path, params=params)
        assert answer.status_code == 200, (path, answer.text)
    agent = (await tenant.client.get("/v1/agents")).json()["items"][0]
    assert (await tenant.client.get("/v1/agents", params={"email": agent["email"]})).is_success


async def _automation_and_actions(tenant: Tenant, run_jobs: RunJobs) -> None:
    contact = next(c for c in await all_contacts(tenant) if c["phones"])
    agent = (await tenant.client.get("/v1/agents")).json()["items"][0]
    created = await tenant.client.post(
        "/v1/automations",
        json={
            "trigger": "call.missed",
            "action": "demo-helpdesk/create_ticket",
            "inputs": {
                "subject": "Missed call from {{contact.name}}",
                "description": "{{contact.name}} called {{agent.name}}.",
            },
        },
    )
    assert created.status_code == 201, created.text
    automation = created.json()["id"]
    for path in ("/v1/automations", f"/v1/automations/{automation}"):
        assert (await tenant.client.get(path)).status_code == 200
    assert (
        await tenant.client.patch(f"/v1/automations/{automation}", json={"enabled": True})
    ).status_code == 200
    event = {
        "id": "evt-filters",
        "type": "call.missed",
        "call": {"from": contact["phones"][0], "to": "+15555550100", "agent_email": agent["email"]},
    }
    received = await tenant.client.post("/v1/events", json=event)
    assert received.status_code == 202, received.text
    await run_jobs()
    executions = (await tenant.client.get("/v1/executions")).json()["items"]
    assert executions
    assert executions[0]["status"] == "succeeded", executions[0]
    execution = executions[0]["id"]
    assert (await tenant.client.get(f"/v1/executions/{execution}")).status_code == 200
    retried = await tenant.client.post(f"/v1/executions/{execution}/retry", json={})
    assert retried.status_code in (202, 409), retried.text
    await run_jobs()
    assert (await tenant.client.delete(f"/v1/automations/{automation}")).status_code == 204


async def _erasure(tenant: Tenant, run_jobs: RunJobs) -> None:
    """Erase a contact, sync while the erasure keeps it out, then lift the erasure."""
    # Listed phones are in E.164 where they could be read; the erasure needs one that was.
    phone = next(p for c in await all_contacts(tenant) for p in c["phones"] if p.startswith("+"))
    erased = await tenant.client.post("/v1/erasures", json={"phone": phone})
    assert erased.status_code == 201, erased.text
    assert (await tenant.client.get("/v1/erasures")).status_code == 200
    activation = (await tenant.client.get("/v1/activations")).json()["items"][0]["id"]
    assert (await sync_and_run_jobs(tenant, run_jobs, activation))["status"] == "succeeded"
    lifted = await tenant.client.delete(f"/v1/erasures/{erased.json()['id']}")
    assert lifted.status_code == 204


async def _web_pages(transport: httpx.ASGITransport, key: str) -> None:
    """The account's pages of the web UI, signed in with its key."""
    async with httpx.AsyncClient(transport=transport, base_url=HUB_URL) as browser:
        form = await browser.get("/ui/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert token is not None, form.text
        signed_in = await browser.post(
            "/ui/sign-in", data={"key": key, "csrf_token": token.group(1), "next": "/ui/"}
        )
        assert signed_in.status_code == 303, signed_in.text
        for path in (
            "/ui/dashboard",
            "/ui/catalog",
            "/ui/contacts",
            "/ui/automations",
            "/ui/activity",
            "/ui/activity/syncs",
            "/ui/screen-pop?phone=%2B14155550100",
            f"/ui/live?item=executions:24h&item=sync:{uuid.uuid4()}&item=execution:{uuid.uuid4()}",
        ):
            page = await browser.get(path)
            assert page.status_code == 200, (path, page.text[:500])


async def _disconnect(tenant: Tenant) -> None:
    activation = (await tenant.client.get("/v1/activations")).json()["items"][0]["id"]
    assert (await tenant.client.delete(f"/v1/activations/{activation}")).status_code == 204


async def test_jobs_queued_before_they_named_the_account_still_run(
    tenant: Tenant, connected: str, run_jobs: RunJobs, hub_sql: HubSql
) -> None:
    """A database upgraded with jobs in its queue: their arguments lack `account_id`."""
    started = await tenant.client.post(
        f"/v1/activations/{connected}/sync", json={"what": "contacts"}
    )
    assert started.status_code == 202, started.text
    await hub_sql(_FORGET_ACCOUNTS)
    await run_jobs()
    run = (await tenant.client.get(f"/v1/sync-runs/{started.json()['run_id']}")).json()
    assert run["status"] == "succeeded", run
    contact = next(c for c in await all_contacts(tenant) if c["phones"])
    automation = {
        "trigger": "call.missed",
        "action": "demo-helpdesk/create_ticket",
        "inputs": {"subject": "Missed call", "description": "{{contact.name}} called."},
    }
    assert (await tenant.client.post("/v1/automations", json=automation)).status_code == 201
    call = {"from": contact["phones"][0], "to": "+15555550100"}
    event = {"id": "evt-old-job", "type": "call.missed", "call": call}
    assert (await tenant.client.post("/v1/events", json=event)).status_code == 202
    await hub_sql(_FORGET_ACCOUNTS)
    await run_jobs()
    executions = (await tenant.client.get("/v1/executions")).json()["items"]
    assert [e["status"] for e in executions] == ["succeeded"]


_FORGET_ACCOUNTS = "UPDATE procrastinate_jobs SET args = args - 'account_id'"


# The check itself ----------------------------------------------------------------------------

# A join on the account alone keeps neither table to one: one of them must be.
_ON_THE_ACCOUNT = (Activation.id == Agent.activation_id) & (
    Activation.account_id == Agent.account_id
)
# A correlated subquery kept to the account of the statement around it.
_SAME_ACCOUNT = (Contact.account_id == Agent.account_id) & (Contact.name == Agent.name)


@pytest.mark.parametrize(
    ("statement", "unfiltered"),
    [
        (select(Contact), {"contacts"}),
        (select(Contact).where(Contact.account_id == "a"), set()),
        (select(Contact.name).where(Contact.id == "c"), {"contacts"}),
        (
            select(Contact.name).where(
                Contact.id.in_(select(Contact.id).where(Contact.account_id == "a"))
            ),
            {"contacts"},
        ),
        (select(Agent).join(Activation, _ON_THE_ACCOUNT), {"activations", "agents"}),
        (select(Agent).join(Activation, _ON_THE_ACCOUNT).where(Agent.account_id == "a"), set()),
        (
            select(Agent.name, select(Contact.name).where(_SAME_ACCOUNT).scalar_subquery()).where(
                Agent.account_id == "a"
            ),
            set(),
        ),
        (update(Contact).where(Contact.id == "c").values(name="n"), {"contacts"}),
        (delete(Contact).where(Contact.account_id == "a"), set()),
        (insert(Contact).values(name="n"), {"contacts"}),
        (insert(Contact).values(name="n", account_id="a"), set()),
        (text("SELECT count(*) FROM contacts"), {"contacts"}),
        (text("SELECT 1 FROM contacts WHERE account_id = :a"), set()),
        (text("SELECT 1"), set()),
    ],
)
def test_an_unfiltered_statement_is_told_apart(statement: Any, unfiltered: set[str]) -> None:
    assert unfiltered_tables(statement) == unfiltered
