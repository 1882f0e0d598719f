"""The UI under test: a real hub served over HTTP on 127.0.0.1 (with the demo helpdesk
bridge and OAuth 2.0 provider in its catalog), driven by Debian's Chromium.

Fixtures for page tests:

- `web_hub`: the served hub (`url`, `settings`, `demo`, an admin `api` client, `sql`).
- `browsing`: a fresh browser context; the test fails on any console or page error, and on
  any known secret in any HTML page it received (`browsing.secrets` holds them; add the
  test's own with `browsing.secrets.add(...)`).
- `page`: a page of that context, signed in to nothing.
- `account`, `connected_account`: a new account (the second with the demo helpdesk
  connected); `account_page`, `admin_page`: a page signed in as it or as the admin.
- `sign_in(page, key)` signs a page in; `screenshot(page, name)` writes
  docs/screenshots/<name>.png for the documentation.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    Page,
    Response,
    Route,
    WebError,
    expect,
    sync_playwright,
)
from playwright.sync_api import Error as PlaywrightError
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine, text

from bridgehub.app import create_app
from bridgehub.demo.serving import serve
from bridgehub.demo.stack import DemoStack, demo_stack
from bridgehub.integrations.files import kind_of
from bridgehub.queue import FIRST_SYNCS
from bridgehub.settings import Settings
from tests.conftest import ADMIN_KEY, ROOT, NewDatabase, as_account

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
VIEWPORT = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = ROOT / "docs" / "screenshots"
STAND_IN_IMAGE = (
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 48 48">'
    '<rect width="48" height="48" rx="8" fill="#6366f1"/></svg>'
)


@dataclass
class WebHub:
    url: str
    settings: Settings
    demo: DemoStack
    api: httpx.Client
    """The hub's API, as the admin."""
    database: Engine

    def sql(self, statement: str, **parameters: Any) -> list[Any]:
        """Run a statement on the hub's database (to stage what no page can); answers rows."""
        with self.database.begin() as connection:
            result = connection.execute(text(statement), parameters)
            return list(result) if result.returns_rows else []

    def await_first_syncs(self, account_id: str) -> None:
        """Wait until the first syncs of the account's activations have ended: a sync asked
        for before would join them instead of starting a run of its own."""
        deadline = time.monotonic() + 60
        while self.sql(_UNSETTLED, account=account_id, task=FIRST_SYNCS):
            if time.monotonic() > deadline:
                raise AssertionError("the first syncs did not end within 60 s")
            time.sleep(0.1)


# The first-sync jobs of an account's activations not yet done, and its unfinished runs.
_UNSETTLED = """
SELECT 1 FROM procrastinate_jobs j JOIN activations a ON a.id::text = j.args->>'activation_id'
WHERE a.account_id = CAST(:account AS uuid) AND j.task_name = :task
  AND j.status IN ('todo', 'doing')
UNION ALL
SELECT 1 FROM sync_runs r JOIN activations a ON a.id = r.activation_id
WHERE a.account_id = CAST(:account AS uuid) AND r.status IN ('queued', 'running')
"""


@pytest.fixture(scope="session")
def web_hub(
    new_database: NewDatabase, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WebHub]:
    url = new_database("bridgehub_web")
    settings = Settings(
        home=tmp_path_factory.mktemp("web-home"),
        admin_key=SecretStr(ADMIN_KEY),
        # Bridges here live on 127.0.0.1 over plain HTTP, which the hub refuses by default.
        allow_private_networks=True,
        allow_http=True,
        workers=1,
    )
    engine = create_engine(url)
    with serve(create_app(settings, database=url), lifespan="on") as hub_url:
        # The port is known only now; OAuth 2.0 providers send people back to this address.
        settings.public_url = hub_url
        with (
            demo_stack(hub_url) as demo,
            httpx.Client(base_url=hub_url, headers=as_account(ADMIN_KEY)) as api,
        ):
            for document in sorted(demo.documents, key=lambda d: kind_of(d) != "integration"):
                path = "/v1/actions" if kind_of(document) == "action" else "/v1/integrations"
                api.post(path, json=document).raise_for_status()
            yield WebHub(hub_url, settings, demo, api, engine)
    engine.dispose()


