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
from playwright.sync_api import Locator, Page, expect

from bridgehub.demo.helpdesk_store import ContactDetails, HelpdeskDatabase, InteractionDetails
from tests.web.conftest import Browsing, HubAccount, WebHub, screenshot
from tests.web.desks import (
    ADA_SUBJECTS_NEWEST_FIRST,
    NOW,
    Desk,
    Desks,
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
    expect(ada.locator(".person__card")).to_have_attribute("open", "")
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
    charles.locator(".person__summary").focus()
    page.keyboard.press("Enter")
    expect(charles.get_by_role("heading", name="Charles Babbage", level=2)).to_be_visible()
    expect(charles.locator(".candidate__match .badge")).to_have_text("Partial match")
    expect(ada.locator(".candidate").first).to_be_hidden()
    # And with the mouse, back to Ada.
    ada.locator(".person__summary").click()
    expect(ada.get_by_role("heading", name="Ada Lovelace", exact=True)).to_be_visible()
    expect(charles.locator(".candidate")).to_be_hidden()


def _actions_of(page: Page, heading: str) -> Locator:
    """The actions section under `heading`, on the card or beside the unknown caller."""
    return page.get_by_role("region", name=heading)


def test_an_agent_creates_a_ticket_for_the_caller_and_sees_it_done(
    synced_page: Page, desks: Desks, browsing: Browsing
) -> None:
    page = synced_page
    northwind = desks.northwind
    (ada,) = northwind.bridge.database.contacts_with(emails=("ada@engines.example",))
    _pop(page, "(415) 555-0042")
    actions = _actions_of(page, "Act for Ada Lovelace")
    actions.locator("summary", has_text="Create a ticket in Northwind Desk").click()
    form = actions.locator("details[open] form")
    # Prefilled from the caller and the call; what the agent types is kept as typed.
    expect(form.get_by_label("Ticket subject")).to_have_value("Call from Ada Lovelace")
    # An input with choices is offered as them, starting from the action's default.
    priority = form.get_by_label("Priority")
    expect(priority.locator("option")).to_have_text(["(none)", "low", "normal", "high", "urgent"])
    expect(priority).to_have_value("normal")

    # A required input emptied (the browser's own check removed) is refused, naming it.
    form.get_by_label("Ticket subject").fill("")
    form.get_by_label("Ticket subject").evaluate("input => input.removeAttribute('required')")
    form.get_by_label("Ticket description").fill("Wants a callback about the printer.")
    created_before = len(northwind.bridge.created())
    form.get_by_role("button", name="Create a ticket in Northwind Desk").click()
    form = _actions_of(page, "Act for Ada Lovelace").locator("details[open] form")
    expect(form.locator(".field__error")).to_have_text('"Ticket subject" is required')
    expect(form.get_by_label("Ticket description")).to_have_value(
        "Wants a callback about the printer."
    )
    assert len(northwind.bridge.created()) == created_before

    # The helpdesk asks the hub to come back in 2 s: the card follows the execution live.
    northwind.bridge.fail_next("/helpdesk/actions/create_ticket", 1, 503, retry_after=2)
    form.get_by_label("Ticket subject").fill("Printer callback")
    form.get_by_label("Priority").select_option("urgent")
    form.get_by_role("button", name="Create a ticket in Northwind Desk").click()
    outcome = page.get_by_role("region", name="Create a ticket in Northwind Desk")
    expect(outcome.locator(".badge")).to_have_text(re.compile("queued|running"))
    expect(outcome.locator(".badge")).to_have_text("succeeded", timeout=30_000)
    ticket = northwind.bridge.created()[-1]
    expect(outcome).to_contain_text(f"Ticket #{ticket.id} created.")
    assert ticket.details.subject == "Printer callback"
    assert ticket.details.priority == "urgent"
    assert ticket.contact_id == ada.id
    # Back on the caller's card, the outcome above it, the new ticket among their interactions.
    expect(page.locator(".person__name")).to_have_text(["Ada Lovelace"])
    expect(page.locator(".interaction__title").first).to_have_text("Printer callback")
    expect(page).to_have_url(re.compile(r"/ui/screen-pop\?phone=.+&execution=.+#outcome$"))

    # An action of an integration the account has not connected is not run.
    refused = page.request.post(
        "/ui/screen-pop/actions",
        form={
            "csrf_token": page.locator("input[name=csrf_token]").first.input_value(),
            "phone": "(415) 555-0042",
            "action": "demo-helpdesk/create_ticket",
            "input.subject": "Sneaked in",
            "input.description": "Through a form the page never offered.",
        },
    )
    assert refused.status == 422
    assert "Choose an action the screen pop offers." in refused.text()
    assert northwind.bridge.created()[-1] == ticket


def test_an_agent_adds_an_unknown_number_as_a_contact(synced_page: Page, desks: Desks) -> None:
    page = synced_page
    _pop(page, "(415) 555-0177")
    expect(page.locator(".empty-state")).to_contain_text("Unknown caller")
    actions = _actions_of(page, "Add as a contact, or act on this call")
    actions.locator("summary", has_text="Create a contact in Northwind Desk").click()
    form = actions.locator("details[open] form")
    expect(form.get_by_label("Phone number")).to_have_value("+14155550177")
    form.get_by_label("Contact name").fill("Joan Clarke")
    form.get_by_role("button", name="Create a contact in Northwind Desk").click()

    outcome = page.get_by_role("region", name="Create a contact in Northwind Desk")
    expect(outcome.locator(".badge")).to_have_text("succeeded", timeout=30_000)
    (joan,) = desks.northwind.bridge.database.contacts_with(phones=("+14155550177",))
    assert joan.details.name == "Joan Clarke"
    expect(outcome).to_contain_text(f"Contact #{joan.id} created.")
    # Stored by the hub at once: the screen pop now finds the caller.
    expect(page.locator(".person__name")).to_have_text(["Joan Clarke"])
    outcome.get_by_role("link", name="Open the contact it created").click()
    expect(page.get_by_role("heading", name="Joan Clarke", level=1)).to_be_visible()
