"""Outbound webhooks: deliveries of real events reach a real receiver, signed so that an
independent Standard Webhooks library verifies them, retried when the receiver fails, logged
attempt by attempt, redeliverable by hand; URLs pass the network guard as bridges do."""

from __future__ import annotations

import dataclasses
import json
import uuid
from typing import Any

import httpx
from fastapi import FastAPI
from standardwebhooks import Webhook

from bridgehub.events.models import EventType
from bridgehub.events.outbox import emit
from tests.conftest import TableRows, Tenant, as_account, create_account
from tests.contacts.directory_bridge import NAME as DIRECTORY
from tests.contacts.directory_bridge import Directory
from tests.contacts.test_deletions import sync
from tests.executions.test_executions import ENDPOINT as ACTION_ENDPOINT
from tests.executions.test_executions import execute
from tests.helpdesk_fixtures import Helpdesk, RunJobs, SyncNow
from tests.webhooks.receiver import Receiver, subscribe


async def _deliveries(tenant: Tenant, webhook_id: str) -> list[dict[str, Any]]:
    listed = await tenant.client.get(f"/v1/webhooks/{webhook_id}/deliveries")
    assert listed.status_code == 200, listed.text
    items: list[dict[str, Any]] = listed.json()["items"]
    return items


async def test_a_delivery_is_signed_retried_after_a_500_and_logged_with_both_attempts(
    tenant: Tenant, connected: str, sync_now: SyncNow, receiver: Receiver
) -> None:
    webhook = await subscribe(tenant, receiver.url, "sync.succeeded", "sync.failed")
    assert webhook["secret"].startswith("whsec_")
    receiver.answers = [500]

    run = await sync_now(connected)

    assert len(receiver.received) == 2
    verifier = Webhook(webhook["secret"])
    for received in receiver.received:
        verifier.verify(received.body, received.headers)
    first, second = receiver.received
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    event = json.loads(second.body)
    assert event["type"] == "sync.succeeded"
    assert event["data"]["sync_run_id"] == run["id"]
    assert event["data"]["activation_id"] == connected
    [delivery] = await _deliveries(tenant, webhook["id"])
    assert delivery["status"] == "succeeded"
    assert first.headers["webhook-id"] == f"msg_{uuid.UUID(delivery['id']).hex}"
    assert [(a["number"], a["status_code"]) for a in delivery["attempts"]] == [(1, 500), (2, 204)]


async def test_a_delivery_is_redelivered_by_hand_with_the_same_id(
    tenant: Tenant, connected: str, sync_now: SyncNow, run_jobs: RunJobs, receiver: Receiver
) -> None:
    webhook = await subscribe(tenant, receiver.url, "sync.succeeded")
    await sync_now(connected)
    [delivery] = await _deliveries(tenant, webhook["id"])

    redelivered = await tenant.client.post(f"/v1/webhooks/deliveries/{delivery['id']}/redeliver")
    assert redelivered.status_code == 202
    await run_jobs()

    assert len(receiver.received) == 2
    assert len({received.headers["webhook-id"] for received in receiver.received}) == 1
    [delivery] = await _deliveries(tenant, webhook["id"])
    assert [a["status_code"] for a in delivery["attempts"]] == [204, 204]


async def test_only_subscribed_events_are_delivered(
    tenant: Tenant, connected: str, sync_now: SyncNow, receiver: Receiver
) -> None:
    webhook = await subscribe(tenant, receiver.url, "execution.failed")
    await sync_now(connected)
    assert receiver.received == []
    assert await _deliveries(tenant, webhook["id"]) == []


async def test_the_secret_is_shown_once_and_sealed(
    tenant: Tenant, receiver: Receiver, database_rows: TableRows
) -> None:
    webhook = await subscribe(tenant, receiver.url, "contact.deleted")
    listed = (await tenant.client.get("/v1/webhooks")).json()["items"]
    assert listed == [{k: v for k, v in webhook.items() if k != "secret"}]
    [row] = await database_rows("webhook_subscriptions")
    assert webhook["secret"] not in json.dumps(row)


