"""Connecting integrations from their pages: the demo helpdesk's form checked by its real
bridge, the demo CRM through the local OAuth 2.0 provider's consent page (standing in for
a SaaS provider), reconnecting, settings, syncing now, checking and disconnecting."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from bridgehub.activations.credentials import unseal
from bridgehub.vault import vault_from_settings
from tests.conftest import as_account
from tests.web.conftest import Browsing, HubAccount, WebHub, screenshot, sign_in

HELPDESK_PAGE = "/ui/integrations/demo-helpdesk"
CRM_PAGE = "/ui/integrations/demo-crm"


def activation_of(web_hub: WebHub, account: HubAccount, integration: str) -> list[Any]:
    """The account's activation of `integration` as (id, status, interaction_types,
    sync_interval_minutes, sealed_credentials), or no row."""
    return web_hub.sql(
        "SELECT a.id, a.status, a.interaction_types, a.sync_interval_minutes, "
        "a.sealed_credentials FROM activations a JOIN integrations i ON i.id = a.integration_id "
        "WHERE a.account_id = CAST(:account AS uuid) AND i.name = :integration",
        account=account.id,
        integration=integration,
    )


def keep_tokens_secret(web_hub: WebHub, account: HubAccount, browsing: Browsing) -> None:
    """Every OAuth 2.0 token the hub holds for the account's CRM must stay off the pages."""
    (row,) = activation_of(web_hub, account, "demo-crm")
    credentials = unseal(vault_from_settings(web_hub.settings), row[0], row[4])
    assert credentials.tokens["access_token"]
    browsing.secrets |= set(credentials.tokens.values())


@pytest.fixture
def crm_page(account_page: Page) -> Page:
    """Signed in as an account without the demo CRM, on the CRM's page."""
    account_page.goto(CRM_PAGE)
    return account_page


@pytest.fixture
def helpdesk_page(page: Page, connected_account: HubAccount) -> Page:
    """Signed in as the account whose demo helpdesk is connected, on the helpdesk's page."""
    sign_in(page, connected_account.key)
    page.goto(HELPDESK_PAGE)
    return page


def through_consent(page: Page) -> None:
    """At the provider: allow the connection, which brings the browser back to the hub."""
    expect(page.get_by_role("heading", name="Allow bridgehub to use your account?")).to_be_visible()
    page.get_by_role("button", name="Allow").click()


def test_wrong_then_right_credentials(
    account_page: Page, account: HubAccount, web_hub: WebHub, browsing: Browsing
) -> None:
    login = web_hub.demo.login
    wrong_token = "wrong-token-" + uuid.uuid4().hex
    browsing.secrets.add(wrong_token)
    subdomain = web_hub.demo.helpdesk_auth["subdomain"]
    page = account_page
    page.goto("/ui/catalog")
    page.get_by_role("link", name="Connect Demo Helpdesk").click()
    expect(page).to_have_url(re.compile(f"{HELPDESK_PAGE}$"))

    subdomain_field = page.locator(".field", has=page.get_by_label("Subdomain"))
    expect(subdomain_field.locator(".affix__text")).to_have_text(["https://", ".helpdesk.example"])
    expect(page.get_by_label("API token")).to_have_attribute("type", "password")
    expect(page.get_by_text("Find it under Admin > Channels > API.")).to_be_visible()
    expect(page.get_by_label("Helpdesk account")).to_have_count(0)  # filled by the bridge
    expect(page.get_by_label("ticket")).to_be_checked()

    page.get_by_label("Subdomain").fill(subdomain)
    page.get_by_label("Agent email").fill(login.email)
    page.get_by_label("API token").fill(wrong_token)
    page.get_by_role("button", name="Connect", exact=True).click()

    verdict = page.get_by_role("alert")
    expect(verdict).to_contain_text("Wrong credentials")
    expect(verdict).to_contain_text("Demo Helpdesk refused these credentials")
    expect(verdict).to_contain_text("nothing was saved")
    assert activation_of(web_hub, account, "demo-helpdesk") == []
    expect(page.get_by_label("Subdomain")).to_have_value(subdomain)
    expect(page.get_by_label("API token")).to_have_value("")
    expect(page.get_by_label("Agent email")).to_have_value(login.email)
    screenshot(page, "connect")

    page.get_by_label("API token").fill(login.api_token)
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator(".flash--success")).to_have_text(
        "Demo Helpdesk is connected: its bridge accepted the credentials."
    )
    expect(page.locator("h1 .badge")).to_have_text("Active")
    ((_, status, types, interval, _),) = activation_of(web_hub, account, "demo-helpdesk")
    assert (status, types, interval) == ("active", ["ticket"], 15)
    connection = page.locator("section", has=page.get_by_role("heading", name="Connection"))
    expect(connection).to_contain_text(f"https://{subdomain}.helpdesk.example")
    page.goto("/ui/catalog")
    expect(page.get_by_role("link", name="Manage Demo Helpdesk")).to_be_visible()


