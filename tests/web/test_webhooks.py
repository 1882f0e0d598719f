"""Webhooks in the web UI: a subscription created with its secret shown once, a delivery the
receiver first refused shown with its attempt, sent again with the Redeliver button, and the
subscription deleted."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from standardwebhooks import Webhook

from tests.conftest import as_account
from tests.web.conftest import HubAccount, WebHub
from tests.web.desks import synchronize
from tests.webhooks.receiver import serving_receiver


def test_a_webhook_is_created_its_deliveries_shown_redelivered_and_deleted(
    web_hub: WebHub, connected_account: HubAccount, account_page: Page
) -> None:
    page = account_page
    with serving_receiver() as receiver:
        receiver.answers = [500]
        page.goto("/ui/webhooks")
        page.get_by_label("URL", exact=True).fill(receiver.url)
        page.get_by_label("sync.succeeded").check()
        page.get_by_role("button", name="Create webhook").click()
        secret = page.locator("#new-secret .secret").inner_text()
        assert secret.startswith("whsec_")
        page.goto("/ui/webhooks")
        assert secret not in page.content(), "the secret is shown only once"

        activations = web_hub.api.get(
            "/v1/activations", headers=as_account(connected_account.key)
        ).json()["items"]
        assert synchronize(web_hub, connected_account, activations[0]["id"])["status"] == (
            "succeeded"
        )
        page.get_by_role("link", name=receiver.url).click()
        _reload_until(page, "500")
        page.get_by_role("button", name=re.compile(r"^Redeliver")).click()
        expect(page.get_by_text("Delivery queued again.")).to_be_visible()
        _reload_until(page, "204")

        verifier = Webhook(secret)
        for received in receiver.received:
            verifier.verify(received.body, received.headers)

    page.goto("/ui/webhooks")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=re.compile(r"^Delete")).click()
    expect(page.get_by_text("Webhook deleted.")).to_be_visible()
    expect(page.get_by_text("No webhooks yet")).to_be_visible()


def _reload_until(page: Page, text: str) -> None:
    """Reload the deliveries until `text` shows (the hub's worker delivers meanwhile)."""
    for _ in range(100):
        if page.locator(".attempts").get_by_text(text).count():
            return
        page.wait_for_timeout(200)
        page.reload()
    raise AssertionError(f"{text!r} never showed among the attempts")
