"""The actions an automation may run: those of the account's active integrations only."""

from __future__ import annotations

import uuid

import httpx
from fastapi import FastAPI

from bridgehub.accounts.auth import Account
from bridgehub.automations.service import automation_service
from tests.conftest import HubSql, Tenant, create_account


async def offered(hub: FastAPI, account_id: str) -> list[str]:
    async with hub.state.runtime.sessionmaker() as session:
        actions = await automation_service.available_actions(
            session, Account(uuid.UUID(account_id))
        )
        return [f"{action.integration.name}/{action.name}" for action in actions]


async def test_only_actions_of_active_integrations_are_offered(
    hub: FastAPI, client: httpx.AsyncClient, tenant: Tenant, connected: str, hub_sql: HubSql
) -> None:
    # The catalog holds the CRM and its action too, but the account has not connected it.
    assert await offered(hub, tenant.id) == [
        "demo-helpdesk/create_contact",
        "demo-helpdesk/create_ticket",
    ]
    other_id, _ = await create_account(client, "Elsewhere")
    assert await offered(hub, other_id) == []
    await hub_sql(
        f"UPDATE activations SET status = 'needs_reauthorization' WHERE id = '{connected}'"  # noqa: S608
    )
    assert await offered(hub, tenant.id) == []
