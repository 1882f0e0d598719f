"""Call logging that follows the call: the call-ended automation logs the call in the demo
CRM, and the call's disposition adds to that record instead of creating a second one,
waiting for the call's earlier execution when it still runs; another account's call of the
same id never lends it a record. The CRM is connected through its OAuth 2.0 provider, and
its bridge served over real HTTP."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI

from bridgehub.demo.helpdesk import (
    CRM,
    CRM_INSTANCE_URL,
    HelpdeskBridge,
    configurations,
    crm_oauth_client,
)
from bridgehub.demo.helpdesk_store import HelpdeskDatabase
from bridgehub.demo.oauth_provider import OAuthProvider, ProviderConfig
from bridgehub.demo.serving import serve
from bridgehub.demo.stack import CALL_DISPOSITIONED, CALL_LOGGED
from bridgehub.queue import ACTIONS_QUEUE
from bridgehub.worker import work
from tests.conftest import HUB_URL, Tenant, as_account, create_account
from tests.demo.consent import click_allow
from tests.helpdesk_fixtures import Helpdesk, PageControl, RunJobs, catalog_of
from tests.integrations.test_catalog_api import assert_error

LOG_CALL = "/crm/actions/log_call"
CLIENT_ID, CLIENT_SECRET = "hub", "crm-secret"


@dataclass
class Crm:
    database: HelpdeskDatabase
    bridge: HelpdeskBridge
    control: PageControl
    """Slows `log_call` down when its `delay` is set."""


@pytest.fixture
async def crm(client: httpx.AsyncClient, tenant: Tenant) -> AsyncIterator[Crm]:
    """The demo CRM served with its OAuth 2.0 provider, in the catalog, connected by the
    tenant, with the demo's automations that log a call and its disposition."""
    provider = OAuthProvider(
        ProviderConfig(
            clients=[crm_oauth_client(CLIENT_ID, CLIENT_SECRET, f"{HUB_URL}/oauth/callback")],
            token_extras={"instance_url": CRM_INSTANCE_URL},
        )
    )
    database = HelpdeskDatabase()
    bridge = HelpdeskBridge(database, token_is_valid=provider.is_valid_access_token)
    control = PageControl(bridge.app, slowed=(LOG_CALL,))
    with serve(provider.app) as provider_url, serve(control) as bridge_url:
        documents = configurations(bridge_url, provider_url, CLIENT_ID, CLIENT_SECRET)
        for path, document in catalog_of(documents, CRM):
            assert (await client.post(path, json=document)).status_code == 201
        await connect_crm(tenant.client)
        await add_call_logging(tenant.client)
        yield Crm(database, bridge, control)


async def add_call_logging(client: httpx.AsyncClient) -> None:
    for automation in (CALL_LOGGED, CALL_DISPOSITIONED):
        created = await client.post("/v1/automations", json=automation.model_dump(mode="json"))
        assert created.status_code == 201, created.text


async def connect_crm(client: httpx.AsyncClient) -> None:
    """Connect the client's account to the CRM, clicking Allow at its provider."""
    created = await client.post("/v1/activations", json={"integration": CRM})
    assert created.status_code == 201, created.text
    callback = urlsplit(await click_allow(created.json()["authorize_url"]))
    query = {key: values[0] for key, values in parse_qs(callback.query).items()}
    page = await client.get(callback.path, params=query)
    assert "Demo CRM is connected" in page.text


def call_event(event_id: str, kind: str, call_id: str, **call: Any) -> dict[str, Any]:
    return {"id": event_id, "type": kind, "call": {"id": call_id, "from": "+15555550123"} | call}


def finished(call_id: str, event_id: str = "evt-end") -> dict[str, Any]:
    recording = f"https://recordings.example/{call_id}.mp3"
    return call_event(
        event_id, "call.finished", call_id, duration_seconds=95, recording_url=recording
    )


def dispositioned(call_id: str, event_id: str = "evt-disposition") -> dict[str, Any]:
    return call_event(
        event_id, "call.dispositioned", call_id, disposition="Resolved", notes="Refund sent."
    )


def ticket(trigger: str, subject: str) -> dict[str, Any]:
    """An automation creating a ticket in the demo helpdesk, described by the call's notes."""
    return {
        "trigger": trigger,
        "action": "demo-helpdesk/create_ticket",
        "inputs": {"subject": subject, "description": "Notes: {{call.notes}}"},
    }


