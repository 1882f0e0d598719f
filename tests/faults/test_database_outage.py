"""Losing the database for real: the embedded PostgreSQL's postmaster killed with SIGKILL in
the middle of a sync, under a running `bridgehub serve`. The hub answers 503 while it is
away, brings it back by itself, and the sync ends with every contact exactly once, without
the hub being restarted."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from bridgehub.demo.helpdesk import HELPDESK, configurations
from tests.conftest import ADMIN_KEY, as_account
from tests.helpdesk_fixtures import CONTACTS, Helpdesk
from tests.test_serve import free_port, running_hub

RECOVERY_BUDGET = 60.0
"""Seconds within which the hub must serve again after losing its database."""


@pytest.fixture
def hub_url(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    settings = {
        "BRIDGEHUB_ADMIN_KEY": ADMIN_KEY,
        # The bridge of this test runs on 127.0.0.1 over plain HTTP.
        "BRIDGEHUB_ALLOW_PRIVATE_NETWORKS": "true",
        "BRIDGEHUB_ALLOW_HTTP": "true",
    }
    with (tmp_path / "serve.log").open("w") as log, running_hub(tmp_path, port, settings, log):
        yield f"http://127.0.0.1:{port}"


def test_a_killed_embedded_database_comes_back_and_the_sync_ends_complete(
    tmp_path: Path, hub_url: str, helpdesk: Helpdesk
) -> None:
    helpdesk.control.delay = 0.3  # pages slow enough to lose the database in the middle
    with _connected_account(hub_url, helpdesk) as (account, activation_id):
        started = account.post(f"/v1/activations/{activation_id}/sync", json={})
        assert started.status_code == 202, started.text
        run_id = started.json()["run_id"]
        _wait(lambda: _run(account, run_id)["pages"] >= 2, "two pages written", 30)

        os.kill(_postmaster_pid(tmp_path), signal.SIGKILL)
        killed = time.monotonic()
        answers = _health_until_back(hub_url, deadline=killed + RECOVERY_BUDGET)
        print(f"serving again {time.monotonic() - killed:.1f} s after the database was killed")

        assert (503, "database_unavailable") in answers, "no answer while the database was away"
        assert {answer for answer in answers if answer[0] != 200} == {(503, "database_unavailable")}
        _wait(lambda: _run(account, run_id)["status"] == "succeeded", "the sync to end", 90)
        ids = [contact["external_id"] for contact in _contacts(account)]
        assert len(ids) == CONTACTS
        assert len(set(ids)) == CONTACTS


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
        response = httpx.get(f"{hub_url}/health", timeout=10)
        code = None if response.status_code == 200 else response.json()["error"]["code"]
        answers.append((response.status_code, code))
        if response.status_code == 200 and len(answers) > 1:
            return answers
        time.sleep(0.05)
    raise AssertionError(f"the hub did not serve again within {RECOVERY_BUDGET:g} s: {answers}")


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