def test_refused_credentials_keep_what_a_person_typed_but_the_token(
    account_page: Page, account: HubAccount, web_hub: WebHub, browsing: Browsing
) -> None:
    typed_email = "agent." + uuid.uuid4().hex[:8] + "@acme.example"
    wrong_token = "wrong-token-" + uuid.uuid4().hex
    browsing.secrets.add(wrong_token)
    page = account_page
    page.goto(HELPDESK_PAGE)
    expect(page.get_by_label("Agent email")).to_have_attribute("type", "email")
    page.get_by_label("Subdomain").fill("acme")
    page.get_by_label("Agent email").fill(typed_email)
    page.get_by_label("API token").fill(wrong_token)
    page.get_by_role("button", name="Connect", exact=True).click()

    expect(page.get_by_role("alert")).to_contain_text("Demo Helpdesk refused these credentials")
    expect(page.get_by_label("Agent email")).to_have_value(typed_email)
    expect(page.get_by_label("Subdomain")).to_have_value("acme")
    expect(page.get_by_label("API token")).to_have_value("")
    expect(page.get_by_label("API token")).to_have_attribute("type", "password")
    assert activation_of(web_hub, account, "demo-helpdesk") == []


def test_a_missing_mandatory_field_is_named_and_nothing_is_stored(
    account_page: Page, account: HubAccount, web_hub: WebHub
) -> None:
    page = account_page
    page.goto(HELPDESK_PAGE)
    page.get_by_label("Subdomain").fill("acme")
    page.get_by_label("Agent email").fill("agent@acme.example")
    # The browser would refuse the empty field itself; the hub must too.
    page.get_by_label("API token").evaluate("input => input.removeAttribute('required')")
    page.get_by_role("button", name="Connect", exact=True).click()
    expect(page.locator("#auth-api_token-error")).to_have_text('"API token" is required')
    expect(page.get_by_label("API token")).to_have_attribute("aria-invalid", "true")
    assert activation_of(web_hub, account, "demo-helpdesk") == []


def test_oauth_connection_goes_through_the_provider_and_back(
    crm_page: Page, account: HubAccount, web_hub: WebHub, browsing: Browsing
) -> None:
    page = crm_page
    page.get_by_label("call").uncheck()
    page.get_by_role("button", name="Connect with Demo CRM").click()
    expect(page).to_have_url(re.compile(f"^{re.escape(web_hub.demo.provider_url)}/authorize"))
    through_consent(page)

    expect(page).to_have_url(re.compile(f"{CRM_PAGE}$"))
    expect(page.locator(".flash--success")).to_have_text("Demo CRM is connected.")
    expect(page.locator("h1 .badge")).to_have_text("Active")
    ((_, status, types, _, _),) = activation_of(web_hub, account, "demo-crm")
    assert (status, types) == ("active", ["deal"])
    keep_tokens_secret(web_hub, account, browsing)
    page.goto("/oauth/callback")  # the callback's cookie went with its one use
    expect(page.get_by_role("heading", name="Not connected")).to_be_visible()


def test_a_denied_authorization_comes_back_with_the_reason(crm_page: Page) -> None:
    page = crm_page
    page.get_by_role("button", name="Connect with Demo CRM").click()
    page.get_by_role("button", name="Deny").click()
    expect(page).to_have_url(re.compile(f"{CRM_PAGE}$"))
    expect(page.locator(".flash--error")).to_contain_text("did not authorize the connection")
    expect(page.locator("h1 .badge")).to_have_text("Authorization not finished")
    expect(page.get_by_role("button", name="Continue with Demo CRM")).to_be_visible()
    connection = page.get_by_role("region", name="Connection")
    expect(connection).to_contain_text("the authorization was not finished")
    expect(connection).not_to_contain_text("Connected")


