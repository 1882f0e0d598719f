"""Every page at phone and desktop width, and in dark mode: nothing wider than the screen,
table headers on one line, each checkbox or radio on its label's line, no address of a bridge
and no doubled period in its words, and an axe-core scan with no violation.

axe-core's JavaScript comes from npm (tests/web/package-lock.json; `make test` installs it
with `npm ci`); it is evaluated in each page and run there. Not as a <script> tag: the hub's
Content-Security-Policy refuses inline scripts, as it should.
"""

from __future__ import annotations

import os
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY
from tests.web.conftest import PHONE, VIEWPORT, HubAccount, WebHub, screenshot, sign_in
from tests.web.test_activity import ACTION, ACTION_ENDPOINT, api_as, automate, missed_call

AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
# Each page is seen as each of these: both widths, and dark mode (prefers-color-scheme).
LOOKS: dict[str, tuple[dict[str, int], Literal["light", "dark"]]] = {
    "desktop": (VIEWPORT, "light"),
    "phone": (PHONE, "light"),
    "phone, dark": (PHONE, "dark"),
}
UNKNOWN_CALLER = "+1 202 555 0199"
_DOUBLE_PERIOD = re.compile(r".{0,30}[^.]\.\.(?!\.).{0,10}")

# Headers whose words take more than one line (measured on the words: a cell is as tall as
# its row), or spill out of their cell.
_BROKEN_HEADERS = """() => [...document.querySelectorAll("th")].filter(th => {
  if (!th.getClientRects().length) return false;
  const range = document.createRange();
  range.selectNodeContents(th);
  const line = parseFloat(getComputedStyle(th).lineHeight);
  return range.getBoundingClientRect().height > line * 1.5 || th.scrollWidth > th.clientWidth;
}).map(th => th.textContent.trim())"""

# Checkboxes and radios whose box does not share a line with their label's words.
_CHOICES_OFF_THEIR_LINE = """() => [...document.querySelectorAll(
  "input[type=checkbox], input[type=radio]")].filter(input => {
  if (!input.getClientRects().length || !input.labels.length) return false;
  const box = input.getBoundingClientRect();
  const range = document.createRange();
  range.selectNodeContents(input.labels[0]);
  const words = [...range.getClientRects()].filter(r => r.width > 0 && r !== box);
  return !words.some(r => r.top < box.bottom && box.top < r.bottom);
}).map(input => input.labels[0].textContent.trim())"""


@pytest.fixture(scope="module")
def axe() -> str:
    """axe-core's script."""
    if not AXE.exists():
        reason = f"{AXE} is missing; `make test` installs it with npm ci"
        if os.environ.get("BRIDGEHUB_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


def problems_of(page: Page, name: str, internal: str, axe: str) -> list[str]:
    """What is wrong with the page as shown now: its words, its layout, then what axe-core
    (the script `axe`) finds. `internal`: an address of the hub's side that no page may
    show."""
    found = []
    words = page.inner_text("body")
    if internal in words:
        found.append(f"shows {internal}")
    if doubled := _DOUBLE_PERIOD.findall(words):
        found.append(f"double periods: {doubled}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    if overflow > 0:
        found.append(f"scrolls sideways by {overflow}px")
    if broken := page.evaluate(_BROKEN_HEADERS):
        found.append(f"headers on more than one line: {broken}")
    if adrift := page.evaluate(_CHOICES_OFF_THEIR_LINE):
        found.append(f"choices off their label's line: {adrift}")
    if not page.evaluate("typeof axe !== 'undefined'"):
        page.evaluate(axe)
    violations = page.evaluate("async () => (await axe.run(document)).violations")
    found += [
        f"axe {v['id']}: {v['help']} at {[n['target'] for n in v['nodes']]}" for v in violations
    ]
    return [f"{name}: {problem}" for problem in found]


@dataclass
class Visits:
    page: Page
    internal: str
    axe: str
    problems: list[str] = field(default_factory=list)

    def visit(self, path: str, name: str) -> None:
        """Open the page, and note what is wrong with it in each look."""
        self.page.goto(path)
        for look, (viewport, scheme) in LOOKS.items():
            self.page.set_viewport_size(viewport)  # type: ignore[arg-type]
            self.page.emulate_media(color_scheme=scheme)
            self.problems += problems_of(self.page, f"{name} ({look})", self.internal, self.axe)
        self.page.emulate_media(color_scheme="light")


def test_every_page_fits_both_widths_and_passes_axe(
    page: Page, web_hub: WebHub, connected_account: HubAccount, axe: str
) -> None:
    account = automate(web_hub, connected_account)
    # A failed execution: its page shows the most (the error, every attempt, a retry).
    web_hub.demo.bridge.fail_next(ACTION_ENDPOINT, 1, 400)
    execution = missed_call(web_hub, account)
    assert execution["status"] == "failed", execution
    webhook = api_as(
        web_hub,
        account,
        "POST",
        "/v1/webhooks",
        url="http://127.0.0.1:9/bridgehub-events",
        events=["sync.succeeded"],
    )
    contact = api_as(web_hub, account, "GET", "/v1/contacts")["items"][0]
    run = api_as(web_hub, account, "GET", "/v1/sync-runs")["items"][0]
    automation = api_as(web_hub, account, "GET", "/v1/automations")["items"][0]
    visits = Visits(page, web_hub.demo.bridge_url, axe)

    visits.visit("/ui/sign-in", "sign-in")
    screenshot(page, "sign-in-phone", PHONE)
    page.get_by_label("API key").fill(account.key)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()
    pages: dict[str, str] = {
        "dashboard": "/ui/dashboard",
        "catalog": "/ui/catalog",
        "integration": "/ui/integrations/demo-helpdesk",
        "connect": "/ui/integrations/demo-crm",
        "disconnect": "/ui/integrations/demo-helpdesk/disconnect",
        "contacts": "/ui/contacts",
        "contact": f"/ui/contacts/{contact['id']}",
        "screen-pop": f"/ui/screen-pop?phone={web_hub.demo.caller}",
        "screen-pop-unknown": f"/ui/screen-pop?phone={UNKNOWN_CALLER}",
        "activity": "/ui/activity",
        "syncs": "/ui/activity/syncs",
        "execution": f"/ui/activity/executions/{execution['id']}",
        "sync": f"/ui/activity/syncs/{run['id']}",
        "automations": "/ui/automations",
        "automation-form": f"/ui/automations/new?trigger=call.missed&action={ACTION}",
        "automation-edit": f"/ui/automations/{automation['id']}/edit",
        "webhooks": "/ui/webhooks",
        "deliveries": f"/ui/webhooks/{webhook['id']}",
        "not-found": f"/ui/contacts/{uuid.uuid4()}",
    }
    for name, path in pages.items():
        visits.visit(path, name)
    for name in ("dashboard", "activity", "execution", "contact"):
        page.goto(pages[name])
        screenshot(page, f"{name}-phone", PHONE)
    page.emulate_media(color_scheme="dark")
    screenshot(page, "contact-dark")
    page.emulate_media(color_scheme="light")

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_label("API key")).to_be_visible()
    sign_in(page, ADMIN_KEY)
    for name, path in {
        "accounts": "/ui/admin/accounts",
        "catalog-admin": "/ui/admin/catalog",
    }.items():
        visits.visit(path, name)
    assert not visits.problems, "\n".join(visits.problems)
