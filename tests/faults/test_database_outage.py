"""Losing the database for real, in the middle of a sync under a running `bridgehub serve`:
the embedded PostgreSQL's postmaster killed with SIGKILL, or a standalone server stopped
and started again. The hub answers 503 while it is away, serves again when it is back (the
embedded one it brings back by itself), and the sync ends with every contact exactly once,
without the hub being restarted."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

from tests.executions.test_executions import ACTION, TICKET
from tests.faults.served_hub import (
    HUB_SETTINGS,
    connected_account,
    contacts_of,
    health,
    health_until_back,
    postmaster_pid,
    serving,
    sync_run,
    wait_for,
)
from tests.helpdesk_fixtures import CONTACTS, Helpdesk
from tests.standalone_postgres import StandaloneServer

BURST = 40
"""Executions asked for at once, the database killed right after."""
RECOVERY_BUDGET = 60.0
"""Seconds within which the hub must serve again after losing its database."""


def test_a_killed_embedded_database_comes_back_and_the_sync_ends_complete(
    tmp_path: Path, helpdesk: Helpdesk
) -> None:
    with serving(tmp_path, HUB_SETTINGS) as hub_url:
        _lose_the_database_mid_sync(
            hub_url,
            helpdesk,
            lose=lambda: os.kill(postmaster_pid(tmp_path), signal.SIGKILL),
            bring_back=lambda: None,  # the hub's own work
        )


def test_a_standalone_server_stopped_and_started_again_is_found_again(
    tmp_path: Path, helpdesk: Helpdesk, standalone_postgres: StandaloneServer
) -> None:
    settings = {**HUB_SETTINGS, "DATABASE_URL": standalone_postgres.url}
    with serving(tmp_path, settings) as hub_url:
        _lose_the_database_mid_sync(
            hub_url,
            helpdesk,
            lose=standalone_postgres.stop,
            bring_back=lambda: _start_after(standalone_postgres, seconds=2),
        )


def _start_after(server: StandaloneServer, seconds: float) -> None:
    """Start the server again after a while: an operator's restart takes some time."""
    time.sleep(seconds)
    server.start()


def test_executions_under_way_when_the_embedded_database_is_killed_all_end(
    tmp_path: Path, helpdesk: Helpdesk
) -> None:
    with (
        serving(tmp_path, HUB_SETTINGS) as hub_url,
        connected_account(hub_url, helpdesk) as (account, _),
    ):
        ids = [
            account.post("/v1/executions", json={"action": ACTION, "data": TICKET}).json()["id"]
            for _ in range(BURST)
        ]
        os.kill(postmaster_pid(tmp_path), signal.SIGKILL)
        lost = time.monotonic()
        health_until_back(hub_url, deadline=lost + RECOVERY_BUDGET)

        def ended() -> list[str]:
            statuses = [account.get(f"/v1/executions/{each}").json()["status"] for each in ids]
            return [status for status in statuses if status not in ("queued", "running")]

        wait_for(lambda: len(ended()) == BURST, "every execution to end", 90)
        print(f"the executions ended {time.monotonic() - lost:.1f} s after the database was lost")
        assert ended() == ["succeeded"] * BURST


def _lose_the_database_mid_sync(
    hub_url: str, helpdesk: Helpdesk, lose: Callable[[], None], bring_back: Callable[[], None]
) -> None:
    helpdesk.control.delay = 0.3  # pages slow enough to lose the database in the middle
    with connected_account(hub_url, helpdesk) as (account, activation_id):
        started = account.post(f"/v1/activations/{activation_id}/sync", json={})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        wait_for(lambda: sync_run(account, run_id)["pages"] >= 2, "two pages written", 30)

        lose()
        lost = time.monotonic()
        away = health(hub_url)
        assert health(hub_url, "/health/ready") == (503, "database_unavailable")
        assert health(hub_url, "/health/live") == (200, None)
        bring_back()
        answers = [away, *health_until_back(hub_url, deadline=lost + RECOVERY_BUDGET)]
        print(f"serving again {time.monotonic() - lost:.1f} s after the database was lost")

        assert (503, "database_unavailable") in answers, "no answer while the database was away"
        assert {answer for answer in answers if answer[0] != 200} == {(503, "database_unavailable")}
        wait_for(lambda: sync_run(account, run_id)["status"] == "succeeded", "the sync to end", 90)
        print(f"the sync ended {time.monotonic() - lost:.1f} s after the database was lost")
        ids = [contact["external_id"] for contact in contacts_of(account)]
        assert len(ids) == CONTACTS
        assert len(set(ids)) == CONTACTS
