"""Activity: executions and sync runs as the hub's own worker carries them out against the
real demo bridge; failing on purpose, retrying from the page, filtering, paging, and a
sync run's progress page following the run without a reload."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import as_account
from tests.web.conftest import HubAccount, WebHub, screenshot, sign_in
from tests.web.desks import synchronize

ACTION = "demo-helpdesk/create_ticket"
ACTION_ENDPOINT = "/helpdesk/actions/create_ticket"
CONTACTS_ENDPOINT = "/helpdesk/contact_sync"
MISSED_CALL_TICKET = {
    "trigger": "call.missed",
    "action": ACTION,
    "inputs": {
        "subject": "Missed call from {{contact.name}}",
        "description": "{{contact.name}} called {{call.to}} and nobody answered.",
    },
}
FINISHED_EXECUTION = ("succeeded", "failed", "held")


def api_as(web_hub: WebHub, account: HubAccount, method: str, path: str, **body: Any) -> Any:
    """Call the hub's API for `account`; answers the JSON body of a 2xx."""
    response = web_hub.api.request(method, path, json=body or None, headers=as_account(account.key))
    assert response.is_success, response.text
    return response.json() if response.content else None


def found(web_hub: WebHub, account: HubAccount, path: str) -> Any:
    """GET `path` for `account`; None while it is not found: the API answers a write before
    its transaction commits, so what it just created may not be readable at once."""
    response = web_hub.api.get(path, headers=as_account(account.key))
    if response.status_code == 404:
        return None
    assert response.is_success, response.text
    return response.json()


def until(read: Any, done: Any, what: str) -> Any:
    """Read until `done(answer)`; the hub's own worker carries jobs out meanwhile."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        answer = read()
        if done(answer):
            return answer
        time.sleep(0.1)
    raise AssertionError(f"{what} did not happen within 60 s: {answer}")


def helpdesk_activation(web_hub: WebHub, account: HubAccount) -> str:
    activations = api_as(web_hub, account, "GET", "/v1/activations")["items"]
    activation_id: str = next(a["id"] for a in activations if a["integration"] == "demo-helpdesk")
    return activation_id


def sync_helpdesk(web_hub: WebHub, account: HubAccount, what: str = "contacts") -> dict[str, Any]:
    """Sync the account's demo helpdesk and answer the run once it has finished."""
    return synchronize(web_hub, account, helpdesk_activation(web_hub, account), what)


def missed_call(web_hub: WebHub, account: HubAccount) -> dict[str, Any]:
    """Post a missed call from the demo's caller; answers its one execution once finished."""
    event_id = f"call-{uuid.uuid4().hex[:8]}"
    call = {"from": web_hub.demo.caller, "to": "+15555550100"}
    accepted = api_as(
        web_hub, account, "POST", "/v1/events", id=event_id, type="call.missed", call=call
    )
    assert len(accepted["executions"]) == 1, accepted
    return finished(web_hub, account, accepted["executions"][0])


def finished(web_hub: WebHub, account: HubAccount, execution_id: str) -> dict[str, Any]:
    return until(  # type: ignore[no-any-return]
        lambda: found(web_hub, account, f"/v1/executions/{execution_id}"),
        lambda execution: execution is not None and execution["status"] in FINISHED_EXECUTION,
        "the execution",
    )


def automate(web_hub: WebHub, account: HubAccount) -> HubAccount:
    """Sync the account's contacts (so a caller is known) and add the missed call automation."""
    assert sync_helpdesk(web_hub, account)["status"] == "succeeded"
    api_as(web_hub, account, "POST", "/v1/automations", **MISSED_CALL_TICKET)
    return account


@pytest.fixture
def automated(web_hub: WebHub, connected_account: HubAccount) -> HubAccount:
    return automate(web_hub, connected_account)


def test_an_event_runs_the_automation_and_activity_shows_it(
    page: Page, web_hub: WebHub, automated: HubAccount
) -> None:
    execution = missed_call(web_hub, automated)
    assert execution["status"] == "succeeded", execution
    sign_in(page, automated.key)
    page.get_by_role("link", name="Activity").click()
    row = page.get_by_role("row").filter(has_text="create a ticket in Demo Helpdesk")
    expect(row).to_have_count(1)
    expect(row.locator(".badge")).to_have_text("succeeded")
    expect(row).to_contain_text(
        "by the automation “Create a ticket in Demo Helpdesk when a call is missed”"
    )
    row.get_by_role("link", name="Details").click()
    expect(page).to_have_url(f"{web_hub.url}/ui/activity/executions/{execution['id']}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Create a ticket in Demo Helpdesk")
    expect(page.locator(".live__status")).to_contain_text("succeeded after 1 attempt")
    attempts = page.get_by_role("region", name="Attempts, oldest first")
    expect(attempts.get_by_role("row").nth(1)).to_contain_text("succeeded")
    subject = execution["data"]["subject"]
    assert subject.startswith("Missed call from "), subject
    assert subject != "Missed call from ", "the caller was not found among the contacts"
    expect(page.locator("#input-title + dl")).to_contain_text(subject)
    output = page.locator("#output-title + dl")
    expect(output).to_contain_text(execution["response"]["external_id"])
    expect(output).to_contain_text(execution["response"]["message"])
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)


