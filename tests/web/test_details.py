"""Small things a person notices: where focus lands, and a picture that does not load."""

from __future__ import annotations

from playwright.sync_api import Page, Route, expect

from tests.web.conftest import Browsing, HubAccount, WebHub, sign_in
from tests.web.test_activity import MISSED_CALL_TICKET, api_as


def test_the_sign_in_page_starts_in_the_key_field(page: Page) -> None:
    page.goto("/ui/sign-in")
    expect(page.get_by_label("API key")).to_be_focused()


def test_after_a_lookup_focus_is_on_its_answer(account_page: Page) -> None:
    page = account_page
    page.goto("/ui/screen-pop")
    expect(page.get_by_label("Caller's phone number")).to_be_focused()
    page.keyboard.type("+1 202 555 0199")
    page.keyboard.press("Enter")
    answer = page.get_by_role("status")
    expect(answer).to_contain_text("Call from +1 202 555 0199")
    expect(answer).to_be_focused()


def test_a_logo_that_does_not_load_leaves_the_initial(
    account_page: Page, web_hub: WebHub, browsing: Browsing
) -> None:
    logo = web_hub.api.get("/v1/integrations/demo-helpdesk").json()["logo_url"]
    assert logo
    browsing.error_pages.add(logo)  # the browser notes the 404 in its console

    def missing(route: Route) -> None:
        route.fulfill(status=404, content_type="text/plain", body="gone")

    account_page.route(logo, missing)
    account_page.goto("/ui/catalog")
    card = account_page.locator("#integration-demo-helpdesk")
    expect(card.locator("img")).to_have_count(0)
    expect(card.locator(".picture")).to_have_text("D")
    box = card.locator(".picture").bounding_box()
    assert box is not None
    assert (box["width"], box["height"]) == (48, 48)
    # Loaded, the logo covers its placeholder.
    account_page.unroute(logo)
    account_page.goto("/ui/integrations/demo-crm")
    expect(account_page.locator(".integration-header img")).to_be_visible()


def test_disconnecting_names_the_automations_it_stops_in_words(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    api_as(web_hub, connected_account, "POST", "/v1/automations", **MISSED_CALL_TICKET)
    sign_in(page, connected_account.key)
    page.goto("/ui/integrations/demo-helpdesk/disconnect")
    stopped = page.get_by_role("region", name="Disconnect Demo Helpdesk?").get_by_role("listitem")
    expect(stopped).to_have_text(["When a call is missed, then create a ticket"])
