"""The dashboard: the landing page of an account, its figures per integration taken from
real syncs and executions, and the chart of the last 24 hours (drawn by the server)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import Page, expect

from bridgehub.executions.models import ExecutionStatus
from bridgehub.executions.service import HourlyCount
from bridgehub.web.pages.dashboard import chart
from tests.web.conftest import HubAccount, WebHub, screenshot, sign_in
from tests.web.test_activity import ACTION_ENDPOINT, api_as, automate, missed_call


def test_the_dashboard_is_the_landing_page_with_each_integrations_figures(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    automated = automate(web_hub, connected_account)
    assert missed_call(web_hub, automated)["status"] == "succeeded"
    assert missed_call(web_hub, automated)["status"] == "succeeded"
    web_hub.demo.bridge.fail_next(ACTION_ENDPOINT, 1, 400)
    assert missed_call(web_hub, automated)["status"] == "failed"
    contacts = len(api_as(web_hub, automated, "GET", "/v1/contacts?limit=200")["items"])
    runs = api_as(web_hub, automated, "GET", "/v1/sync-runs")["items"]
    run = next(each for each in runs if each["what"] == "contacts")

    sign_in(page, automated.key)
    expect(page).to_have_url(f"{web_hub.url}/ui/dashboard")
    expect(page.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    tiles = page.get_by_role("list", name="Executions by status")
    expect(tiles.get_by_role("link", name="2 succeeded")).to_have_attribute(
        "href", "/ui/activity?status=succeeded&period=24h"
    )
    expect(tiles.get_by_role("link", name="1 failed")).to_be_visible()
    expect(tiles.get_by_role("link", name="0 held")).to_be_visible()

    helpdesk = page.locator("#integration-demo-helpdesk")
    expect(helpdesk.get_by_role("rowheader")).to_contain_text("Demo Helpdesk")
    # The activation's status in the catalog's words.
    expect(helpdesk.get_by_role("rowheader").locator(".badge")).to_have_text("Active")
    expect(helpdesk.get_by_role("cell").nth(0)).to_have_text(str(contacts))
    last_sync = helpdesk.get_by_role("cell").nth(1)
    expect(last_sync).to_contain_text("succeeded")
    expect(last_sync.get_by_role("link")).to_have_attribute(
        "href", f"/ui/activity/syncs/{run['id']}"
    )
    failures = helpdesk.get_by_role("cell").nth(2)
    expect(failures).to_contain_text("1 execution(s), 0 sync(s)")
    expect(failures.get_by_role("link").first).to_have_attribute(
        "href", "/ui/activity?integration=demo-helpdesk&status=failed&period=24h"
    )
    expect(helpdesk.get_by_role("cell").nth(3).locator(".badge")).to_have_text(
        ["2 succeeded", "1 failed"]
    )

    figure = page.get_by_role("img", name="Executions per hour, last 24 hours")
    expect(figure).to_be_visible()
    hour = datetime.now(UTC).strftime("%H:00")
    description = (
        "3 executions in the last 24 hours: 2 succeeded, 1 failed, 0 queued, running or held."
    )
    expect(page.locator("#chart-description")).to_contain_text(description)
    expect(page.locator("rect.chart__bar--succeeded")).to_have_count(1)
    expect(page.locator("rect.chart__bar--failed")).to_have_count(1)
    screenshot(page, "dashboard")
    page.get_by_text("The chart as a table").click()
    current = page.get_by_role("region", name="Executions per hour").get_by_role("row").last
    expect(current).to_have_text(re.compile(rf"^{hour}\s*2\s*1\s*0\s*3$"))


def test_an_account_without_integrations_is_told_where_to_start(
    page: Page, account: HubAccount
) -> None:
    sign_in(page, account.key)
    expect(page.get_by_text("No integrations connected")).to_be_visible()
    expect(page.locator("#chart-description")).to_have_text("No executions in the last 24 hours.")
    expect(page.locator("rect")).to_have_count(0)


def test_sync_now_is_refused_with_a_reason_when_a_sync_cannot_run(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    sign_in(page, connected_account.key)
    activations = api_as(web_hub, connected_account, "GET", "/v1/activations")["items"]
    # Disconnected meanwhile, from another tab: the button of this page is stale.
    web_hub.sql(
        "UPDATE activations SET status = 'disabled' WHERE id = :id", id=activations[0]["id"]
    )
    page.get_by_role("button", name="Sync contacts now from Demo Helpdesk").click()
    expect(page.locator(".flash--error")).to_have_text(
        "The activation is disabled; only an active one syncs."
    )
    expect(page.get_by_role("button", name="Sync contacts now from Demo Helpdesk")).to_have_count(0)


def test_the_chart_stacks_each_hour_and_scales_to_the_busiest() -> None:
    now = datetime(2026, 11, 24, 15, 40, tzinfo=UTC)
    counts = [
        HourlyCount(datetime(2026, 11, 24, 15, tzinfo=UTC), ExecutionStatus.SUCCEEDED, 3),
        HourlyCount(datetime(2026, 11, 24, 15, tzinfo=UTC), ExecutionStatus.FAILED, 1),
        HourlyCount(datetime(2026, 11, 24, 9, tzinfo=UTC), ExecutionStatus.HELD, 1),
        HourlyCount(datetime(2026, 11, 24, 9, tzinfo=UTC), ExecutionStatus.QUEUED, 1),
        # Older than the window: left out.
        HourlyCount(now - timedelta(hours=30), ExecutionStatus.FAILED, 50),
    ]
    drawn = chart(counts, now)
    assert [bar.label for bar in drawn.bars][::6] == ["16:00", "22:00", "04:00", "10:00"]
    assert drawn.bars[-1].label == "15:00"
    assert [bar.label for bar in drawn.bars if bar.show_label][-2:] == ["12:00", "15:00"]
    assert drawn.peak == 4
    assert drawn.total == 6
    busiest = drawn.bars[-1]
    assert [(s.series, s.height) for s in busiest.segments] == [
        ("succeeded", 112.5),
        ("failed", 37.5),
    ]
    # Stacked from the baseline up: the failed part sits on the succeeded part.
    assert busiest.segments[0].y == drawn.baseline - 112.5
    assert busiest.segments[1].y == drawn.baseline - 150.0
    morning = next(bar for bar in drawn.bars if bar.label == "09:00")
    assert (morning.pending, morning.total) == (2, 2)
    assert [(s.series, s.height) for s in morning.segments] == [("pending", 75.0)]
    assert all(not bar.segments for bar in drawn.bars if bar.total == 0)
    assert drawn.description == (
        "6 executions in the last 24 hours: 3 succeeded, 1 failed, 2 queued, running or held. "
        "The busiest hour began at 15:00 UTC, with 4."
    )


def test_the_tiles_follow_executions_until_none_is_queued_or_running(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    automated = automate(web_hub, connected_account)
    # The helpdesk asks the hub to come back in 2 s: the execution waits, queued, meanwhile.
    web_hub.demo.bridge.fail_next(ACTION_ENDPOINT, 1, 503, retry_after=2)
    call = {"from": web_hub.demo.caller, "to": "+15555550100"}
    api_as(web_hub, automated, "POST", "/v1/events", id="call-tiles", type="call.missed", call=call)
    sign_in(page, automated.key)
    tiles = page.get_by_role("list", name="Executions by status")
    expect(tiles.get_by_role("link", name="0 succeeded")).to_be_visible()
    expect(tiles).to_have_attribute("data-live-item", "executions:24h")
    page.evaluate("window.stillTheSamePage = true")
    expect(tiles.get_by_role("link", name="1 succeeded")).to_be_visible(timeout=30_000)
    expect(tiles.get_by_role("link", name="0 queued")).to_be_visible()
    expect(tiles).not_to_have_attribute("data-live-item", re.compile("."))
    assert page.evaluate("window.stillTheSamePage") is True


def test_the_last_contact_sync_follows_a_run_until_it_ends(
    page: Page, web_hub: WebHub, connected_account: HubAccount
) -> None:
    web_hub.await_first_syncs(connected_account.id)
    # The bridge asks the hub to come back twice before answering: the run is still
    # unfinished when the dashboard shows it.
    web_hub.demo.bridge.fail_next("/helpdesk/contact_sync", 2, 503, retry_after=2)
    (activation,) = api_as(web_hub, connected_account, "GET", "/v1/activations")["items"]
    sync = f"/v1/activations/{activation['id']}/sync"
    run = api_as(web_hub, connected_account, "POST", sync, what="contacts")
    sign_in(page, connected_account.key)
    last_sync = page.locator("#integration-demo-helpdesk").get_by_role("cell").nth(1)
    expect(last_sync.get_by_role("link")).to_have_attribute(
        "href", f"/ui/activity/syncs/{run['run_id']}"
    )
    badge = last_sync.locator(".badge")
    assert badge.inner_text() in ("queued", "running")
    page.evaluate("window.stillTheSamePage = true")
    expect(badge).to_have_text("succeeded", timeout=30_000)
    expect(badge).to_have_class("badge badge--success")
    expect(last_sync).not_to_have_attribute("data-live-item", re.compile("."))
    assert page.evaluate("window.stillTheSamePage") is True