def test_a_failed_execution_is_retried_from_its_page_once_fixed(
    page: Page, web_hub: WebHub, automated: HubAccount
) -> None:
    # The helpdesk refuses the next ticket; once that has passed, it takes them again.
    web_hub.demo.bridge.fail_next(ACTION_ENDPOINT, 1, 400)
    execution = missed_call(web_hub, automated)
    assert execution["status"] == "failed", execution
    sign_in(page, automated.key)
    page.goto("/ui/activity?status=failed")
    row = page.get_by_role("row").filter(has_text="create a ticket")
    expect(row).to_contain_text("Failing on purpose with 400.")
    row.get_by_role("link", name="Details").click()
    expect(page.locator(".live__status")).to_contain_text("failed after 1 attempt")
    expect(page.get_by_role("region", name="Attempts, oldest first")).to_contain_text("400")
    expect(page.get_by_role("region", name="Output")).to_contain_text(
        "None: the action did not succeed"
    )
    expect(page.get_by_text("Nothing yet")).to_have_count(0)
    page.get_by_role("button", name="Retry with the same input").click()
    expect(page.get_by_text("The execution is queued again with the same input.")).to_be_visible()
    # The page follows the execution and shows its end by itself.
    expect(page.locator(".live__status")).to_contain_text(
        "succeeded after 2 attempt", timeout=30_000
    )
    attempts = page.get_by_role("region", name="Attempts, oldest first").get_by_role("row")
    expect(attempts).to_have_count(3)
    expect(attempts.nth(2)).to_contain_text("succeeded")
    after = api_as(web_hub, automated, "GET", f"/v1/executions/{execution['id']}")
    assert after["status"] == "succeeded"
    expect(page.locator("#output-title + dl")).to_contain_text(after["response"]["external_id"])


def test_an_execution_on_the_list_changes_status_live(
    page: Page, web_hub: WebHub, automated: HubAccount
) -> None:
    # The helpdesk asks the hub to come back in 2 s: the execution waits, queued, meanwhile.
    web_hub.demo.bridge.fail_next(ACTION_ENDPOINT, 1, 503, retry_after=2)
    call = {"from": web_hub.demo.caller, "to": "+15555550100"}
    accepted = api_as(
        web_hub, automated, "POST", "/v1/events", id="call-live", type="call.missed", call=call
    )
    (execution_id,) = accepted["executions"]
    sign_in(page, automated.key)
    # The tab starts hidden, until the test shows it.
    page.add_init_script(
        "let hidden = true;"
        "Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });"
        "window.showTab = () => {"
        " hidden = false; document.dispatchEvent(new Event('visibilitychange')); };"
    )
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto("/ui/activity")
    row = page.get_by_role("row").filter(has_text="create a ticket in Demo Helpdesk")
    badge = row.locator(".badge")
    assert badge.inner_text() in ("queued", "running")
    page.evaluate("window.stillTheSamePage = true")
    page.wait_for_timeout(2000)
    assert not [url for url in asked if "/ui/live" in url], "asked while the tab was hidden"
    page.evaluate("window.showTab()")
    expect(badge).to_have_text("succeeded", timeout=30_000)
    expect(badge).to_have_class("badge badge--success")
    expect(row.locator("[data-live-field=attempts]")).to_have_text("2")
    assert page.evaluate("window.stillTheSamePage") is True
    assert finished(web_hub, automated, execution_id)["status"] == "succeeded"


def test_retrying_an_execution_that_succeeded_is_refused_with_a_reason(
    page: Page, web_hub: WebHub, automated: HubAccount
) -> None:
    execution = missed_call(web_hub, automated)
    sign_in(page, automated.key)
    page.goto(f"/ui/activity/executions/{execution['id']}")
    # A second tab retried it meanwhile: the form is stale, the hub says why it refuses.
    web_hub.demo.bridge.fail_next(ACTION_ENDPOINT, 1, 400)
    failed = missed_call(web_hub, automated)
    page.goto(f"/ui/activity/executions/{failed['id']}")
    api_as(web_hub, automated, "POST", f"/v1/executions/{failed['id']}/retry")
    finished_again = finished(web_hub, automated, failed["id"])
    assert finished_again["status"] == "succeeded"
    page.get_by_role("button", name="Retry with the same input").click()
    expect(page.locator(".flash--error")).to_have_text(
        "The execution is succeeded; only failed or held ones are retried."
    )


