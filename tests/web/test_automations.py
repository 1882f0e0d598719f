"""Automations in the UI: "When a call is missed, then create a ticket" built from the
drop-downs, the service's problems shown at the inputs they concern, editing, switching off
and on, deleting."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

from tests.web.conftest import HubAccount, WebHub, screenshot, sign_in
from tests.web.test_activity import (
    ACTION,
    ACTION_ENDPOINT,
    MISSED_CALL_TICKET,
    api_as,
    finished,
    missed_call,
)

SUMMARY = "When a call is missed, then create a ticket in Demo Helpdesk"
NAME = "Create a ticket in Demo Helpdesk when a call is missed"


def labelled(verb: str, name: str) -> re.Pattern[str]:
    """A button or link named by its verb, then (for screen readers) the automation's name."""
    return re.compile(rf"^{verb}\W+{re.escape(name)}$")


def automations_of(web_hub: WebHub, account: HubAccount) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api_as(web_hub, account, "GET", "/v1/automations")["items"]
    return items


def map_a_ticket(page: Page, trigger: str, summary: str, offered: tuple[str, ...]) -> Locator:
    """Choose the trigger and the helpdesk's tickets on the new automation's page, and go on
    to the inputs; checks the summary and that `offered` are among the variables, answered."""
    page.get_by_label("When").select_option(label=trigger)
    page.get_by_label("Then").select_option(label="create a ticket in Demo Helpdesk")
    page.get_by_role("button", name="Next: map the inputs").click()
    expect(page.locator("#summary")).to_have_text(summary)
    variables = page.get_by_role("complementary", name="Variables")
    for variable in offered:
        expect(variables.get_by_text(variable, exact=True)).to_be_visible()
    return variables


def test_the_missed_call_automation_is_built_from_drop_downs(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    sign_in(page, connected_account.key)
    page.get_by_role("link", name="Automations").click()
    expect(page.get_by_text("No automations yet")).to_be_visible()
    page.get_by_role("link", name="New automation").click()
    expect(page.get_by_label("Then").locator("option")).to_have_text(
        [
            "choose an action",
            "create a contact in Demo Helpdesk",
            "create a ticket in Demo Helpdesk",
        ]
    )
    offered = ("{{contact.name}}", "{{call.from}}", "{{agent.email}}", "{{event.occurred_at}}")
    map_a_ticket(page, "a call is missed", SUMMARY, offered)
    subject = page.get_by_label("Ticket subject")
    expect(subject).to_have_attribute("required", "")
    expect(page.locator("label[for='field-input.priority']")).to_contain_text("(optional)")
    expect(page.locator("label[for='field-input.subject']")).not_to_contain_text("(optional)")
    subject.fill("Missed call from {{contact.name}}")
    page.get_by_label("Ticket description").fill("{{contact.name}} called {{call.to}}.")
    priority = page.get_by_label("Priority")
    expect(priority.locator("option")).to_have_text(["not set", "low", "normal", "high", "urgent"])
    expect(priority).to_have_value("normal")  # the input's default
    priority.select_option("high")
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "automation")
    subject.fill("Missed call from {{contact.nmae}}")
    page.get_by_label("Only calls lasting at least (seconds)").fill("-5")
    page.get_by_role("button", name="Create automation").click()
    # The service's verdict, each at the input it concerns; what was typed stays.
    expect(page.locator("#field-input\\.subject-error")).to_contain_text(
        "{{contact.nmae}} is not a variable"
    )
    expect(page.locator("#field-min_duration_seconds-error")).to_contain_text("must be 0 or more")
    expect(page.get_by_label("Ticket description")).to_have_value(
        "{{contact.name}} called {{call.to}}."
    )
    assert automations_of(web_hub, connected_account) == []
    page.get_by_label("Ticket subject").fill("Missed call from {{contact.name}}")
    page.get_by_label("Only calls lasting at least (seconds)").fill("")
    page.get_by_role("button", name="Create automation").click()
    expect(page.get_by_text(f"Created “{NAME}”: {SUMMARY}.")).to_be_visible()
    expect(page.locator(".automation__name")).to_have_text([NAME])
    expect(page.locator(".automation__summary")).to_have_text([SUMMARY])
    expect(page.locator(".automation .badge")).to_have_text(["enabled"])
    [saved] = automations_of(web_hub, connected_account)
    assert saved["trigger"] == "call.missed"
    assert saved["action"] == ACTION
    assert saved["inputs"] == {
        "subject": "Missed call from {{contact.name}}",
        "description": "{{contact.name}} called {{call.to}}.",
        "priority": "high",
    }
    assert saved["conditions"] == {"min_duration_seconds": None, "to": None, "caller": None}
    assert saved["enabled"] is True
    assert saved["replay"] is False


