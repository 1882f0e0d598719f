"""The layout at phone width: nothing wider than the screen; checkboxes beside their labels
at every width."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from tests.conftest import ADMIN_KEY
from tests.web.conftest import PHONE, VIEWPORT, HubAccount, sign_in
from tests.web.test_activity import ACTION

WIDTHS = pytest.mark.parametrize("viewport", [VIEWPORT, PHONE], ids=["desktop", "phone"])

# The checkbox's box and the box of its label's words (not the label's own box, which
# holds the checkbox when the label wraps it).
_BOXES = """input => {
  const union = rects => ({
    left: Math.min(...rects.map(r => r.left)), right: Math.max(...rects.map(r => r.right)),
    top: Math.min(...rects.map(r => r.top)), bottom: Math.max(...rects.map(r => r.bottom)),
  });
  const words = [];
  const walker = document.createTreeWalker(input.labels[0], NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    if (!walker.currentNode.textContent.trim()) continue;
    const range = document.createRange();
    range.selectNodeContents(walker.currentNode);
    words.push(...range.getClientRects());
  }
  return {checkbox: union([input.getBoundingClientRect()]), label: union(words)};
}"""


def assert_fits(page: Page) -> None:
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"{page.url} scrolls sideways by {overflow}px at phone width"


def test_sign_in_fits_a_phone(page: Page) -> None:
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto("/ui/sign-in")
    assert_fits(page)


@pytest.mark.parametrize("path", ["/ui/catalog", "/ui/admin/catalog", "/ui/admin/accounts"])
def test_admin_pages_fit_a_phone(page: Page, path: str) -> None:
    sign_in(page, ADMIN_KEY)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto(path)
    assert_fits(page)


def test_problems_listing_fits_a_phone(page: Page) -> None:
    sign_in(page, ADMIN_KEY)
    page.set_viewport_size(PHONE)  # type: ignore[arg-type]
    page.goto("/ui/admin/catalog")
    long_line = '{"name": "x", "description": "' + "word " * 80 + '"}'
    page.get_by_label("Configuration (JSON)").fill(long_line)
    page.get_by_role("button", name="Validate and save").click()
    page.locator(".code-listing__problem").first.wait_for()
    assert_fits(page)


def assert_beside_its_label(checkbox: Locator) -> None:
    """The checkbox sits on its label's line, just left of the label's words."""
    boxes: dict[str, dict[str, Any]] = checkbox.evaluate(_BOXES)
    box, label = boxes["checkbox"], boxes["label"]
    where = f"checkbox at {box}, its label's words at {label}"
    assert box["top"] < label["bottom"], f"not on one line: {where}"
    assert label["top"] < box["bottom"], f"not on one line: {where}"
    assert box["right"] <= label["left"], f"not left of its label: {where}"
    assert label["left"] - box["right"] < 24, f"far from its label: {where}"
    assert box["right"] - box["left"] < 40, f"wider than a checkbox: {where}"


@WIDTHS
def test_interaction_type_checkboxes_sit_beside_their_labels(
    page: Page, account: HubAccount, viewport: dict[str, int]
) -> None:
    sign_in(page, account.key)
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    page.goto("/ui/integrations/demo-crm")  # offers two types: deal and call
    for kind in ("deal", "call"):
        assert_beside_its_label(page.get_by_label(kind, exact=True))
    assert_fits(page)


@WIDTHS
def test_the_enabled_checkbox_sits_beside_its_label(
    page: Page, connected_account: HubAccount, viewport: dict[str, int]
) -> None:
    sign_in(page, connected_account.key)
    page.set_viewport_size(viewport)  # type: ignore[arg-type]
    page.goto(f"/ui/automations/new?trigger=call.missed&action={ACTION}")
    assert_beside_its_label(page.get_by_label("Enabled"))
    assert_fits(page)