def test_an_api_started_authorization_keeps_its_own_page(
    page: Page, account: HubAccount, web_hub: WebHub, browsing: Browsing
) -> None:
    response = web_hub.api.post(
        "/v1/activations", json={"integration": "demo-crm"}, headers=as_account(account.key)
    )
    assert response.status_code == 201, response.text
    page.goto(response.json()["authorize_url"])
    through_consent(page)
    expect(page).to_have_url(re.compile(r"/oauth/callback\?"))
    expect(page.get_by_role("status")).to_have_text(
        "Demo CRM is connected. You can close this window."
    )
    keep_tokens_secret(web_hub, account, browsing)


def test_oauth_reconnect_after_needs_reauthorization(
    crm_page: Page, account: HubAccount, web_hub: WebHub, browsing: Browsing
) -> None:
    page = crm_page
    page.get_by_role("button", name="Connect with Demo CRM").click()
    through_consent(page)
    expect(page.locator("h1 .badge")).to_have_text("Active")
    ((activation_id, *_),) = activation_of(web_hub, account, "demo-crm")
    web_hub.sql(
        "UPDATE activations SET status = 'needs_reauthorization', "
        "status_reason = 'Demo CRM refused the refresh token.' WHERE id = :id",
        id=activation_id,
    )
    page.reload()
    expect(page.locator("h1 .badge")).to_have_text("Needs reauthorization")
    expect(page.get_by_role("alert")).to_have_text("Demo CRM refused the refresh token.")
    page.get_by_role("button", name="Reconnect with Demo CRM").click()
    through_consent(page)
    expect(page.locator(".flash--success")).to_have_text("Demo CRM is connected.")
    expect(page.locator("h1 .badge")).to_have_text("Active")
    keep_tokens_secret(web_hub, account, browsing)


def test_form_reconnect_after_needs_reauthorization(
    page: Page, connected_account: HubAccount, web_hub: WebHub, browsing: Browsing
) -> None:
    ((activation_id, *_),) = activation_of(web_hub, connected_account, "demo-helpdesk")
    web_hub.sql(
        "UPDATE activations SET status = 'needs_reauthorization' WHERE id = :id", id=activation_id
    )
    sign_in(page, connected_account.key)
    page.goto(HELPDESK_PAGE)
    reconnect = page.locator("section", has=page.get_by_role("heading", name="Reconnect"))
    expect(reconnect.get_by_label("Subdomain")).to_have_value(
        web_hub.demo.helpdesk_auth["subdomain"]
    )
    expect(reconnect.get_by_label("Agent email")).to_have_value(web_hub.demo.login.email)
    expect(reconnect.get_by_label("API token")).to_have_value("")
    reconnect.get_by_label("API token").fill("still-wrong-" + uuid.uuid4().hex)
    reconnect.get_by_role("button", name="Reconnect").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong credentials")
    expect(page.locator("h1 .badge")).to_have_text("Needs reauthorization")
    expect(reconnect.get_by_label("Agent email")).to_have_value(web_hub.demo.login.email)

    reconnect.get_by_label("API token").fill(web_hub.demo.login.api_token)
    reconnect.get_by_role("button", name="Reconnect").click()
    expect(page.locator(".flash--success")).to_contain_text("Demo Helpdesk is connected")
    expect(page.locator("h1 .badge")).to_have_text("Active")
    assert activation_of(web_hub, connected_account, "demo-helpdesk")[0][1] == "active"


