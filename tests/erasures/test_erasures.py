"""Erasure on request: a person erased by phone or e-mail address leaves every integration
of the account, their values leave stored executions and events, and later syncs keep them
out, without the hub keeping the identifier in plaintext."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from bridgehub.demo.helpdesk import HELPDESK
from bridgehub.erasures.suppression import hold_off_erasures
from tests.conftest import HUB_URL, HubSql, TableRows, Tenant, as_account, create_account
from tests.helpdesk_fixtures import (
    CONTACTS,
    Helpdesk,
    RunJobs,
    SyncNow,
    all_contacts,
    helpdesk_activation,
    helpdesk_catalog,
)

SECOND = "demo-helpdesk-two"


@pytest.fixture
async def two_integrations(
    client: httpx.AsyncClient, tenant: Tenant, helpdesk: Helpdesk, connected: str
) -> list[str]:
    """The tenant's helpdesk, and a second integration whose bridge serves the same people:
    each person is then a contact of both. Answers both activations' ids."""
    document = next(d for _, d in helpdesk_catalog(helpdesk) if d.get("name") == HELPDESK)
    second = {**document, "name": SECOND, "display_name": "Second helpdesk"}
    assert (await client.post("/v1/integrations", json=second)).status_code == 201
    created = await tenant.client.post(
        "/v1/activations", json={**helpdesk_activation(helpdesk), "integration": SECOND}
    )
    assert created.status_code == 201, created.text
    return [connected, created.json()["id"]]


async def _full_syncs(activations: list[str], sync_now: SyncNow, hub_sql: HubSql) -> list[Any]:
    await hub_sql("UPDATE activations SET contacts_checkpoint = NULL")
    return [await sync_now(activation) for activation in activations]


def _person_with(contacts: list[dict[str, Any]], field: str, *others: dict[str, Any]) -> Any:
    """A contact with a `field` that none of `others` shares any phone or address with."""
    taken = {value for other in others for value in (*other["phones"], *other["emails"])}
    return next(
        c
        for c in contacts
        if c[field] and taken.isdisjoint((*c["phones"], *c["emails"])) and c["name"]
    )


async def _called(tenant: Tenant, run_jobs: RunJobs, phone: str) -> None:
    """A missed call from `phone` that runs an action: an event and an execution name it,
    the execution also in an input filled in from what the call logged."""
    automation = {
        "trigger": "call.missed",
        "action": f"{HELPDESK}/create_ticket",
        "inputs": {
            "subject": "Missed call from {{contact.name}}",
            "description": "{{contact.name}} called from {{call.from}} (logged as "
            "{{call.logged.demo-helpdesk.external_id}}).",
        },
    }
    assert (await tenant.client.post("/v1/automations", json=automation)).status_code == 201
    agent = (await tenant.client.get("/v1/agents")).json()["items"][0]
    event = {
        "id": "evt-erased",
        "type": "call.missed",
        "call": {
            "id": "call-erased",
            "from": phone,
            "to": "+15555550100",
            "agent_email": agent["email"],
        },
    }
    assert (await tenant.client.post("/v1/events", json=event)).status_code == 202
    await run_jobs()


async def _every_stored_value(hub: FastAPI, database_rows: TableRows) -> dict[str, str]:
    """Each table of the database, as the lower-cased JSON of its rows."""
    async with hub.state.runtime.sessionmaker() as session:
        tables = (
            await session.scalars(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            )
        ).all()
    return {table: json.dumps(await database_rows(table)).lower() for table in tables}


def _writings(phone: str) -> Iterator[str]:
    """A US number in E.164 and in the usual writings of its digits."""
    digits = phone.removeprefix("+1")
    yield phone
    yield digits
    yield f"{digits[:3]}-{digits[3:6]}-{digits[6:]}"
    yield f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


