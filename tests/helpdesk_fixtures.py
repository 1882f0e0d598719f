"""Fixtures for synchronization and interactions: the demo helpdesk bridge served over real
HTTP, and jobs run by a real procrastinate worker."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridgehub.demo.helpdesk import HELPDESK, HelpdeskBridge, configurations
from bridgehub.demo.helpdesk_seed import seed
from bridgehub.demo.helpdesk_store import HelpdeskDatabase
from bridgehub.demo.serving import serve
from bridgehub.queue import ACTIONS_QUEUE, FIRST_SYNCS, SYNC_QUEUE
from bridgehub.worker import work
from tests.conftest import Tenant

PAGE_SIZE = 10
CONTACTS = 60


@dataclass
class PageControl:
    """ASGI middleware around a bridge: slows contact pages (or what `slowed` names) down, or
    breaks every such request from the `failing_from`-th on, to stage failures and kills
    mid-run."""

    app: ASGIApp
    delay: float = 0.0
    failing_from: int | None = None
    requests: int = 0
    slowed: tuple[str, ...] = ("contact_sync",)
    """Ends of the paths concerned."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith(self.slowed):
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.requests += 1
        await asyncio.sleep(self.delay)
        if self.failing_from is not None and self.requests >= self.failing_from:
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


@dataclass
class Helpdesk:
    database: HelpdeskDatabase
    bridge: HelpdeskBridge
    control: PageControl
    url: str


@pytest.fixture
def helpdesk() -> Iterator[Helpdesk]:
    database = HelpdeskDatabase()
    seed(database, count_contacts=CONTACTS, count_agents=5, interactions_per_contact=3)
    bridge = HelpdeskBridge(database, token_is_valid=lambda _: False, page_size=PAGE_SIZE)
    control = PageControl(bridge.app)
    with serve(control) as url:
        yield Helpdesk(database, bridge, control, url)


def helpdesk_catalog(helpdesk: Helpdesk) -> list[tuple[str, dict[str, Any]]]:
    """Where to post each configuration of the helpdesk and its actions, and what; not the
    CRM's, which needs the OAuth 2.0 provider."""
    documents = configurations(helpdesk.url, "http://127.0.0.1:9", "unused", "unused")
    return catalog_of(documents, HELPDESK)


def catalog_of(
    documents: list[dict[str, Any]], integration: str
) -> list[tuple[str, dict[str, Any]]]:
    """Where to post each of the documents of `integration` and its actions, and what."""
    return [
        ("/v1/actions" if "provider" in document else "/v1/integrations", document)
        for document in documents
        if integration in (document.get("name"), document.get("provider"))
    ]


def helpdesk_activation(helpdesk: Helpdesk) -> dict[str, Any]:
    """The body that connects an account to the helpdesk, with its first login."""
    login = helpdesk.database.accounts()[0]
    auth = {"subdomain": login.url, "email": login.email, "api_token": login.api_token}
    return {"integration": HELPDESK, "auth": auth}


@pytest.fixture
async def connected(
    hub: FastAPI, client: httpx.AsyncClient, tenant: Tenant, helpdesk: Helpdesk
) -> str:
    """The tenant's activation of the demo helpdesk; answers its id. The first syncs queued
    with it are taken off the queue: each test asks for the syncs it is about."""
    activation_id = await connect_helpdesk(client, tenant, helpdesk)
    async with hub.state.runtime.sessionmaker() as session, session.begin():
        await session.execute(
            text("DELETE FROM procrastinate_jobs WHERE task_name = :task"), {"task": FIRST_SYNCS}
        )
    return activation_id


async def connect_helpdesk(client: httpx.AsyncClient, tenant: Tenant, helpdesk: Helpdesk) -> str:
    """Register the demo helpdesk and activate it for the tenant; answers the activation's id."""
    for path, document in helpdesk_catalog(helpdesk):
        assert (await client.post(path, json=document)).status_code == 201
    created = await tenant.client.post("/v1/activations", json=helpdesk_activation(helpdesk))
    assert created.status_code == 201, created.text
    activation_id: str = created.json()["id"]
    return activation_id


RunJobs = Callable[[], Awaitable[None]]


@pytest.fixture
def run_jobs(hub: FastAPI, empty_queue: None) -> RunJobs:
    """Run queued sync and action jobs with a real worker until none is left, also those
    scheduled a moment ahead (retries)."""

    async def run() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            await work_through(hub, [SYNC_QUEUE, ACTIONS_QUEUE])
            if not await _jobs_ahead(hub):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("jobs were still queued after 30 s")

    return run


async def work_through(hub: FastAPI, queues: list[str]) -> None:
    """Run the jobs of `queues` that are due with a real worker, until none is."""
    await work(
        hub.state.runtime,
        concurrency=1,
        name="tests",
        wait=False,
        install_signal_handlers=False,
        queues=queues,
    )


async def _jobs_ahead(hub: FastAPI) -> bool:
    async with hub.state.runtime.sessionmaker() as session:
        waiting = await session.scalar(
            text(
                "SELECT count(*) FROM procrastinate_jobs "
                "WHERE status = 'todo' AND queue_name <> 'maintenance'"
            )
        )
        return bool(waiting)


SyncNow = Callable[..., Awaitable[dict[str, Any]]]


async def sync_and_run_jobs(
    tenant: Tenant, run_jobs: RunJobs, activation_id: str, what: str = "contacts"
) -> dict[str, Any]:
    """Ask for a sync through the API, run the jobs, answer the finished run."""
    started = await tenant.client.post(f"/v1/activations/{activation_id}/sync", json={"what": what})
    assert started.status_code == 202, started.text
    await run_jobs()
    run: dict[str, Any] = (
        await tenant.client.get(f"/v1/sync-runs/{started.json()['run_id']}")
    ).json()
    return run


@pytest.fixture
def sync_now(tenant: Tenant, run_jobs: RunJobs) -> SyncNow:
    """`sync_and_run_jobs` for the tenant."""

    async def sync(activation_id: str, what: str = "contacts") -> dict[str, Any]:
        return await sync_and_run_jobs(tenant, run_jobs, activation_id, what)

    return sync


async def all_contacts(tenant: Tenant, **filters: str) -> list[dict[str, Any]]:
    """Every contact the tenant sees, following the cursor to the end."""
    contacts: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {**filters, "limit": "25", **({"cursor": cursor} if cursor else {})}
        page = (await tenant.client.get("/v1/contacts", params=params)).json()
        contacts.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return contacts


@pytest.fixture
async def empty_queue(hub: FastAPI) -> AsyncIterator[None]:
    """Jobs left by one test are not run by the next."""
    yield
    async with hub.state.runtime.sessionmaker() as session, session.begin():
        await session.execute(text("TRUNCATE procrastinate_jobs CASCADE"))