async def post_event(client: httpx.AsyncClient, event: dict[str, Any]) -> str:
    """Post the event; answers the one execution it queued."""
    accepted = await client.post("/v1/events", json=event)
    assert accepted.status_code == 202, accepted.text
    [execution_id] = accepted.json()["executions"]
    return str(execution_id)


async def execution(client: httpx.AsyncClient, execution_id: str) -> dict[str, Any]:
    found: dict[str, Any] = (await client.get(f"/v1/executions/{execution_id}")).json()
    return found


async def test_the_disposition_adds_to_the_record_the_call_ended_execution_created(
    tenant: Tenant, crm: Crm, run_jobs: RunJobs
) -> None:
    logging = await post_event(tenant.client, finished("call-1"))
    await run_jobs()
    disposition = await post_event(tenant.client, dispositioned("call-1"))
    await run_jobs()

    [record] = crm.bridge.created()
    logged, added = (
        await execution(tenant.client, logging),
        await execution(tenant.client, disposition),
    )
    assert (logged["status"], added["status"]) == ("succeeded", "succeeded"), added
    assert logged["response"]["external_id"] == str(record.id)
    assert logged["call_id"] == added["call_id"] == "call-1"
    # The executions of one call, newest first, are listed by its id.
    of_the_call = await tenant.client.get("/v1/executions", params={"call_id": "call-1"})
    assert [each["id"] for each in of_the_call.json()["items"]] == [added["id"], logged["id"]]
    other = await tenant.client.get("/v1/executions", params={"call_id": "call-2"})
    assert other.json()["items"] == []
    assert added["data"] == {
        "summary": "Resolved: Refund sent.",
        "call_external_id": str(record.id),
    }
    assert added["response"] == {
        "message": f"Call #{record.id} updated.",
        "external_id": str(record.id),
    }
    first, second = (request.json()["data"] for request in crm.bridge.received(LOG_CALL))
    assert "recording: https://recordings.example/call-1.mp3" in first["summary"]
    assert second["call_external_id"] == str(record.id)
    description = crm.database.interaction(record.id).details.description
    assert description is not None
    assert description.endswith("https://recordings.example/call-1.mp3\n\nResolved: Refund sent.")


async def test_the_disposition_waits_for_the_call_ended_execution_still_running(
    hub: FastAPI, tenant: Tenant, crm: Crm, empty_queue: None
) -> None:
    crm.control.delay = 3.0  # long enough for the disposition to find it running
    logging = await post_event(tenant.client, finished("call-2"))
    worker = asyncio.create_task(
        work(
            hub.state.runtime,
            concurrency=2,
            name="call-logging",
            wait=True,
            install_signal_handlers=False,
            queues=[ACTIONS_QUEUE],
        )
    )
    try:

        async def at_the_bridge() -> bool:
            return crm.control.requests == 1

        await until(at_the_bridge)
        crm.control.delay = 0.0  # only the call-ended request is slow
        disposition = await post_event(tenant.client, dispositioned("call-2"))
        waiting = f"Waiting for execution {logging} of the same call to finish."

        async def waits() -> bool:
            return bool((await execution(tenant.client, disposition))["error"] == waiting)

        await until(waits)
        assert (await execution(tenant.client, logging))["status"] == "running"

        async def both_done() -> bool:
            statuses = [
                (await execution(tenant.client, each))["status"] for each in (logging, disposition)
            ]
            return statuses == ["succeeded", "succeeded"]

        await until(both_done)
    finally:
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
    [record] = crm.bridge.created()
    added = await execution(tenant.client, disposition)
    assert added["data"]["call_external_id"] == str(record.id)
    assert added["error"] is None
    assert added["attempts"] == 1


async def test_another_accounts_call_of_the_same_id_lends_no_record(
    client: httpx.AsyncClient,
    transport: httpx.ASGITransport,
    tenant: Tenant,
    crm: Crm,
    run_jobs: RunJobs,
) -> None:
    _, key = await create_account(client, "Globex")
    async with httpx.AsyncClient(
        transport=transport, base_url=HUB_URL, headers=as_account(key)
    ) as globex:
        await connect_crm(globex)
        await add_call_logging(globex)
        await post_event(tenant.client, finished("call-3"))
        await run_jobs()
        theirs = await post_event(globex, dispositioned("call-3"))
        await run_jobs()
        added = await execution(globex, theirs)
    assert added["status"] == "succeeded", added
    assert added["data"]["call_external_id"] == ""
    ours, their_record = crm.bridge.created()
    assert added["response"]["external_id"] == str(their_record.id)
    assert "Resolved" not in (crm.database.interaction(ours.id).details.description or "")


