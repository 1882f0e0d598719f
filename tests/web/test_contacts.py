"""Contacts synced for real from the helpdesk bridges of `tests.web.desks`: searching them,
a contact's details and interactions, a failing integration, and bridge text kept safe."""

from __future__ import annotations

import re
import uuid
from typing import Any

from playwright.sync_api import Page, expect

from bridgehub.bridge.client import RetryPolicy
from tests.conftest import as_account
from tests.web.conftest import Browsing, HubAccount, WebHub, create_account, screenshot, sign_in
from tests.web.desks import ADA_SUBJECTS_NEWEST_FIRST, SEEDED_CONTACTS, Desks, connect

INTERACTIONS_ENDPOINT = "/helpdesk/interactions"


def _rows(page: Page) -> Any:
    return page.locator(".contact-row")


def _search(page: Page, text: str) -> None:
    page.get_by_label("Search contacts").fill(text)
    page.get_by_role("button", name="Search").click()


def test_contacts_are_listed_newest_first_and_paged(synced_page: Page) -> None:
    page = synced_page
    page.get_by_role("link", name="Contacts").click()
    expect(page).to_have_url("/ui/contacts")
    expect(page.get_by_role("heading", name="Contacts", level=1)).to_be_visible()
    rows = _rows(page)
    expect(rows).to_have_count(25)
    # Changed last at the bridge, so synced last: listed first.
    newest = rows.locator(".contact-row__name").all_text_contents()[:4]
    assert sorted(newest) == ["Ada Lovelace", "Alan Turing", "Grace Hopper", "Mallory Quinn"]
    ada = rows.filter(has_text="Ada Lovelace")
    expect(ada.locator(".source__name")).to_have_text("Northwind Desk")
    expect(ada.locator(".source img")).to_have_attribute(
        "src", re.compile(r"^https://northwind-[0-9a-f]{6}\.example/icon\.png$")
    )
    expect(ada.get_by_role("link", name="+1 415 555 0042")).to_have_attribute(
        "href", "tel:+14155550042"
    )
    expect(ada.get_by_role("link", name="ada@engines.example")).to_have_attribute(
        "href", "mailto:ada@engines.example"
    )
    expect(ada).to_contain_text("Head of Support, Analytical Engines")
    screenshot(page, "contacts")

    page.get_by_role("link", name="Next page").click()
    expect(rows).to_have_count(SEEDED_CONTACTS + 4 - 25)
    expect(page.get_by_role("link", name="Next page")).to_have_count(0)
    page.get_by_role("link", name="First page").click()
    expect(rows).to_have_count(25)


def test_contacts_are_found_by_name_email_and_phone(synced_page: Page) -> None:
    page = synced_page
    page.goto("/ui/contacts")
    for search, kind in [
        ("ada lov", "name or company"),
        ("analytical eng", "name or company"),
        ("ADA@Engines.example", "email"),
        ("(415) 555-0042", "phone number"),
        ("+1 415.555.0042", "phone number"),
    ]:
        _search(page, search)
        expect(page.get_by_role("status")).to_contain_text(f"Contacts whose {kind} matches")
        expect(_rows(page).locator(".contact-row__name")).to_have_text(["Ada Lovelace"])
        expect(page.get_by_label("Search contacts")).to_have_value(search)

    _search(page, "Nobody Byname")
    expect(page.get_by_role("status")).to_contain_text(
        "No contact's name or company matches “Nobody Byname”."
    )
    expect(_rows(page)).to_have_count(0)
    page.get_by_role("link", name="Show all contacts").click()
    expect(_rows(page)).to_have_count(25)


def test_a_contact_shows_its_details_and_interactions_newest_first(synced_page: Page) -> None:
    page = synced_page
    page.goto("/ui/contacts?search=lovelace")
    page.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()
    details = page.locator(".facts")
    expect(details).to_contain_text("Analytical Engines")
    expect(details).to_contain_text("12 Market Street, San Francisco")
    expect(details.get_by_role("link", name="+44 20 7946 0999")).to_have_attribute(
        "href", "tel:+442079460999"
    )
    expect(details).to_contain_text("+442079460999")
    expect(details.get_by_role("link", name="https://engines.example")).to_have_attribute(
        "href", "https://engines.example"
    )
    expect(details.get_by_role("link", name="www.engines.example/support")).to_have_attribute(
        "href", "https://www.engines.example/support"
    )
    expect(details.get_by_role("link", name="@adalovelace")).to_have_attribute(
        "href", "https://twitter.com/adalovelace"
    )

    interactions = page.locator(".interaction")
    expect(interactions.locator(".interaction__title")).to_have_text(ADA_SUBJECTS_NEWEST_FIRST)
    urgent = interactions.first
    expect(urgent.locator(".badge")).to_have_text(["Open", "Urgent priority"])
    expect(urgent.locator(".source__name")).to_have_text("Northwind Desk")
    expect(urgent.get_by_role("link")).to_have_attribute(
        "href", re.compile(r"^https://acme\.helpdesk\.example/tickets/\d+$")
    )
    expect(interactions.nth(2).locator(".badge")).to_have_text(["Closed"])
    expect(page.get_by_role("alert")).to_have_count(0)
    screenshot(page, "contact")