async def test_a_loopback_url_is_refused_unless_private_networks_are_allowed(
    hub: FastAPI, tenant: Tenant, receiver: Receiver
) -> None:
    body = {"url": receiver.url, "events": ["sync.failed"]}
    runtime = hub.state.runtime
    private_refused = runtime.settings.model_copy(update={"allow_private_networks": False})
    hub.state.runtime = dataclasses.replace(runtime, settings=private_refused)
    try:
        refused = await tenant.client.post("/v1/webhooks", json=body)
    finally:
        hub.state.runtime = runtime

    assert refused.status_code == 422, refused.text
    assert "127.0.0.1" in refused.text
    assert (await tenant.client.post("/v1/webhooks", json=body)).status_code == 201


async def test_another_accounts_webhooks_are_not_found(
    tenant: Tenant, receiver: Receiver, client: httpx.AsyncClient
) -> None:
    webhook = await subscribe(tenant, receiver.url, "sync.failed")
    _, other_key = await create_account(client, "Other")
    path = f"/v1/webhooks/{webhook['id']}"
    assert (
        await client.get(f"{path}/deliveries", headers=as_account(other_key))
    ).status_code == 404
    assert (await client.delete(path, headers=as_account(other_key))).status_code == 404
    assert (await tenant.client.delete(path)).status_code == 204


async def test_events_no_subscription_wants_are_not_kept(
    tenant: Tenant, connected: str, sync_now: SyncNow, receiver: Receiver, database_rows: TableRows
) -> None:
    await subscribe(tenant, receiver.url, "execution.failed")
    await sync_now(connected)
    assert await database_rows("outbox_events") == []
    assert await database_rows("webhook_deliveries") == []


async def test_an_erasure_redacts_the_person_from_events_kept_for_webhooks(
    hub: FastAPI, tenant: Tenant, receiver: Receiver, database_rows: TableRows
) -> None:
    await subscribe(tenant, receiver.url, "execution.failed")
    async with hub.state.runtime.sessionmaker() as session, session.begin():
        error = {"error": "The bridge refused ada@engines.example."}
        await emit(session, uuid.UUID(tenant.id), EventType.EXECUTION_FAILED, error)

    erased = await tenant.client.post("/v1/erasures", json={"email": "ada@engines.example"})

    assert erased.status_code == 201, erased.text
    [event] = await database_rows("outbox_events")
    assert event["data"] == {"error": "The bridge refused [erased]."}


async def test_each_deleted_contact_is_one_delivery(
    tenant: Tenant,
    client: httpx.AsyncClient,
    directory: Directory,
    run_jobs: RunJobs,
    receiver: Receiver,
) -> None:
    # Ten, so that two removed stay under the guard against removing too many at once.
    for number in range(10):
        directory.put(str(number), f"Person {number}", f"+1415555{number:04d}")
    assert (await client.post("/v1/integrations", json=directory.integration())).status_code == 201
    activation = await tenant.client.post("/v1/activations", json={"integration": DIRECTORY})
    await sync(tenant, run_jobs, activation.json()["id"])
    webhook = await subscribe(tenant, receiver.url, "contact.deleted")
    directory.delete("0")
    directory.delete("2")

    await sync(tenant, run_jobs, activation.json()["id"], full=True)

    told = sorted(
        json.loads(received.body)["data"]["external_id"] for received in receiver.received
    )
    assert told == ["0", "2"]
    assert {d["status"] for d in await _deliveries(tenant, webhook["id"])} == {"succeeded"}


async def test_held_and_failed_executions_are_told(
    tenant: Tenant, connected: str, run_jobs: RunJobs, helpdesk: Helpdesk, receiver: Receiver
) -> None:
    await subscribe(
        tenant,
        receiver.url,
        "execution.held",
        "execution.failed",
        "activation.needs_reauthorization",
    )
    helpdesk.bridge.fail_next(ACTION_ENDPOINT, 1, 400)
    failed = await execute(tenant, run_jobs)
    helpdesk.bridge.fail_next(ACTION_ENDPOINT, 1, 401)
    held = await execute(tenant, run_jobs)
    await run_jobs()

    told = [json.loads(received.body) for received in receiver.received]
    assert sorted(event["type"] for event in told) == [
        "activation.needs_reauthorization",
        "execution.failed",
        "execution.held",
    ]
    by_type = {event["type"]: event["data"] for event in told}
    assert by_type["execution.failed"]["execution_id"] == failed["id"]
    assert by_type["execution.held"]["execution_id"] == held["id"]
    assert by_type["activation.needs_reauthorization"]["activation_id"] == connected
