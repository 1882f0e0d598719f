"""Signing in and out, sessions ending, CSRF and where sign-in sends people."""

from __future__ import annotations

import hashlib
import re

import httpx
import pytest
from playwright.sync_api import Page, expect

from bridgehub.web.auth import local_path
from tests.conftest import ADMIN_KEY, as_account
from tests.web.conftest import Browsing, HubAccount, WebHub, screenshot, sign_in


def session_cookie(page: Page) -> dict[str, object]:
    cookies = [c for c in page.context.cookies() if c["name"] == "bridgehub_session"]
    assert len(cookies) == 1
    return dict(cookies[0])


def test_an_account_signs_in_with_its_key(page: Page, account: HubAccount, web_hub: WebHub) -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next="))
    screenshot(page, "sign-in")
    page.get_by_label("API key").fill(account.key)
    page.get_by_role("button", name="Sign in").click()

    expect(page).to_have_url(f"{web_hub.url}/ui/dashboard")
    expect(page.get_by_role("status")).to_contain_text(f"Signed in as {account.name}")
    expect(page.locator(".session__who")).to_have_text(account.name)
    cookie = session_cookie(page)
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    assert cookie["secure"] is False  # the hub is served over http here
    # The database knows the session by its token's digest and the key's row, never the key.
    digest = hashlib.sha256(str(cookie["value"]).encode()).hexdigest()
    (row,) = web_hub.sql(
        "SELECT s.account_key_id, k.account_id FROM ui_sessions s "
        "JOIN account_keys k ON k.id = s.account_key_id WHERE s.token_digest = :digest",
        digest=digest,
    )
    assert str(row.account_id) == account.id
    stored = web_hub.sql("SELECT row_to_json(s)::text FROM ui_sessions s")
    assert not any(account.key in r[0] or str(cookie["value"]) in r[0] for r in stored)


def test_the_admin_signs_in_and_sees_the_admin_menu(page: Page) -> None:
    sign_in(page, ADMIN_KEY)
    admin_menu = page.get_by_role("list", name="Admin")
    expect(admin_menu.get_by_role("link")).to_have_text(["Catalog management", "Accounts"])
    expect(page.locator(".session__who")).to_have_text("Admin")


def test_a_wrong_key_is_refused_and_not_shown_back(page: Page, browsing: Browsing) -> None:
    wrong = "bh_acct_not-a-real-key-0123456789"
    browsing.secrets.add(wrong)
    page.goto("/ui/sign-in")
    page.get_by_label("API key").fill(wrong)
    with page.expect_response(re.compile(r"/ui/sign-in$")) as answer:
        page.get_by_role("button", name="Sign in").click()
    assert answer.value.status == 401
    expect(page.get_by_role("alert")).to_contain_text("This key is not valid")
    expect(page.get_by_label("API key")).to_have_value("")
    assert not [c for c in page.context.cookies() if c["name"] == "bridgehub_session"]


def test_signing_out_ends_the_session(account_page: Page, web_hub: WebHub) -> None:
    token = str(session_cookie(account_page)["value"])
    account_page.get_by_role("button", name="Sign out").click()
    expect(account_page.get_by_role("status")).to_have_text("You are signed out.")
    account_page.goto("/ui/catalog")
    expect(account_page).to_have_url(re.compile(r"/ui/sign-in\?next=%2Fui%2Fcatalog$"))
    # The old token opens nothing, even when replayed.
    replayed = httpx.get(f"{web_hub.url}/ui/catalog", cookies={"bridgehub_session": token})
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/ui/sign-in")


def test_revoking_the_key_ends_its_sessions(
    page: Page, account: HubAccount, web_hub: WebHub
) -> None:
    second = web_hub.api.post(f"/v1/accounts/{account.id}/keys").json()
    keys = web_hub.api.get(f"/v1/accounts/{account.id}/keys").json()["items"]
    first_key_id = next(k["id"] for k in keys if k["id"] != second["id"])
    sign_in(page, account.key)

    revoked = web_hub.api.delete(
        f"/v1/accounts/{account.id}/keys/{first_key_id}", headers=as_account(second["api_key"])
    )
    assert revoked.status_code == 204
    page.reload()
    expect(page).to_have_url(re.compile(r"/ui/sign-in\?next=%2Fui%2Fdashboard$"))
    assert (
        web_hub.sql("SELECT 1 FROM ui_sessions WHERE account_key_id = :id", id=first_key_id) == []
    )


def test_an_expired_session_sends_back_to_sign_in(account_page: Page, web_hub: WebHub) -> None:
    token = str(session_cookie(account_page)["value"])
    web_hub.sql(
        "UPDATE ui_sessions SET expires_at = now() - interval '1 second' "
        "WHERE token_digest = :digest",
        digest=hashlib.sha256(token.encode()).hexdigest(),
    )
    account_page.goto("/ui/catalog")
    expect(account_page).to_have_url(re.compile(r"/ui/sign-in"))


def test_a_form_without_its_csrf_token_is_refused(admin_page: Page, web_hub: WebHub) -> None:
    before = web_hub.api.get("/v1/accounts").json()["items"]
    forms: list[dict[str, str | float | bool]] = [
        {"name": "Forged"},
        {"name": "Forged", "csrf_token": "0" * 64},
    ]
    for form in forms:
        answer = admin_page.request.post("/ui/admin/accounts", form=form, max_redirects=0)
        assert answer.status == 403
        assert "text/html" in answer.headers["content-type"]
        assert "not sent from a page of this hub" in answer.text()
    assert web_hub.api.get("/v1/accounts").json()["items"] == before


def test_signing_in_needs_the_token_of_the_sign_in_page(web_hub: WebHub) -> None:
    # Another site's form cannot sign a browser in to an account of its choosing.
    answer = httpx.post(f"{web_hub.url}/ui/sign-in", data={"key": ADMIN_KEY})
    assert answer.status_code == 403
    assert "bridgehub_session" not in answer.cookies


@pytest.mark.parametrize(
    "wanted",
    [
        "https://evil.example/",
        "//evil.example/ui/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/ui/catalog\n//evil.example",
        "",
    ],
)
def test_after_sign_in_only_local_paths_are_followed(wanted: str) -> None:
    assert local_path(wanted) == "/ui/"


def test_sign_in_returns_to_the_page_asked_for(page: Page, web_hub: WebHub) -> None:
    page.goto("/ui/admin/accounts?sort=name")
    expect(page).to_have_url(re.compile(r"next=%2Fui%2Fadmin%2Faccounts%3Fsort%3Dname$"))
    page.get_by_label("API key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{web_hub.url}/ui/admin/accounts?sort=name")


def test_a_foreign_next_lands_on_the_home_page(page: Page, web_hub: WebHub) -> None:
    page.goto("/ui/sign-in?next=https://evil.example/")
    page.get_by_label("API key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{web_hub.url}/ui/catalog")


def test_errors_are_pages_in_the_ui_and_json_in_the_api(
    account_page: Page, web_hub: WebHub
) -> None:
    missing = account_page.goto("/ui/no-such-page")
    assert missing is not None
    assert missing.status == 404
    expect(account_page.get_by_role("heading", level=1)).to_have_text("Not Found")
    forbidden = account_page.goto("/ui/admin/accounts")
    assert forbidden is not None
    assert forbidden.status == 403
    expect(account_page.get_by_role("main")).to_contain_text("sign in with the admin key")
    api = httpx.get(f"{web_hub.url}/v1/no-such-thing")
    assert api.status_code == 404
    assert api.json()["error"]["code"] == "not_found"
