"""Losing the database for real, in the middle of a sync under a running `bridgehub serve`:
the embedded PostgreSQL's postmaster killed with SIGKILL, or a standalone server stopped
and started again. The hub answers 503 while it is away, serves again when it is back (the
embedded one it brings back by itself), and the sync ends with every contact exactly once,
without the hub being restarted."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bridgehub.demo.helpdesk import HELPDESK, configurations
from tests.conftest import ADMIN_KEY, as_account
from tests.executions.test_executions import ACTION, TICKET
from tests.helpdesk_fixtures import CONTACTS, Helpdesk
from tests.standalone_postgres import StandaloneServer
from tests.test_serve import free_port, running_hub

BURST = 40
"""Executions asked for at once, the database killed right after."""
RECOVERY_BUDGET = 60.0
"""Seconds within which the hub must serve again after losing its database."""


HUB_SETTINGS = {
    "BRIDGEHUB_ADMIN_KEY": ADMIN_KEY,
    # The bridge of these tests runs on 127.0.0.1 over plain HTTP.
    "BRIDGEHUB_ALLOW_PRIVATE_NETWORKS": "true",
    "BRIDGEHUB_ALLOW_HTTP": "true",
}


def test_a_killed_embedded_database_comes_back_and_the_sync_ends_complete(
    tmp_path: Path, helpdesk: Helpdesk
) -> None:
    with _serving(tmp_path, HUB_SETTINGS) as hub_url:
        _lose_the_database_mid_sync(
            hub_url,
            helpdesk,
            lose=lambda: os.kill(_postmaster_pid(tmp_path), signal.SIGKILL),
            bring_back=lambda: None,  # the hub's own work
        )


def test_a_standalone_server_stopped_and_started_again_is_found_again(
    tmp_path: Path, helpdesk: Helpdesk, standalone_postgres: StandaloneServer
) -> None:
    settings = {**HUB_SETTINGS, "DATABASE_URL": standalone_postgres.url}
    with _serving(tmp_path, settings) as hub_url:
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
        _serving(tmp_path, HUB_SETTINGS) as hub_url,
        _connected_account(hub_url, helpdesk) as (account, _),
    ):
        ids = [
            account.post("/v1/executions", json={"action": ACTION, "data": TICKET}).json()["id"]
            for _ in range(BURST)
        ]
        os.kill(_postmaster_pid(tmp_path), signal.SIGKILL)
        lost = time.monotonic()
        _health_until_back(hub_url, deadline=lost + RECOVERY_BUDGET)

        def ended() -> list[str]:
            statuses = [account.get(f"/v1/executions/{each}").json()["status"] for each in ids]
            return [status for status in statuses if status not in ("queued", "running")]

        _wait(lambda: len(ended()) == BURST, "every execution to end", 90)
        print(f"the executions ended {time.monotonic() - lost:.1f} s after the database was lost")
        assert ended() == ["succeeded"] * BURST


def _lose_the_database_mid_sync(
    hub_url: str, helpdesk: Helpdesk, lose: Callable[[], None], bring_back: Callable[[], None]
) -> None:
    helpdesk.control.delay = 0.3  # pages slow enough to lose the database in the middle
    with _connected_account(hub_url, helpdesk) as (account, activation_id):
        started = account.post(f"/v1/activations/{activation_id}/sync", json={})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        _wait(lambda: _run(account, run_id)["pages"] >= 2, "two pages written", 30)

        lose()
        lost = time.monotonic()
        away = _health(hub_url)
        assert _health(hub_url, "/health/ready") == (503, "database_unavailable")
        assert _health(hub_url, "/health/live") == (200, None)
        bring_back()
        answers = [away, *_health_until_back(hub_url, deadline=lost + RECOVERY_BUDGET)]
        print(f"serving again {time.monotonic() - lost:.1f} s after the database was lost")

        assert (503, "database_unavailable") in answers, "no answer while the database was away"
        assert {answer for answer in answers if answer[0] != 200} == {(503, "database_unavailable")}
        _wait(lambda: _run(account, run_id)["status"] == "succeeded", "the sync to end", 90)
        print(f"the sync ended {time.monotonic() - lost:.1f} s after the database was lost")
        ids = [contact["external_id"] for contact in _contacts(account)]
        assert len(ids) == CONTACTS
        assert len(set(ids)) == CONTACTS


@contextmanager
def _serving(home: Path, settings: dict[str, str]) -> Iterator[str]:
    port = free_port()
    with (home / "serve.log").open("w") as log, running_hub(home, port, settings, log):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def _connected_account(hub_url: str, helpdesk: Helpdesk) -> Iterator[tuple[httpx.Client, str]]:
    """A new account of the hub with the helpdesk connected: its client and activation id."""
    with httpx.Client(base_url=hub_url, headers=as_account(ADMIN_KEY), timeout=10) as admin:
        for document in configurations(helpdesk.url, "http://127.0.0.1:9", "unused", "unused"):
            if document.get("name") == HELPDESK or document.get("provider") == HELPDESK:
                path = "/v1/actions" if "provider" in document else "/v1/integrations"
                assert admin.post(path, json=document).status_code == 201
        created = admin.post("/v1/accounts", json={"name": "Acme", "default_region": "US"})
    key = created.json()["api_key"]
    with httpx.Client(base_url=hub_url, headers=as_account(key), timeout=10) as account:
        login = helpdesk.database.accounts()[0]
        auth = {"subdomain": login.url, "email": login.email, "api_token": login.api_token}
        activation = account.post("/v1/activations", json={"integration": HELPDESK, "auth": auth})
        assert activation.status_code == 201, activation.text
        yield account, activation.json()["id"]


def _postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split()[0])


def _health_until_back(hub_url: str, deadline: float) -> list[tuple[int, str | None]]:
    """Every answer of `/health` (status and error code) from now until it is healthy."""
    answers: list[tuple[int, str | None]] = []
    while time.monotonic() < deadline:
        answers.append(_health(hub_url))
        if answers[-1][0] == 200:
            return answers
        time.sleep(0.05)
    raise AssertionError(f"the hub did not serve again within {RECOVERY_BUDGET:g} s: {answers}")


def _health(hub_url: str, path: str = "/health") -> tuple[int, str | None]:
    """A health probe's status and error code."""
    response = httpx.get(f"{hub_url}{path}", timeout=10)
    return response.status_code, None if response.is_success else response.json()["error"]["code"]


def _run(account: httpx.Client, run_id: str) -> dict[str, Any]:
    response = account.get(f"/v1/sync-runs/{run_id}")
    if response.status_code != 200:  # the database may still be coming back
        return {"pages": 0, "status": "unknown"}
    run: dict[str, Any] = response.json()
    return run


def _contacts(account: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = account.get("/v1/contacts", params=params).json()
        found.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def _wait(condition: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds:g} s for {what}")
