"""A real `bridgehub serve` for the fault tests that stop processes and databases: started
on its own data folder, an account with the demo helpdesk connected, and probes that read
its answers while it recovers."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import ADMIN_KEY, as_account
from tests.helpdesk_fixtures import Helpdesk, helpdesk_activation, helpdesk_catalog
from tests.processes import BRIDGES_ON_LOOPBACK, free_port, running_hub

HUB_SETTINGS = {"BRIDGEHUB_ADMIN_KEY": ADMIN_KEY, **BRIDGES_ON_LOOPBACK}


@contextmanager
def serving(home: Path, settings: dict[str, str]) -> Iterator[str]:
    port = free_port()
    with (home / "serve.log").open("w") as log, running_hub(home, port, settings, log):
        yield f"http://127.0.0.1:{port}"


@contextmanager
def connected_account(
    hub_url: str, helpdesk: Helpdesk, *, catalog: bool = True
) -> Iterator[tuple[httpx.Client, str]]:
    """A new account of the hub with the helpdesk connected (its integration put in the
    catalog first, unless it is there already): its client and activation id."""
    with httpx.Client(base_url=hub_url, headers=as_account(ADMIN_KEY), timeout=10) as admin:
        for path, document in helpdesk_catalog(helpdesk) if catalog else ():
            assert admin.post(path, json=document).status_code == 201
        # Named apart: several accounts may share one hub, and account names are unique.
        name = f"Acme {uuid.uuid4().hex[:6]}"
        created = admin.post("/v1/accounts", json={"name": name, "default_region": "US"})
    key = created.json()["api_key"]
    with httpx.Client(base_url=hub_url, headers=as_account(key), timeout=10) as account:
        activation = account.post("/v1/activations", json=helpdesk_activation(helpdesk))
        assert activation.status_code == 201, activation.text
        yield account, activation.json()["id"]


def postmaster_pid(home: Path) -> int:
    return int((home / "pgdata" / "postmaster.pid").read_text().split()[0])


def health_until_back(hub_url: str, deadline: float) -> list[tuple[int, str | None]]:
    """Every answer of `/health` (status and error code) from now until it is healthy."""
    answers: list[tuple[int, str | None]] = []
    while time.monotonic() < deadline:
        answers.append(health(hub_url))
        if answers[-1][0] == 200:
            return answers
        time.sleep(0.05)
    raise AssertionError(f"the hub did not serve again before its deadline: {answers}")


def health(hub_url: str, path: str = "/health") -> tuple[int, str | None]:
    """A health probe's status and error code."""
    response = httpx.get(f"{hub_url}{path}", timeout=10)
    return response.status_code, None if response.is_success else response.json()["error"]["code"]


def sync_run(account: httpx.Client, run_id: str) -> dict[str, Any]:
    response = account.get(f"/v1/sync-runs/{run_id}")
    if response.status_code != 200:  # the database may still be coming back
        return {"pages": 0, "status": "unknown"}
    run: dict[str, Any] = response.json()
    return run


def contacts_of(account: httpx.Client) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor: str | None = None
    while True:
        params = {"limit": "100", **({"cursor": cursor} if cursor else {})}
        page = account.get("/v1/contacts", params=params).json()
        found.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return found


def wait_for(condition: Callable[[], bool], what: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"waited {seconds:g} s for {what}")
