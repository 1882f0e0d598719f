"""The screen pop: a number as a softphone or an agent gives it, the caller found with the
ranked caller-ID lookup (written differently from the stored number), their interactions
at once, and the unknown caller. The helpdesks are those of `tests.web.desks`."""

from __future__ import annotations

import re
from urllib.parse import quote

from playwright.sync_api import Page, expect

from tests.web.conftest import Browsing, screenshot
from tests.web.desks import ADA_SUBJECTS_NEWEST_FIRST


def _pop(page: Page, phone: str) -> None:
    """Open the screen pop as a softphone would."""
    answer = page.goto(f"/ui/screen-pop?phone={quote(phone)}")
    assert answer is not None
    assert answer.status == 200


def test_a_caller_written_another_way_pops_with_their_interactions(synced_page: Page) -> None:
    page = synced_page
    # Stored as "+1 415 555 0042".
    _pop(page, "(415) 555-0042")
    expect(page.get_by_role("status")).to_have_text(
        re.compile(r"Call from \(415\) 555-0042,\s+read as \+14155550042\.\s+1 matching contact")
    )
    candidates = page.locator(".candidate")
    expect(candidates).to_have_count(1)
    ada = candidates.first
    expect(ada.get_by_role("heading", level=2)).to_have_text("Ada Lovelace")
    expect(ada.locator(".candidate__match .badge")).to_have_text("Exact match")
    expect(ada.locator(".interaction__title")).to_have_text(ADA_SUBJECTS_NEWEST_FIRST)
    expect(ada.locator(".interaction").first.locator(".badge")).to_have_text(
        ["Open", "Urgent priority"]
    )
    expect(page.get_by_label("Caller's phone number")).to_have_value("(415) 555-0042")
    screenshot(page, "screen-pop")
    # Phone width: nothing wider than the screen.
    page.set_viewport_size({"width": 375, "height": 800})
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")

    ada.get_by_role("link", name="Ada Lovelace").click()
    expect(page.get_by_role("heading", name="Ada Lovelace", level=1)).to_be_visible()


def test_several_matches_come_surest_first_with_how_they_matched(synced_page: Page) -> None:
    page = synced_page
    page.get_by_role("link", name="Screen pop").click()
    page.get_by_label("Caller's phone number").fill("+44 20 7946 0018")
    page.get_by_role("button", name="Look up").click()
    candidates = page.locator(".candidate")
    expect(candidates.get_by_role("heading", level=2)).to_have_text(["Grace Hopper", "Alan Turing"])
    expect(candidates.locator(".candidate__match .badge")).to_have_text(
        ["Exact match", "Partial match"]
    )
    for candidate in candidates.all():
        expect(candidate.locator(".empty-state")).to_have_text(re.compile("No interactions"))


def test_an_unknown_caller_is_said_so_with_the_number_read(synced_page: Page) -> None:
    page = synced_page
    _pop(page, "(415) 555-0199")
    expect(page.get_by_role("status")).to_contain_text("read as +14155550199")
    expect(page.locator(".empty-state")).to_contain_text("Unknown caller")
    expect(page.locator(".candidate")).to_have_count(0)


def test_text_that_is_no_phone_number_is_refused(synced_page: Page, browsing: Browsing) -> None:
    page = synced_page
    answer = page.goto("/ui/screen-pop?phone=call+me+maybe")
    assert answer is not None
    assert answer.status == 422
    phone = page.get_by_label("Caller's phone number")
    expect(phone).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#field-phone-error")).to_have_text(
        "This is not a phone number that can be looked up: type the caller's number."
    )
    expect(page.locator(".candidate")).to_have_count(0)