def test_interaction_types_and_interval_change(
    helpdesk_page: Page, connected_account: HubAccount, web_hub: WebHub
) -> None:
    page = helpdesk_page
    settings = page.locator("section", has=page.get_by_role("heading", name="Settings"))
    settings.get_by_label("ticket").uncheck()
    settings.get_by_label("Sync contacts every (minutes)").fill("45")
    settings.get_by_role("button", name="Save settings").click()
    expect(page.locator(".flash--success")).to_have_text("Settings saved.")
    expect(settings.get_by_label("ticket")).not_to_be_checked()
    expect(settings.get_by_label("Sync contacts every (minutes)")).to_have_value("45")
    ((_, _, types, interval, _),) = activation_of(web_hub, connected_account, "demo-helpdesk")
    assert (types, interval) == ([], 45)

    settings.get_by_label("ticket").check()
    settings.get_by_label("Sync contacts every (minutes)").evaluate(
        "input => { input.removeAttribute('max'); input.value = '20000'; }"
    )
    settings.get_by_role("button", name="Save settings").click()
    expect(settings.locator(".field__error")).to_contain_text("from 1 to 10080")
    ((_, _, types, interval, _),) = activation_of(web_hub, connected_account, "demo-helpdesk")
    assert (types, interval) == ([], 45)


def test_sync_now_queues_a_run_that_turns_succeeded_without_a_reload(
    helpdesk_page: Page, connected_account: HubAccount, web_hub: WebHub
) -> None:
    page = helpdesk_page
    web_hub.await_first_syncs(connected_account.id)
    # The bridge asks the hub to come back twice before answering the first page, so the run
    # is still unfinished when the page shows it.
    web_hub.demo.bridge.fail_next("/helpdesk/contact_sync", 2, 503, retry_after=2)
    page.get_by_role("button", name="Sync contacts now").click()
    expect(page.locator(".flash--success")).to_contain_text(
        re.compile(r"The contacts sync is (queued|running)")
    )
    # The newest run: the activation's first one, when it had not ended yet, or a new one.
    ((run_id,),) = web_hub.sql(
        "SELECT r.id FROM sync_runs r JOIN activations a ON a.id = r.activation_id "
        "WHERE a.account_id = CAST(:account AS uuid) AND r.kind = 'contacts' "
        "ORDER BY r.created_at DESC LIMIT 1",
        account=connected_account.id,
    )
    row = page.locator(f"#run-{run_id}")
    expect(row.get_by_role("link")).to_have_attribute("href", f"/ui/activity/syncs/{run_id}")
    badge = row.locator(".badge")
    assert badge.inner_text() in ("queued", "running")
    expect(row).to_contain_text("—")
    page.evaluate("window.stillTheSamePage = true")

    # The hub's own worker runs it; the page follows it and says how it went.
    expect(badge).to_have_text("succeeded", timeout=30_000)
    expect(badge).to_have_class("badge badge--success")
    # The activation's first sync brought the contacts: a later run finds what changed since.
    expect(row).to_contain_text(re.compile(r"\d+ new, \d+ changed, \d+ unchanged"))
    expect(row.locator("[data-live-field=finished_at]")).to_have_text(re.compile(r"UTC$"))
    assert page.evaluate("window.stillTheSamePage") is True
    expect(row).not_to_have_attribute("data-live-item", re.compile("."))
    # Nothing left to follow: the page stops asking.
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.wait_for_timeout(2500)
    assert not [url for url in asked if "/ui/live" in url], asked
    screenshot(page, "integration")


def test_check_connection(helpdesk_page: Page) -> None:
    page = helpdesk_page
    page.get_by_role("button", name="Check connection").click()
    expect(page.locator(".flash--success")).to_have_text(
        "Demo Helpdesk accepts the stored credentials."
    )


def test_disconnect_after_confirmation(
    helpdesk_page: Page, connected_account: HubAccount, web_hub: WebHub
) -> None:
    page = helpdesk_page
    page.get_by_role("link", name="Disconnect…").click()
    expect(page.get_by_role("heading", name="Disconnect Demo Helpdesk?")).to_be_visible()
    page.get_by_role("link", name="Cancel").click()
    expect(page.locator("h1 .badge")).to_have_text("Active")
    assert activation_of(web_hub, connected_account, "demo-helpdesk")

    page.get_by_role("link", name="Disconnect…").click()
    page.get_by_role("button", name="Disconnect", exact=True).click()
    expect(page).to_have_url(re.compile("/ui/catalog$"))
    expect(page.locator(".flash--success")).to_contain_text("Demo Helpdesk is disconnected")
    expect(page.get_by_role("link", name="Connect Demo Helpdesk")).to_be_visible()
    assert activation_of(web_hub, connected_account, "demo-helpdesk") == []
