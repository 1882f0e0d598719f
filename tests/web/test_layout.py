"""The layout at phone width: nothing wider than the screen."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.conftest import ADMIN_KEY
from tests.web.conftest import sign_in

PHONE = {"width": 390, "height": 844}


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
