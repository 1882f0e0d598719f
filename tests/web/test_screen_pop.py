"""The screen pop: a number as a softphone or an agent gives it, the caller found with the
ranked caller-ID lookup (written differently from the stored number), their interactions
at once, one card per person across systems, and the unknown caller. The helpdesks are
those of `tests.web.desks`."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import quote

import pytest
from playwright.sync_api import Page, expect

from bridgehub.demo.helpdesk_store import ContactDetails, HelpdeskDatabase, InteractionDetails
from tests.web.conftest import Browsing, HubAccount, WebHub, screenshot
from tests.web.desks import (
    ADA_SUBJECTS_NEWEST_FIRST,
    NOW,
    Desk,
    connect,
    serving_desk,
    synchronize,
)


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
        re.compile(r"Call from \(415\) 555-0042,\s+read as \+14155550042\.\s+1 matching person")
    )
    expect(page.locator(".candidate")).to_have_count(1)
    ada = page.locator(".person").first
    expect(ada.locator(".candidate").get_by_role("heading", level=2)).to_have_text("Ada Lovelace")
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
    # Two people: the surest open, the other closed until the agent picks it.
    expect(page.locator(".person__name")).to_have_text(["Grace Hopper", "Alan Turing"])
    candidates = page.locator(".candidate")
    expect(candidates.locator(".candidate__match .badge")).to_have_text(
        ["Exact match", "Partial match"]
    )
    for person in page.locator(".person").all():
        expect(person.locator(".empty-state")).to_have_text(re.compile("No interactions"))


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


@pytest.fixture
def fabrikam(web_hub: WebHub, account: HubAccount, synced_page: Page) -> Iterator[Desk]:
    """A third system that knows Ada too (her email written its own way, her name in
    capitals) and Charles, whose number only ends like hers."""
    database = HelpdeskDatabase()
    database.add_account("https://fabrikam.helpdesk.example", "agent@fabrikam.example", "t0ken")
    ada = database.add_contact(
        ContactDetails(
            name="ADA  LOVELACE", emails=(" Ada@Engines.example",), phones=("4155550042",)
        )
    )
    database.add_interaction(
        InteractionDetails("ticket", "Renewal quote", None, "normal", "open"),
        contact_id=ada.id,
        date=NOW - timedelta(days=2),
    )
    # A trunk prefix kept: read in the US, the number only ends like Ada's.
    database.add_contact(ContactDetails(name="Charles Babbage", phones=("0 415 555 0042",)))
    name = f"fabrikam-{uuid.uuid4().hex[:6]}"
    with serving_desk(web_hub, database, name, "Fabrikam CRM") as desk:
        run = synchronize(web_hub, account, connect(web_hub, account, desk))
        assert run["status"] == "succeeded", run
        yield desk


def test_one_person_in_two_systems_is_one_card_and_the_agent_picks_among_people(
    synced_page: Page, fabrikam: Desk
) -> None:
    page = synced_page
    _pop(page, "(415) 555-0042")
    expect(page.get_by_role("status")).to_contain_text("2 matching people, surest first.")
    people = page.locator(".person")
    # Ada's records match exactly; Fabrikam's, synced last, is the best and names her.
    expect(people.locator(".person__name")).to_have_text(["ADA LOVELACE", "Charles Babbage"])
    ada, charles = people.all()
    # The best person is open: each system's record, and their interactions.
    expect(ada.locator("details")).to_have_attribute("open", "")
    expect(ada.locator(".person__sources .source__name")).to_have_text(
        ["Fabrikam CRM", "Northwind Desk"]
    )
    records = ada.locator(".candidate")
    expect(records.get_by_role("heading", level=2)).to_have_text(["ADA LOVELACE", "Ada Lovelace"])
    # One history for the person, from every system.
    expect(ada.locator(".interaction__title")).to_have_text(
        ["Printer on fire", "Renewal quote", "Copy of the March invoice", "Welcome call"]
    )
    expect(charles.locator(".candidate")).to_be_hidden()
    screenshot(page, "screen-pop-people")

    # Picked with the keyboard: Charles opens, Ada closes.
    charles.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(charles.get_by_role("heading", name="Charles Babbage", level=2)).to_be_visible()
    expect(charles.locator(".candidate__match .badge")).to_have_text("Partial match")
    expect(ada.locator(".candidate").first).to_be_hidden()
    # And with the mouse, back to Ada.
    ada.locator("summary").click()
    expect(ada.get_by_role("heading", name="Ada Lovelace", exact=True)).to_be_visible()
    expect(charles.locator(".candidate")).to_be_hidden()
