"""`bridgehub keys rotate`: every secret sealed again under a new key, and the hub works on."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import httpx
import psycopg
import pytest

from bridgehub.app import create_app
from bridgehub.settings import Settings
from bridgehub.vault import load_keys
from tests.activations.conftest import GOOD_TOKEN, SteeredBridge, connect_crm
from tests.conftest import HUB_URL, Tenant, as_account


def sealed_values(database_url: str) -> list[str]:
    with psycopg.connect(
        database_url.replace("postgresql+psycopg://", "postgresql://")
    ) as connection:
        rows = connection.execute(
            "SELECT sealed_credentials FROM activations WHERE sealed_credentials IS NOT NULL "
            "UNION ALL SELECT sealed_client_secret FROM integrations "
            "WHERE sealed_client_secret IS NOT NULL"
        )
        return [row[0] for row in rows]


@pytest.mark.usefixtures("zendesk", "crm")
async def test_rotation_seals_everything_under_the_new_key(
    tenant: Tenant,
    bridge: SteeredBridge,
    settings: Settings,
    database_url: str,
) -> None:
    custom = await tenant.client.post(
        "/v1/activations",
        json={
            "integration": "zendesk",
            "auth": {"account": "acme", "email": "a@acme.example", "token": GOOD_TOKEN},
        },
    )
    oauth = await connect_crm(tenant)
    before = sealed_values(database_url)
    assert len(before) == 3

    result = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bridgehub", "keys", "rotate"],
        env={**os.environ, "DATABASE_URL": database_url, "BRIDGEHUB_HOME": str(settings.home)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Sealed 3 secrets again" in result.stdout
    newest = load_keys(None, settings.home)[0]
    after = sealed_values(database_url)
    assert all(value.startswith(f"v1.{newest.id}.") for value in after)
    assert sorted(after) != sorted(before)

    # A hub started afterwards (reading the key file again) opens every secret.
    restarted = create_app(settings, database=database_url)
    async with restarted.router.lifespan_context(restarted):
        transport = httpx.ASGITransport(app=restarted)
        key = tenant.client.headers["Authorization"].removeprefix("Bearer ")
        async with httpx.AsyncClient(
            transport=transport, base_url=HUB_URL, headers=as_account(key)
        ) as http:
            bridge.received.clear()
            for activation_id in (custom.json()["id"], oauth["id"]):
                response = await http.post(f"/v1/activations/{activation_id}/check")
                assert response.status_code == 200, response.text
            assert bridge.received[0]["auth"]["token"] == GOOD_TOKEN
            integration = await http.get("/v1/integrations/crm")
            assert integration.json()["oauth2_configuration"]["client_secret"] == "********"