@pytest.mark.usefixtures("connected")
async def test_a_mandatory_input_the_call_never_logged_fails_the_execution_saying_so(
    tenant: Tenant, helpdesk: Helpdesk, run_jobs: RunJobs
) -> None:
    follow_up = ticket("call.dispositioned", "{{call.logged.demo-helpdesk.external_id}}")
    assert (await tenant.client.post("/v1/automations", json=follow_up)).status_code == 201
    execution_id = await post_event(tenant.client, dispositioned("call-4"))
    await run_jobs()
    failed = await execution(tenant.client, execution_id)
    assert failed["status"] == "failed"
    assert failed["error"] == (
        'The inputs of demo-helpdesk/create_ticket are incomplete. data.subject: "Ticket subject"'
        " is required. Call call-4 logged nothing in demo-helpdesk."
    )
    assert failed["attempts"] == 0
    assert helpdesk.bridge.received("/helpdesk/actions/create_ticket") == []


@pytest.mark.usefixtures("connected")
async def test_without_a_call_id_what_the_call_logged_is_empty_when_the_event_arrives(
    tenant: Tenant,
) -> None:
    follow_up = ticket("call.finished", "{{call.logged.demo-helpdesk.external_id}}")
    automation = (await tenant.client.post("/v1/automations", json=follow_up)).json()
    event = finished("unused") | {"call": {"from": "+15555550123"}}
    answer = (await tenant.client.post("/v1/events", json=event)).json()
    assert answer["executions"] == []
    assert [s["automation_id"] for s in answer["skipped"]] == [automation["id"]]
    assert '"Ticket subject" is required' in answer["skipped"][0]["reason"]


@pytest.mark.usefixtures("connected")
@pytest.mark.parametrize(
    ("event", "path", "message"),
    [
        (
            finished("call-5") | {"call": {"id": "call-5", "recording_url": "not a url"}},
            "call.recording_url",
            "URL",
        ),
        (
            finished("call-5") | {"call": {"id": "call-5", "recording_url": "ftp://x.example/a"}},
            "call.recording_url",
            'must be a URL starting with "http" or "https"',
        ),
        (
            call_event("evt-disposition", "call.dispositioned", "call-5"),
            "call",
            "a call.dispositioned event needs call.id and call.disposition",
        ),
        (
            {"id": "evt-disposition", "type": "call.dispositioned"},
            "call",
            "a call.dispositioned event needs call.id and call.disposition",
        ),
        (finished("call-5") | {"call": {"id": ""}}, "call.id", "must not be empty"),
    ],
)
async def test_a_bad_event_is_refused_saying_where_and_changes_nothing(
    tenant: Tenant, event: dict[str, Any], path: str, message: str
) -> None:
    follow_up = ticket(event["type"], "Call")
    assert (await tenant.client.post("/v1/automations", json=follow_up)).status_code == 201
    error = assert_error(await tenant.client.post("/v1/events", json=event), 422, "invalid_request")
    assert [detail["path"] for detail in error["details"]] == [path]
    assert message in error["details"][0]["message"]
    assert (await tenant.client.get("/v1/executions")).json()["items"] == []
    # Nothing was recorded: the same id, mended, is a new event.
    mended = (
        dispositioned("call-5", event["id"])
        if event["type"] == "call.dispositioned"
        else finished("call-5", event["id"])
    )
    accepted = await tenant.client.post("/v1/events", json=mended)
    assert accepted.json()["duplicate"] is False


@pytest.mark.usefixtures("connected")
@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{call.logged.demo-crm.id}}", "{{call.logged.<integration>.external_id}}"),
        ("{{call.logged.Demo CRM.external_id}}", "{{call.logged.<integration>.external_id}}"),
        ("{{call.logged.external_id}}", "{{call.logged.<integration>.external_id}}"),
        # the demo CRM is not in this catalog: only the helpdesk is
        ("{{call.logged.demo-crm.external_id}}", '"demo-crm" in call.logged is not an integration'),
    ],
)
async def test_what_the_call_logged_is_named_by_an_integration_of_the_catalog(
    tenant: Tenant, template: str, message: str
) -> None:
    automation = ticket("call.dispositioned", template)
    error = assert_error(
        await tenant.client.post("/v1/automations", json=automation), 422, "invalid_request"
    )
    assert [detail["path"] for detail in error["details"]] == ["inputs.subject"]
    assert message in error["details"][0]["message"]
    assert (await tenant.client.get("/v1/automations")).json() == {"items": []}


async def until(condition: Callable[[], Awaitable[bool]], seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, "the condition did not come true in time"
        await asyncio.sleep(0.05)
