"""Health probes: the process answers (`/health/live`), and it is ready for traffic
(`/health/ready`: the database answers with the schema this hub's migrations build)."""

from __future__ import annotations

import httpx

from bridgehub.db import migrate
from tests.conftest import HubSql


async def test_a_live_and_ready_hub_says_so(client: httpx.AsyncClient) -> None:
    live = await client.get("/health/live", headers={})
    ready = await client.get("/health/ready", headers={})

    assert live.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["migration"] == migrate.head()


async def test_a_database_behind_the_hub_s_migrations_is_not_ready(
    client: httpx.AsyncClient, hub_sql: HubSql
) -> None:
    behind, head = "UPDATE alembic_version SET version_num = '{}'", migrate.head()
    await hub_sql(behind.format("0001"))
    try:
        ready = await client.get("/health/ready")
    finally:
        await hub_sql(behind.format(head))

    assert ready.status_code == 503
    assert ready.json()["error"]["code"] == "migrations_pending"
    assert (await client.get("/health/live")).status_code == 200