def test_executions_filter_by_status_integration_action_and_period(
    page: Page, web_hub: WebHub, automated: HubAccount
) -> None:
    succeeded = missed_call(web_hub, automated)
    web_hub.demo.bridge.fail_next(ACTION_ENDPOINT, 1, 400)
    failed = missed_call(web_hub, automated)
    sign_in(page, automated.key)
    page.goto("/ui/activity")
    details = page.get_by_role("link", name="Details")
    expect(details).to_have_count(2)
    screenshot(page, "activity")
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(
        f"{web_hub.url}/ui/activity?status=failed&integration=&action=&automation=&period="
    )
    expect(details).to_have_count(1)
    expect(details).to_have_attribute("href", f"/ui/activity/executions/{failed['id']}")
    page.get_by_label("Status").select_option("succeeded")
    page.get_by_label("Integration").select_option("demo-helpdesk")
    page.get_by_label("Action").select_option(ACTION)
    page.get_by_label("Period").select_option("1h")
    page.get_by_role("button", name="Filter").click()
    expect(details).to_have_count(1)
    expect(details).to_have_attribute("href", f"/ui/activity/executions/{succeeded['id']}")
    page.get_by_label("Status").select_option("held")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("No executions")).to_be_visible()
    page.get_by_role("link", name="Clear").click()
    expect(details).to_have_count(2)


def test_every_failed_execution_a_filter_matches_is_retried_after_confirming(
    page: Page, web_hub: WebHub, automated: HubAccount
) -> None:
    succeeded = missed_call(web_hub, automated)
    web_hub.demo.bridge.fail_next(ACTION_ENDPOINT, 2, 400)
    failed = [missed_call(web_hub, automated) for _ in range(2)]
    assert [e["status"] for e in failed] == ["failed", "failed"]
    sign_in(page, automated.key)
    page.goto("/ui/activity")
    page.get_by_label("Status").select_option("failed")
    page.get_by_label("Period").select_option("1h")
    page.get_by_role("button", name="Filter").click()
    retry_all = page.get_by_role("button", name="Retry all 2 matching")
    page.once("dialog", lambda dialog: dialog.dismiss())
    retry_all.click()
    expect(retry_all).to_be_visible()
    page.once("dialog", lambda dialog: dialog.accept())
    retry_all.click()
    expect(page.locator(".flash--success")).to_have_text("2 execution(s) queued again.")
    # Back on the same filtered list.
    expect(page).to_have_url(f"{web_hub.url}/ui/activity?status=failed&period=1h")
    for execution in failed:
        assert finished(web_hub, automated, execution["id"])["status"] == "succeeded"
    after = api_as(web_hub, automated, "GET", f"/v1/executions/{succeeded['id']}")
    assert after["attempts"] == 1
    page.reload()
    expect(page.get_by_text("No executions")).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("Retry all"))).to_have_count(0)


def test_a_filter_value_that_is_not_a_choice_is_named(page: Page, automated: HubAccount) -> None:
    sign_in(page, automated.key)
    response = page.goto("/ui/activity?status=exploded&period=1y")
    assert response is not None
    assert response.status == 422
    expect(page.locator("#field-status-error")).to_have_text(
        '"exploded" is not one of the choices: queued, running, succeeded, failed, held.'
    )
    expect(page.locator("#field-period-error")).to_contain_text('"1y" is not one of the choices')
    expect(page.get_by_label("Status")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_text("Correct the filters above.")).to_be_visible()