async def test_erased_people_leave_both_integrations_and_stay_out(
    hub: FastAPI,
    tenant: Tenant,
    two_integrations: list[str],
    sync_now: SyncNow,
    run_jobs: RunJobs,
    hub_sql: HubSql,
    database_rows: TableRows,
) -> None:
    for activation in two_integrations:
        assert (await sync_now(activation))["status"] == "succeeded"
    assert (await sync_now(two_integrations[0], "agents"))["status"] == "succeeded"
    contacts = await all_contacts(tenant)
    us_numbers = [c for c in contacts if c["phones"] and c["phones"][0].startswith("+1")]
    by_phone = _person_with(us_numbers, "phones")
    by_email = _person_with(contacts, "emails", by_phone)
    phone, email = by_phone["phones"][0], by_email["emails"][0]
    await _called(tenant, run_jobs, phone)
    executions = (await tenant.client.get("/v1/executions")).json()["items"]
    assert len(executions) == 1

    digits = phone.removeprefix("+1")
    erased = await tenant.client.post(
        "/v1/erasures", json={"phone": f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"}
    )
    assert erased.status_code == 201, erased.text
    assert erased.json()["kind"] == "phone"
    sharing = [c for c in contacts if phone in c["phones"]]
    addressed = [c for c in contacts if email in c["emails"]]
    assert erased.json()["contacts_erased"] == len(sharing) >= 2
    assert erased.json()["records_redacted"] >= 2  # the execution and the event at least
    by_address = await tenant.client.post("/v1/erasures", json={"email": email.upper()})
    assert by_address.status_code == 201, by_address.text
    assert by_address.json()["contacts_erased"] == len(addressed) >= 2
    assert phone not in erased.text
    assert email not in by_address.text

    async def found() -> list[dict[str, Any]]:
        return [
            *(await all_contacts(tenant, phone=phone)),
            *(await all_contacts(tenant, email=email)),
            *(await tenant.client.get("/v1/lookup", params={"phone": phone})).json()["matches"],
        ]

    assert await found() == []
    runs = await _full_syncs(two_integrations, sync_now, hub_sql)
    assert await found() == []
    for run in runs:
        kept_out = [r for r in run["rejections"] if r["reason"] == "erased on request"]
        assert run["status"] == "succeeded"
        assert len(kept_out) == run["rejected"] == (len(sharing) + len(addressed)) // 2
    assert len(await all_contacts(tenant)) == len(contacts) - len(sharing) - len(addressed)

    # The records stay, without the values.
    (execution,) = (await tenant.client.get("/v1/executions")).json()["items"]
    assert execution["id"] == executions[0]["id"]
    assert len(await database_rows("events")) == 1
    stored = await _every_stored_value(hub, database_rows)
    for value in (*_writings(phone), email, by_phone["name"].lower()):
        holding = [table for table, rows in stored.items() if value.lower() in rows]
        assert not holding, (value, holding)
    assert "[erased]" in stored["executions"]
    assert "[erased]" in stored["events"]

    listed = (await tenant.client.get("/v1/erasures")).json()["items"]
    assert {e["id"] for e in listed} == {erased.json()["id"], by_address.json()["id"]}
    assert phone not in json.dumps(listed)
    assert email not in json.dumps(listed)

    # Lifted, the identifier is no longer kept out: the next full sync brings them back.
    lifted = await tenant.client.delete(f"/v1/erasures/{erased.json()['id']}")
    assert lifted.status_code == 204
    await _full_syncs(two_integrations, sync_now, hub_sql)
    assert len(await all_contacts(tenant, phone=phone)) == len(sharing)
    assert await all_contacts(tenant, email=email) == []


async def test_an_accounts_erasures_are_its_own(
    client: httpx.AsyncClient, transport: httpx.ASGITransport, tenant: Tenant
) -> None:
    created = await tenant.client.post("/v1/erasures", json={"email": "someone@example.com"})
    assert created.status_code == 201, created.text
    assert created.json()["contacts_erased"] == 0
    _, key = await create_account(client, name="Other")
    async with httpx.AsyncClient(
        transport=transport, base_url=HUB_URL, headers=as_account(key)
    ) as other:
        assert (await other.get("/v1/erasures")).json()["items"] == []
        refused = await other.delete(f"/v1/erasures/{created.json()['id']}")
        assert refused.status_code == 404
    assert len((await tenant.client.get("/v1/erasures")).json()["items"]) == 1


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        ({}, "either `phone` or `email`"),
        ({"phone": "+14155550142", "email": "a@example.com"}, "either `phone` or `email`"),
        ({"phone": "555-01"}, "`phone` cannot be read"),
        ({"email": "not an address"}, "`email` is not an e-mail address"),
        ({"email": "a\u0000@example.com"}, "email"),
    ],
)
async def test_bad_requests_change_nothing(
    tenant: Tenant, connected: str, sync_now: SyncNow, body: dict[str, str], complaint: str
) -> None:
    await sync_now(connected)
    refused = await tenant.client.post("/v1/erasures", json=body)
    assert refused.status_code == 422, refused.text
    assert complaint in refused.text
    assert (await tenant.client.get("/v1/erasures")).json()["items"] == []
    assert len(await all_contacts(tenant)) == CONTACTS


async def test_an_erasure_waits_for_the_page_being_written(hub: FastAPI, tenant: Tenant) -> None:
    """A page checked before the erasure existed is written before the erasure deletes."""
    async with hub.state.runtime.sessionmaker() as page, page.begin():
        await hold_off_erasures(page, uuid.UUID(tenant.id))
        erasing = asyncio.create_task(
            tenant.client.post("/v1/erasures", json={"email": "someone@example.com"})
        )
        await asyncio.sleep(0.5)
        assert not erasing.done()
    assert (await erasing).status_code == 201
