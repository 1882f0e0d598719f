"""`bridgehub sync ACTIVATION_ID`: a sync in the foreground, with progress and a summary."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

from bridgehub.settings import Settings
from tests.conftest import Tenant
from tests.helpdesk_fixtures import CONTACTS, Helpdesk, all_contacts


def run_command(
    settings: Settings, database_url: str, *arguments: str
) -> subprocess.CompletedProcess[str]:
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BRIDGEHUB_HOME": str(settings.home),
        "BRIDGEHUB_ALLOW_PRIVATE_NETWORKS": "true",
        "BRIDGEHUB_ALLOW_HTTP": "true",
        "COLUMNS": "200",
    }
    return subprocess.run(
        [sys.executable, "-m", "bridgehub", "sync", *arguments],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def test_the_sync_command_runs_a_sync_and_summarizes_it(
    settings: Settings, database_url: str, tenant: Tenant, connected: str
) -> None:
    result = await asyncio.to_thread(run_command, settings, database_url, connected)
    assert result.returncode == 0, result.stderr
    assert "succeeded" in result.stdout
    assert f"│ {CONTACTS} " in result.stdout.replace("┃", "│")
    assert len(await all_contacts(tenant)) == CONTACTS

    agents = await asyncio.to_thread(
        run_command, settings, database_url, connected, "--what", "agents"
    )
    assert agents.returncode == 0, agents.stderr
    assert (await tenant.client.get("/v1/agents")).json()["items"]


async def test_the_sync_command_runs_a_full_sync_that_removes_what_the_bridge_lost(
    settings: Settings, database_url: str, tenant: Tenant, connected: str, helpdesk: Helpdesk
) -> None:
    first = await asyncio.to_thread(run_command, settings, database_url, connected)
    assert first.returncode == 0, first.stderr
    external_id = (await all_contacts(tenant))[0]["external_id"]
    helpdesk.database.delete_contact(int(external_id))

    full = await asyncio.to_thread(run_command, settings, database_url, connected, "--full")
    assert full.returncode == 0, full.stderr
    contacts = await all_contacts(tenant)
    assert len(contacts) == CONTACTS - 1
    assert external_id not in {contact["external_id"] for contact in contacts}


async def test_the_sync_command_explains_what_it_cannot_do(
    settings: Settings, database_url: str
) -> None:
    unknown = await asyncio.to_thread(
        run_command, settings, database_url, "00000000-0000-0000-0000-000000000000"
    )
    assert unknown.returncode == 1
    assert "No activation 00000000-0000-0000-0000-000000000000." in unknown.stderr
    assert "Traceback" not in unknown.stderr