def test_executions_are_paged_newest_first(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    ticket = {"subject": "Call back", "description": "As promised."}
    queued = [
        api_as(web_hub, connected_account, "POST", "/v1/executions", action=ACTION, data=ticket)[
            "id"
        ]
        for _ in range(27)
    ]
    for execution_id in queued:
        finished(web_hub, connected_account, execution_id)
    sign_in(page, connected_account.key)
    page.goto("/ui/activity")
    details = page.get_by_role("link", name="Details")
    expect(details).to_have_count(25)
    expect(details.first).to_have_attribute("href", f"/ui/activity/executions/{queued[-1]}")
    expect(page.get_by_role("link", name="← Newer")).to_have_count(0)
    page.get_by_role("link", name="Older →").click()
    expect(page.get_by_text("Page 2")).to_be_visible()
    expect(details).to_have_count(2)
    expect(details.last).to_have_attribute("href", f"/ui/activity/executions/{queued[0]}")
    expect(page.get_by_role("link", name="Older →")).to_have_count(0)
    page.get_by_role("link", name="← Newer").click()
    expect(details).to_have_count(25)


def test_sync_runs_show_outcomes_and_filter(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    assert sync_helpdesk(web_hub, connected_account)["status"] == "succeeded"
    assert sync_helpdesk(web_hub, connected_account, "agents")["status"] == "succeeded"
    # The bridge is down for every try of the hub's client: the run ends, recorded as failed.
    web_hub.demo.bridge.fail_next(CONTACTS_ENDPOINT, 3, 503)
    failed = sync_helpdesk(web_hub, connected_account)
    assert failed["status"] == "failed", failed
    sign_in(page, connected_account.key)
    page.goto("/ui/activity")
    page.get_by_role("link", name="Sync runs").click()
    rows = page.get_by_role("region", name="Sync runs, newest first").get_by_role("row")
    # The schedule may have added a run of its own meanwhile: every run is listed.
    runs = api_as(web_hub, connected_account, "GET", "/v1/sync-runs")["items"]
    expect(rows).to_have_count(1 + len(runs))
    expect(rows.nth(1)).to_contain_text("failed")
    # Shown without the bridge's address, which is the hub's business.
    assert web_hub.demo.bridge_url in failed["error"]
    expect(rows.nth(1)).to_contain_text(
        "The bridge's contact synchronization endpoint answered 503 Service Unavailable."
    )
    expect(rows.nth(1)).not_to_contain_text(web_hub.demo.bridge_url)
    page.get_by_label("Status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    expect(rows).to_have_count(2)
    page.get_by_label("Status").select_option("")
    page.get_by_label("Kind").select_option("agents")
    page.get_by_role("button", name="Filter").click()
    agents = [run for run in runs if run["what"] == "agents"]
    expect(rows).to_have_count(1 + len(agents))
    expect(rows.nth(1)).to_contain_text("agents")
    rows.nth(1).get_by_role("link", name="Details").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Agents sync of Demo Helpdesk")
    expect(page.locator(".live__status")).to_contain_text("succeeded")


def test_a_running_sync_is_followed_live_on_its_page(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    # The bridge asks the hub to come back twice before answering the first page, so the run
    # is seen running before it finishes.
    web_hub.demo.bridge.fail_next(CONTACTS_ENDPOINT, 2, 503, retry_after=2)
    sign_in(page, connected_account.key)
    page.get_by_role("button", name="Sync contacts now from Demo Helpdesk").click()
    expect(page).to_have_url(re.compile(r"/ui/activity/syncs/[0-9a-f-]{36}$"))
    status = page.locator("[data-live-field=status]")
    assert status.inner_text() in ("queued", "running")
    expect(page.get_by_text("Updating as it runs…")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")
    expect(status).to_have_text("succeeded", timeout=30_000)
    expect(status).to_have_class("badge badge--success")
    expect(page.get_by_text("Finished.")).to_be_visible()
    run = api_as(web_hub, connected_account, "GET", f"/v1/sync-runs/{page.url.rsplit('/', 1)[1]}")
    assert run["status"] == "succeeded"
    assert run["created"] > 0
    expect(page.locator("[data-live-field=pages]")).to_have_text(str(run["pages"]))
    expect(page.locator("[data-live-field=created]")).to_have_text(str(run["created"]))
    expect(page.locator("[data-live-field=finished_at]")).not_to_have_text("—")
    assert page.evaluate("window.stillTheSamePage") is True


def test_another_accounts_runs_and_executions_are_not_found(
    page: Page, web_hub: WebHub, automated: HubAccount
) -> None:
    execution = missed_call(web_hub, automated)
    run = sync_helpdesk(web_hub, automated)
    other = web_hub.api.post("/v1/accounts", json={"name": "Elsewhere"}).json()
    try:
        sign_in(page, other["api_key"])
        for path in (
            f"/ui/activity/executions/{execution['id']}",
            f"/ui/activity/syncs/{run['id']}",
        ):
            response = page.goto(path)
            assert response is not None
            assert response.status == 404, path
        # Followed live, they are left out as if they did not exist.
        items = f"item=sync:{run['id']}&item=execution:{execution['id']}&item=executions:24h"
        live = page.request.get(f"/ui/live?{items}")
        assert live.ok, live.text()
        assert list(live.json()["items"]) == ["executions:24h"]
        refused = page.request.get("/ui/live?item=sync:nonsense")
        assert refused.status == 422
        assert "An item to follow is unknown." in refused.text()
    finally:
        web_hub.api.delete(f"/v1/accounts/{other['id']}")
