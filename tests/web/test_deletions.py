"""Deletions in the web UI: a full contact sync asked from the integration's page, the
removals it holds shown on the dashboard and its run's page, and confirmed there."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.conftest import as_account
from tests.contacts.directory_bridge import NAME, Directory
from tests.web.conftest import HubAccount, WebHub
from tests.web.desks import synchronize

CONTACTS = 10
KEPT = 3


def test_held_removals_are_shown_and_confirmed_from_the_sync_page(
    web_hub: WebHub, account: HubAccount, account_page: Page, directory: Directory
) -> None:
    for number in range(CONTACTS):
        directory.put(str(number), f"Person {number}", f"+1415555{number:04d}")
    web_hub.api.post("/v1/integrations", json=directory.integration()).raise_for_status()
    try:
        activation = web_hub.api.post(
            "/v1/activations", json={"integration": NAME}, headers=as_account(account.key)
        )
        assert activation.status_code == 201, activation.text
        assert synchronize(web_hub, account, activation.json()["id"])["created"] == CONTACTS
        # The bridge has a bad day: most of its contacts are missing from a full sync.
        directory.omits = {str(number) for number in range(KEPT, CONTACTS)}
        page = account_page
        page.goto(f"/ui/integrations/{NAME}")
        page.get_by_role("button", name="Full contact sync").click()
        held = f"{CONTACTS - KEPT} removals held"
        assert _reload_until(page, held), "the full sync's held removals never showed"

        page.goto("/ui/dashboard")
        page.get_by_role("link", name=re.compile(held)).click()
        expect(page.get_by_role("heading", name="Removals held")).to_be_visible()
        page.get_by_role("button", name=f"Remove {CONTACTS - KEPT} contact(s)").click()
        expect(page.get_by_text(f"{CONTACTS - KEPT} contact(s) removed.")).to_be_visible()
        stored = web_hub.api.get(
            "/v1/contacts", params={"limit": "100"}, headers=as_account(account.key)
        ).json()["items"]
        assert sorted(c["external_id"] for c in stored) == [str(n) for n in range(KEPT)]
    finally:
        web_hub.api.delete(f"/v1/integrations/{NAME}", params={"force": "true"})


def _reload_until(page: Page, text: str) -> bool:
    """Reload the page until `text` shows (the hub's worker runs the sync meanwhile)."""
    for _ in range(100):
        if page.get_by_text(text).count():
            return True
        page.wait_for_timeout(200)
        page.reload()
    return False
