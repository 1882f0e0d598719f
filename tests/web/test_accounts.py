"""The admin's accounts page."""

from __future__ import annotations

import re
import uuid

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import as_account
from tests.web.conftest import WebHub


def test_creating_an_account_shows_its_key_once(admin_page: Page, web_hub: WebHub) -> None:
    name = f"Call Center {uuid.uuid4().hex[:6]}"
    admin_page.goto("/ui/admin/accounts")
    admin_page.get_by_label("Name").fill(name)
    admin_page.get_by_label("Phone region").select_option("PT")
    admin_page.get_by_role("button", name="Create account").click()

    expect(admin_page.get_by_role("heading", name=f"Account “{name}” created")).to_be_visible()
    key = admin_page.locator("#new-key").inner_text()
    assert re.fullmatch(r"bh_acct_\S+", key)
    mine = httpx.get(f"{web_hub.url}/v1/accounts", headers=as_account(key)).json()["items"]
    assert [(a["name"], a["default_region"]) for a in mine] == [(name, "PT")]
    expect(admin_page.get_by_role("cell", name=name)).to_be_visible()

    admin_page.goto("/ui/admin/accounts")
    expect(admin_page.get_by_role("cell", name=name)).to_be_visible()
    assert key not in admin_page.content()
    web_hub.api.delete(f"/v1/accounts/{mine[0]['id']}").raise_for_status()


def test_a_blank_name_is_refused_next_to_the_field(admin_page: Page, web_hub: WebHub) -> None:
    before = web_hub.api.get("/v1/accounts").json()["items"]
    admin_page.goto("/ui/admin/accounts")
    admin_page.get_by_label("Name").fill("   ")
    admin_page.get_by_role("button", name="Create account").click()
    name = admin_page.get_by_label("Name")
    expect(name).to_have_attribute("aria-invalid", "true")
    expect(admin_page.locator("#field-name-error")).to_be_visible()
    assert web_hub.api.get("/v1/accounts").json()["items"] == before


def test_a_taken_name_is_refused_next_to_the_field(admin_page: Page, web_hub: WebHub) -> None:
    name = f"Call Center {uuid.uuid4().hex[:6]}"
    web_hub.api.post("/v1/accounts", json={"name": name}).raise_for_status()
    before = web_hub.api.get("/v1/accounts").json()["items"]
    admin_page.goto("/ui/admin/accounts")
    admin_page.get_by_label("Name").fill(name.upper())
    admin_page.get_by_role("button", name="Create account").click()
    expect(admin_page.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    expect(admin_page.locator("#field-name-error")).to_have_text(
        f"An account named “{name.upper()}” already exists: choose another name."
    )
    assert web_hub.api.get("/v1/accounts").json()["items"] == before


def test_phone_regions_are_offered_by_country_name(admin_page: Page) -> None:
    admin_page.goto("/ui/admin/accounts")
    region = admin_page.get_by_label("Phone region")
    expect(region).to_have_value("US")
    expect(region.locator("option[value=GB]")).to_have_text("United Kingdom (GB) +44")
    region.select_option(label="Germany (DE) +49")
    expect(region).to_have_value("DE")