def test_an_automation_is_edited_switched_off_and_on_and_deleted(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    created = api_as(web_hub, connected_account, "POST", "/v1/automations", **MISSED_CALL_TICKET)
    sign_in(page, connected_account.key)
    page.goto("/ui/automations")
    page.get_by_role("link", name=labelled("Edit", NAME)).click()
    expect(page.get_by_label("Name")).to_have_value(NAME)
    expect(page.get_by_label("Ticket subject")).to_have_value("Missed call from {{contact.name}}")
    page.get_by_label("When").select_option("voicemail.left")
    page.get_by_label("Ticket subject").fill("")
    page.get_by_label("Only calls to").fill("+15555550100")
    expect(page.get_by_label("Replay failed executions automatically")).not_to_be_checked()
    page.get_by_label("Replay failed executions automatically").check()
    page.locator("form.automation-form").evaluate("form => form.noValidate = true")
    page.get_by_role("button", name="Save automation").click()
    expect(page.locator("#field-input\\.subject-error")).to_have_text(
        '"Ticket subject" is mandatory and must be mapped'
    )
    page.get_by_label("Ticket subject").fill("Voicemail from {{call.from}}")
    page.get_by_role("button", name="Save automation").click()
    voicemail = "When a voicemail is left, then create a ticket in Demo Helpdesk"
    # A name made from the trigger follows it.
    renamed = "Create a ticket in Demo Helpdesk when a voicemail is left"
    expect(page.get_by_text(f"Saved “{renamed}”: {voicemail}.")).to_be_visible()
    expect(page.get_by_text("Only calls to")).to_be_visible()
    changed = api_as(web_hub, connected_account, "GET", f"/v1/automations/{created['id']}")
    assert changed["trigger"] == "voicemail.left"
    assert changed["inputs"]["subject"] == "Voicemail from {{call.from}}"
    assert changed["conditions"]["to"] == "+15555550100"
    assert changed["replay"] is True

    page.get_by_role("button", name=labelled("Disable", renamed)).click()
    expect(page.get_by_text(f"Disabled “{renamed}”.")).to_be_visible()
    expect(page.locator(".automation .badge")).to_have_text(["disabled"])
    assert automations_of(web_hub, connected_account)[0]["enabled"] is False
    page.get_by_role("button", name=labelled("Enable", renamed)).click()
    expect(page.locator(".automation .badge")).to_have_text(["enabled"])
    assert automations_of(web_hub, connected_account)[0]["enabled"] is True

    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name=labelled("Delete", renamed)).click()
    expect(page.locator(".automation")).to_have_count(1)
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=labelled("Delete", renamed)).click()
    expect(page.get_by_text(f"Deleted “{renamed}”.")).to_be_visible()
    expect(page.get_by_text("No automations yet")).to_be_visible()
    assert automations_of(web_hub, connected_account) == []


