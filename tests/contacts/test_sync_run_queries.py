"""What the activity pages and the dashboard ask of sync runs and contacts: filtered pages,
each activation's latest run, recent failures, and contacts per activation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import httpx
from fastapi import FastAPI

from bridgehub.accounts.auth import Account
from bridgehub.contacts.service import contact_service
from bridgehub.syncs.models import SyncKind, SyncStatus
from bridgehub.syncs.service import SyncRunFilter, sync_service
from tests.conftest import HubSql, Tenant, create_account
from tests.helpdesk_fixtures import CONTACTS, Helpdesk, SyncNow

CONTACT_PAGES = "/helpdesk/contact_sync"


async def test_runs_are_filtered_paged_and_summed_up_per_activation(
    hub: FastAPI,
    tenant: Tenant,
    connected: str,
    sync_now: SyncNow,
    helpdesk: Helpdesk,
    hub_sql: HubSql,
) -> None:
    full = await sync_now(connected)
    agents = await sync_now(connected, "agents")
    # Down for every try of the hub's client: the run fails, recorded as such.
    helpdesk.bridge.fail_next(CONTACT_PAGES, 3, 503)
    failed = await sync_now(connected)
    assert (full["status"], agents["status"], failed["status"]) == (
        "succeeded",
        "succeeded",
        "failed",
    )
    account = Account(uuid.UUID(tenant.id))
    activation_id = uuid.UUID(connected)
    since = datetime.now(UTC) - timedelta(days=1)

    async def search(criteria: SyncRunFilter, limit: int = 10, offset: int = 0) -> list[str]:
        async with hub.state.runtime.sessionmaker() as session:
            runs = await sync_service.search(session, account, criteria, limit=limit, offset=offset)
            return [str(run.id) for run in runs]

    newest_first = [failed["id"], agents["id"], full["id"]]
    assert await search(SyncRunFilter()) == newest_first
    assert await search(SyncRunFilter(), limit=1, offset=1) == [agents["id"]]
    assert await search(SyncRunFilter(status=SyncStatus.FAILED)) == [failed["id"]]
    assert await search(SyncRunFilter(kind=SyncKind.AGENTS)) == [agents["id"]]
    assert await search(SyncRunFilter(activation_id=activation_id)) == newest_first
    assert await search(SyncRunFilter(activation_id=uuid.uuid4())) == []
    assert await search(SyncRunFilter(since=since)) == newest_first

    async with hub.state.runtime.sessionmaker() as session:
        latest = await sync_service.latest(session, account, SyncKind.CONTACTS)
        assert {key: str(run.id) for key, run in latest.items()} == {activation_id: failed["id"]}
        assert await sync_service.failures_since(session, account, since) == {activation_id: 1}
        assert await contact_service.counts(session, account) == {activation_id: CONTACTS}

    await hub_sql(
        f"UPDATE sync_runs SET created_at = now() - interval '2 days' WHERE id = '{failed['id']}'"  # noqa: S608
    )
    async with hub.state.runtime.sessionmaker() as session:
        assert await sync_service.failures_since(session, account, since) == {}
    assert await search(SyncRunFilter(since=since)) == [agents["id"], full["id"]]


async def test_another_account_finds_no_run_and_no_contact(
    hub: FastAPI, client: httpx.AsyncClient, connected: str, sync_now: SyncNow
) -> None:
    await sync_now(connected)
    other_id, _ = await create_account(client, "Elsewhere")
    other = Account(uuid.UUID(other_id))
    async with hub.state.runtime.sessionmaker() as session:
        assert await sync_service.search(session, other, SyncRunFilter(), limit=10) == []
        assert await sync_service.latest(session, other, SyncKind.CONTACTS) == {}
        assert await contact_service.counts(session, other) == {}