def test_a_failing_integration_is_named_and_the_others_still_show(
    synced_page: Page, desks: Desks
) -> None:
    page = synced_page
    # Every attempt the hub makes fails: interaction retrieval is retried on a 503.
    desks.contoso.bridge.fail_next(INTERACTIONS_ENDPOINT, RetryPolicy().attempts, 503)
    page.goto("/ui/contacts?search=ada@engines.example")
    page.get_by_role("link", name="Ada Lovelace").click()
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("1 integration could not be asked")
    expect(alert.locator(".failure")).to_have_text(
        re.compile(
            r"^Contoso Support: The bridge's interaction retrieval endpoint \(.+\) answered 503 "
            rf"Service Unavailable\. Gave up after {RetryPolicy().attempts} attempts\.$"
        )
    )
    expect(page.locator(".interaction__title")).to_have_text(ADA_SUBJECTS_NEWEST_FIRST)


def test_bridge_urls_that_are_not_http_are_never_links(synced_page: Page) -> None:
    page = synced_page
    page.goto("/ui/contacts?search=mallory")
    page.get_by_role("link", name="Mallory Quinn").click()
    details = page.locator(".facts")
    for text in ("javascript:alert(1)", "data:text/html,<script>alert(2)</script>"):
        expect(details.locator(".unlinked", has_text=text)).to_be_visible()
    expect(details.locator(".unlinked", has_text="javascript:alert(4)")).to_be_visible()
    expect(page.locator("[href*='javascript:'], [src*='javascript:']")).to_have_count(0)
    expect(page.locator("[href^='data:'], [src^='data:']")).to_have_count(0)
    expect(page.locator(".contact-header img")).to_have_count(0)


def test_without_an_integration_the_operator_is_told_to_connect_one(account_page: Page) -> None:
    account_page.goto("/ui/contacts")
    empty = account_page.locator(".empty-state")
    expect(empty).to_contain_text("No contacts yet")
    expect(empty).to_contain_text("Connect one that delivers contacts")
    empty.get_by_role("link", name="Browse the catalog").click()
    expect(account_page).to_have_url("/ui/catalog")


def test_without_contacts_yet_the_operator_can_sync_now(
    web_hub: WebHub, account: HubAccount, account_page: Page, desks: Desks, browsing: Browsing
) -> None:
    browsing.secrets.add(desks.contoso.login.api_token)
    activation_id = connect(web_hub, account, desks.contoso)
    web_hub.await_first_syncs(account.id)
    account_page.goto("/ui/contacts")
    empty = account_page.locator(".empty-state")
    expect(empty).to_contain_text("No contacts yet")
    empty.get_by_role("button", name="Sync contacts now from Contoso Support").click()
    expect(account_page.locator(".flash--success")).to_have_text(
        "Contacts are syncing from Contoso Support. Reload this page in a moment to see them."
    )
    runs = web_hub.api.get(
        "/v1/sync-runs", params={"activation_id": activation_id}, headers=as_account(account.key)
    ).json()["items"]
    assert next(run["trigger"] for run in runs if run["what"] == "contacts") == "manual"


def test_another_accounts_contact_is_not_found(
    synced_page: Page, web_hub: WebHub, browsing: Browsing
) -> None:
    page = synced_page
    page.goto("/ui/contacts?search=lovelace")
    page.get_by_role("link", name="Ada Lovelace").click()
    contact_url = page.url
    other = create_account(web_hub, f"Other {uuid.uuid4().hex[:6]}")
    browsing.secrets.add(other.key)
    try:
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_label("API key")).to_be_visible()
        sign_in(page, other.key)
        answer = page.goto(contact_url)
        assert answer is not None
        assert answer.status == 404
        expect(page.get_by_role("heading", level=1)).to_have_text("Not Found")
    finally:
        web_hub.api.delete(f"/v1/accounts/{other.id}")