def test_an_automation_for_unknown_callers_creates_a_contact(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    sign_in(page, connected_account.key)
    page.goto("/ui/automations/new")
    page.get_by_label("When").select_option(label="a call is missed")
    page.get_by_label("Then").select_option(label="create a contact in Demo Helpdesk")
    page.get_by_role("button", name="Next: map the inputs").click()
    expect(page.locator("#summary")).to_have_text(
        "When a call is missed, then create a contact in Demo Helpdesk"
    )
    callers = page.get_by_label("Only calls from")
    expect(callers.locator("option")).to_have_text(
        [
            "every caller",
            "unknown callers (no contact has their number)",
            "known callers (a contact has their number)",
        ]
    )
    expect(callers).to_have_value("")
    page.get_by_label("Contact name").fill("Unknown caller {{call.from}}")
    page.get_by_label("Phone number").fill("{{call.from}}")
    callers.select_option(label="unknown callers (no contact has their number)")
    page.get_by_role("button", name="Create automation").click()

    unknown = "When a call is missed from an unknown caller, then create a contact in Demo Helpdesk"
    unknown_name = "Create a contact in Demo Helpdesk when a call is missed from an unknown caller"
    expect(page.get_by_text(f"Created “{unknown_name}”: {unknown}.")).to_be_visible()
    expect(page.locator(".automation__summary")).to_have_text([unknown])
    expect(page.locator(".automation dd").last).to_have_text("unknown callers")
    [saved] = automations_of(web_hub, connected_account)
    assert saved["action"] == "demo-helpdesk/create_contact"
    assert saved["conditions"]["caller"] == "unknown"
    assert saved["summary"] == "When a call is missed from an unknown caller, then create a contact"

    # Edited: the condition is shown as saved, and changed to every caller.
    page.get_by_role("link", name=labelled("Edit", unknown_name)).click()
    expect(page.locator("#summary")).to_have_text(unknown)
    expect(page.get_by_label("Only calls from")).to_have_value("unknown")
    page.get_by_label("Only calls from").select_option(label="every caller")
    page.get_by_role("button", name="Save automation").click()
    every = "When a call is missed, then create a contact in Demo Helpdesk"
    every_name = "Create a contact in Demo Helpdesk when a call is missed"
    expect(page.get_by_text(f"Saved “{every_name}”: {every}.")).to_be_visible()
    assert automations_of(web_hub, connected_account)[0]["conditions"]["caller"] is None


def test_only_actions_of_connected_integrations_are_offered(
    page: Page, account: HubAccount
) -> None:
    sign_in(page, account.key)
    page.goto("/ui/automations/new")
    expect(page.get_by_text("No action available")).to_be_visible()
    # An address naming an action anyway is answered with why it cannot be chosen.
    response = page.goto(f"/ui/automations/new?trigger=call.exploded&action={ACTION}")
    assert response is not None
    expect(page.locator("#field-trigger-error")).to_contain_text('"call.exploded" is not a trigger')
    expect(page.get_by_role("button", name="Create automation")).to_have_count(0)


def test_a_dispositioned_call_automation_uses_what_the_call_logged(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    sign_in(page, connected_account.key)
    page.goto("/ui/automations/new")
    dispositioned = "When a call is dispositioned, then create a ticket in Demo Helpdesk"
    offered = ("{{call.id}}", "{{call.recording_url}}", "{{call.disposition}}", "{{call.notes}}")
    variables = map_a_ticket(page, "a call is dispositioned", dispositioned, offered)
    logged = variables.get_by_role("heading", name="What an earlier automation of the same call")
    expect(logged).to_be_visible()
    expect(logged.locator("+ ul li")).to_have_text(["{{call.logged.demo-helpdesk.external_id}}"])
    page.get_by_label("Ticket subject").fill("{{call.disposition}}: follow up")
    description = "{{call.notes}} (ticket {{call.logged.demo-helpdesk.external_id}})"
    page.get_by_label("Ticket description").fill(description)
    page.get_by_role("button", name="Create automation").click()
    named = "Create a ticket in Demo Helpdesk when a call is dispositioned"
    expect(page.get_by_text(f"Created “{named}”: {dispositioned}.")).to_be_visible()
    [saved] = automations_of(web_hub, connected_account)
    assert saved["trigger"] == "call.dispositioned"
    assert saved["inputs"] == {
        "subject": "{{call.disposition}}: follow up",
        "description": description,
        "priority": "normal",  # the form starts from the input's default
    }


def test_a_value_outside_the_choices_is_refused_at_save_beside_a_preview(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    sign_in(page, connected_account.key)
    page.goto("/ui/automations/new")
    map_a_ticket(page, "a call is missed", SUMMARY, ())
    page.get_by_label("Ticket subject").fill("{{contact.name}}")
    page.get_by_label("Ticket description").fill("{{contact.name|call.from}} called.")
    # What a hand-written request could send, though the list does not offer it.
    priority = page.get_by_label("Priority")
    priority.evaluate("select => select.add(new Option('asap', 'asap'))")
    priority.select_option("asap")
    page.get_by_role("button", name="Create automation").click()

    expect(page.locator("#field-input\\.priority-error")).to_contain_text(
        '"Priority" must be one of "low", "normal", "high" or "urgent"; found "asap"'
    )
    # Nobody's name renders for an unknown caller: the ticket would have no subject.
    expect(page.locator("#field-input\\.subject-error")).to_have_text(
        'For an unknown caller: "Ticket subject" is required.'
    )
    preview = page.get_by_role("region", name="Preview")
    unknown = preview.get_by_role("table", name="From an unknown caller")
    expect(unknown.get_by_role("row").filter(has_text="Ticket subject")).to_contain_text("(empty)")
    expect(unknown.get_by_role("row").filter(has_text="Ticket description")).to_contain_text(
        "+15555550199 called."
    )
    expect(preview.get_by_role("table", name=re.compile(", a known caller$"))).to_be_visible()
    assert automations_of(web_hub, connected_account) == []

    page.get_by_label("Ticket subject").fill('{{contact.name|"A missed call"}}')
    page.get_by_label("Priority").select_option("urgent")
    page.get_by_role("button", name="Preview").click()
    subject_row = unknown.get_by_role("row").filter(has_text="Ticket subject")
    expect(subject_row).to_contain_text("A missed call")
    expect(subject_row).to_contain_text("accepted")
    expect(preview.locator(".badge--danger")).to_have_count(0)
    assert automations_of(web_hub, connected_account) == []
    page.get_by_role("button", name="Create automation").click()
    expect(page.get_by_text(f"Created “{NAME}”: {SUMMARY}.")).to_be_visible()
    [saved] = automations_of(web_hub, connected_account)
    assert saved["inputs"]["priority"] == "urgent"


def test_a_failed_execution_is_retried_with_the_corrected_mapping(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    automation = api_as(web_hub, connected_account, "POST", "/v1/automations", **MISSED_CALL_TICKET)
    web_hub.demo.bridge.fail_next(ACTION_ENDPOINT, 1, 400)
    failed = missed_call(web_hub, connected_account)
    assert failed["status"] == "failed", failed
    corrected = {"subject": "Call back {{call.from}}", "description": "{{call.to}} was called."}
    path = f"/v1/automations/{automation['id']}"
    api_as(web_hub, connected_account, "PATCH", path, inputs=corrected)
    sign_in(page, connected_account.key)
    page.goto("/ui/automations")
    page.get_by_role("link", name=labelled("Its executions", NAME)).click()
    expect(page.get_by_label("Automation")).to_have_value(automation["id"])
    page.get_by_role("link", name="Details").click()
    expect(page.locator(".lead")).to_contain_text(f"by the automation “{NAME}”")
    expect(page.get_by_role("button", name="Retry with the same input")).to_be_visible()

    page.get_by_role("button", name="Retry with the current mapping").click()

    expect(page.get_by_text("queued again with the automation's current mapping")).to_be_visible()
    after = finished(web_hub, connected_account, failed["id"])
    assert after["status"] == "succeeded", after
    sent = web_hub.demo.bridge.received(ACTION_ENDPOINT)[-1].json()["data"]
    assert sent["subject"] == f"Call back {web_hub.demo.caller}"
    assert after["data"] == sent
