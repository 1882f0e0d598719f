"""Two helpdesks for the web UI's tests of synced contacts (the contacts pages, the screen
pop): demo helpdesk bridges (`bridgehub.demo.helpdesk`) served on 127.0.0.1 under catalog
names of their own, so that their contacts and staged failures touch no other test.
"Northwind Desk" holds seeded contacts and the ones below; "Contoso Support" holds none.
Each takes the demo helpdesk's actions (create a ticket, create a contact).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import Page

from bridgehub.demo.helpdesk import HELPDESK, HelpdeskBridge
from bridgehub.demo.helpdesk_seed import seed
from bridgehub.demo.helpdesk_store import (
    ContactDetails,
    HelpdeskAccount,
    HelpdeskDatabase,
    InteractionDetails,
)
from bridgehub.demo.serving import serve
from tests.conftest import as_account
from tests.web.conftest import Browsing, HubAccount, WebHub, sign_in

SEEDED_CONTACTS = 30

ADA = ContactDetails(
    name="Ada Lovelace",
    company="Analytical Engines",
    title="Head of Support",
    emails=("ada@engines.example",),
    phones=("+1 415 555 0042", "+44 20 7946 0999"),
    photo_url="https://avatars.engines.example/ada.png",
    address="12 Market Street, San Francisco",
    websites=("https://engines.example", "www.engines.example/support"),
    twitter="@adalovelace",
)
MALLORY = ContactDetails(
    name="Mallory Quinn",
    emails=("mallory@intruder.example",),
    photo_url="javascript:alert(3)",
    websites=("javascript:alert(1)", "data:text/html,<script>alert(2)</script>"),
    twitter="javascript:alert(4)",
)
GRACE = ContactDetails(name="Grace Hopper", phones=("+44 20 7946 0018",))
ALAN = ContactDetails(name="Alan Turing", phones=("020 7946 0018",), country="GB")
"""Alan's number keeps its trunk prefix without a country code: read in the account's
region (US) it only ends like Grace's."""

NOW = datetime.now(UTC)
ADA_TICKETS = (
    (InteractionDetails("ticket", "Welcome call", None, "none", "closed"), timedelta(days=40)),
    (
        InteractionDetails("ticket", "Printer on fire", "Smoke from tray 2.", "urgent", "open"),
        timedelta(hours=1),
    ),
    (
        InteractionDetails("ticket", "Copy of the March invoice", None, "low", "solved"),
        timedelta(days=10),
    ),
)
ADA_SUBJECTS_NEWEST_FIRST = ["Printer on fire", "Copy of the March invoice", "Welcome call"]


@dataclass
class Desk:
    """A helpdesk bridge served for these tests, registered under its own name."""

    integration: str
    display_name: str
    bridge: HelpdeskBridge
    login: HelpdeskAccount

    @property
    def auth(self) -> dict[str, str]:
        subdomain = self.login.url.removeprefix("https://").split(".", 1)[0]
        return {
            "subdomain": subdomain,
            "email": self.login.email,
            "api_token": self.login.api_token,
        }


@dataclass
class Desks:
    northwind: Desk
    contoso: Desk


@contextmanager
def serving_desks(web_hub: WebHub) -> Iterator[Desks]:
    """The two helpdesks, served and registered in the hub's catalog while in use."""
    suffix = uuid.uuid4().hex[:6]
    northwind_data = HelpdeskDatabase()
    seed(northwind_data, count_contacts=SEEDED_CONTACTS, count_agents=2, interactions_per_contact=2)
    ada = northwind_data.add_contact(ADA)
    for details, age in ADA_TICKETS:
        northwind_data.add_interaction(details, contact_id=ada.id, date=NOW - age)
    for contact in (MALLORY, GRACE, ALAN):
        northwind_data.add_contact(contact)
    contoso_data = HelpdeskDatabase()
    contoso_data.add_account(
        "https://contoso.helpdesk.example", "agent@contoso.example", uuid.uuid4().hex
    )
    with ExitStack() as stack:
        desks = Desks(
            northwind=stack.enter_context(
                serving_desk(web_hub, northwind_data, f"northwind-{suffix}", "Northwind Desk")
            ),
            contoso=stack.enter_context(
                serving_desk(web_hub, contoso_data, f"contoso-{suffix}", "Contoso Support")
            ),
        )
        yield desks


@contextmanager
def serving_desk(
    web_hub: WebHub, database: HelpdeskDatabase, name: str, display_name: str
) -> Iterator[Desk]:
    bridge = HelpdeskBridge(database, token_is_valid=lambda _: False, page_size=10)
    with serve(bridge.app) as url:
        documents = bridge.configurations(url, "http://127.0.0.1:9", "unused", "unused")
        document: dict[str, Any] = next(d for d in documents if d.get("name") == HELPDESK)
        document |= {
            "name": name,
            "display_name": display_name,
            "icon_url": f"https://{name}.example/icon.png",
        }
        web_hub.api.post("/v1/integrations", json=document).raise_for_status()
        for action in documents:
            if action.get("provider") == HELPDESK:
                web_hub.api.post("/v1/actions", json=action | {"provider": name}).raise_for_status()
        try:
            yield Desk(name, display_name, bridge, database.accounts()[0])
        finally:
            web_hub.api.delete(f"/v1/integrations/{name}", params={"force": "true"})
            database.close()


def connect(web_hub: WebHub, account: HubAccount, desk: Desk) -> str:
    """Activate `desk` for the account; answers the activation's id."""
    created = web_hub.api.post(
        "/v1/activations",
        json={"integration": desk.integration, "auth": desk.auth},
        headers=as_account(account.key),
    )
    assert created.status_code == 201, created.text
    activation_id: str = created.json()["id"]
    return activation_id


def synchronize(
    web_hub: WebHub, account: HubAccount, activation_id: str, what: str = "contacts"
) -> dict[str, Any]:
    """Ask for a sync through the API and answer its run once the hub's worker finished it."""
    headers = as_account(account.key)
    started = web_hub.api.post(
        f"/v1/activations/{activation_id}/sync", json={"what": what}, headers=headers
    )
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run: dict[str, Any] = web_hub.api.get(
            f"/v1/sync-runs/{started.json()['run_id']}", headers=headers
        ).json()
        if run["status"] in ("succeeded", "failed"):
            return run
        time.sleep(0.1)
    raise AssertionError(f"the {what} sync did not finish within 60 s")


def connect_and_sync(web_hub: WebHub, account: HubAccount, desks: Desks) -> None:
    for desk in (desks.northwind, desks.contoso):
        run = synchronize(web_hub, account, connect(web_hub, account, desk))
        assert run["status"] == "succeeded", run


@pytest.fixture(scope="module")
def desks(web_hub: WebHub) -> Iterator[Desks]:
    with serving_desks(web_hub) as served:
        yield served


@pytest.fixture
def synced_page(
    page: Page, web_hub: WebHub, account: HubAccount, desks: Desks, browsing: Browsing
) -> Page:
    """A page signed in to an account with both helpdesks connected and synced."""
    browsing.secrets |= {desks.northwind.login.api_token, desks.contoso.login.api_token}
    connect_and_sync(web_hub, account, desks)
    sign_in(page, account.key)
    return page