# Package-scoped: Playwright's synchronous API holds an event loop of its own while it
# runs, which must be gone before the suite's asynchronous tests run again.
@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; install Debian's chromium (`make test` does)"
        if os.environ.get("BRIDGEHUB_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


_ERROR_STATUS_NOTE = "Failed to load resource: the server responded with a status of"


@dataclass
class Browsing:
    """One browser context and what it saw."""

    context: BrowserContext
    secrets: set[str]
    html: list[tuple[str, str]] = field(default_factory=list)
    """(URL, body) of every text/html response."""
    errors: list[tuple[str, str, str]] = field(default_factory=list)
    """Console errors and uncaught page errors."""
    error_pages: set[str] = field(default_factory=set)
    """URLs of pages answered with an error status on purpose (404, 403, 401 ...)."""
    external: list[str] = field(default_factory=list)
    """URLs the pages asked of other sites (answered with a stand-in image)."""

    def problems(self) -> list[str]:
        """Every error the browser reported, except its note that a page it opened had an
        error status (which the test saw and checks itself)."""
        return [
            f"{kind}: {message} ({url})"
            for kind, message, url in self.errors
            if not (message.startswith(_ERROR_STATUS_NOTE) and url in self.error_pages)
        ]

    def assert_no_secrets(self) -> None:
        for url, body in self.html:
            leaked = sorted(secret for secret in self.secrets if secret in body)
            assert not leaked, f"{url} showed secrets: {[s[:12] + '...' for s in leaked]}"

    def _on_response(self, response: Response) -> None:
        if "text/html" not in response.headers.get("content-type", ""):
            return
        if 300 <= response.status < 400:
            return
        if response.status >= 400 and response.request.is_navigation_request():
            self.error_pages.add(response.url)
        try:
            self.html.append((response.url, response.text()))
        except PlaywrightError as error:  # a body the browser dropped cannot be checked
            self.errors.append(("unreadable page", error.message, response.url))

    def _stand_in_image(self, route: Route) -> None:
        self.external.append(route.request.url)
        route.fulfill(status=200, content_type="image/svg+xml", body=STAND_IN_IMAGE)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.errors.append(("console", message.text, message.location["url"]))

    def _on_page_error(self, error: WebError) -> None:
        self.errors.append(("page error", str(error.error), error.page.url if error.page else ""))


@pytest.fixture
def browsing(browser: Browser, web_hub: WebHub) -> Iterator[Browsing]:
    context = browser.new_context(base_url=web_hub.url, viewport=VIEWPORT)  # type: ignore[arg-type]
    demo = web_hub.demo
    secrets = {ADMIN_KEY, demo.login.api_token}
    secrets |= {
        d["oauth2_configuration"]["client_secret"]
        for d in demo.documents
        if "oauth2_configuration" in d
    }
    seen = Browsing(context, secrets)
    # Logos live on the integrations' own sites, which a test machine cannot reach: a
    # stand-in image answers for any host but the hub, and each request is recorded.
    context.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), seen._stand_in_image)
    context.on("response", seen._on_response)
    context.on("console", seen._on_console)
    context.on("weberror", seen._on_page_error)
    yield seen
    context.close()
    problems = seen.problems()
    assert not problems, "the browser reported errors:\n" + "\n".join(problems)
    seen.assert_no_secrets()


@pytest.fixture
def page(browsing: Browsing) -> Page:
    return browsing.context.new_page()


@dataclass(frozen=True)
class HubAccount:
    id: str
    name: str
    key: str


def create_account(web_hub: WebHub, name: str) -> HubAccount:
    response = web_hub.api.post("/v1/accounts", json={"name": name})
    response.raise_for_status()
    body = response.json()
    return HubAccount(body["id"], name, body["api_key"])


@pytest.fixture
def account(web_hub: WebHub, browsing: Browsing) -> Iterator[HubAccount]:
    created = create_account(web_hub, f"Contact Center {uuid.uuid4().hex[:6]}")
    browsing.secrets.add(created.key)
    yield created
    web_hub.api.delete(f"/v1/accounts/{created.id}")


@pytest.fixture
def connected_account(web_hub: WebHub, account: HubAccount) -> HubAccount:
    """`account`, with the demo helpdesk connected."""
    response = web_hub.api.post(
        "/v1/activations",
        json={"integration": "demo-helpdesk", "auth": web_hub.demo.helpdesk_auth},
        headers=as_account(account.key),
    )
    assert response.status_code == 201, response.text
    return account


def sign_in(page: Page, key: str) -> None:
    page.goto("/ui/sign-in")
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


@pytest.fixture
def account_page(page: Page, account: HubAccount) -> Page:
    sign_in(page, account.key)
    return page


@pytest.fixture
def admin_page(page: Page) -> Page:
    sign_in(page, ADMIN_KEY)
    return page


def screenshot(page: Page, name: str, viewport: dict[str, int] = VIEWPORT) -> Path:
    """docs/screenshots/<name>.png at one of the documentation's fixed sizes."""
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path)
    return path
