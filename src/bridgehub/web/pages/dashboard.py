"""The dashboard, where an account's operator lands: per integration, what was synced and
what failed lately, and the executions of the last 24 hours hour by hour."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from bridgehub.activations.models import ActivationStatus
from bridgehub.activations.service import activation_service
from bridgehub.contacts.service import contact_service
from bridgehub.db.session import DbSession
from bridgehub.executions.models import ExecutionStatus
from bridgehub.executions.service import HourlyCount, execution_service
from bridgehub.kit.errors import Conflict
from bridgehub.syncs.models import SyncKind, SyncRun
from bridgehub.syncs.service import offers, sync_service
from bridgehub.web import nav
from bridgehub.web.auth import SignedInAccount, account_of
from bridgehub.web.pages.activity import EXECUTION_TONES, SYNC_TONES, UNFINISHED_RUNS
from bridgehub.web.pages.catalog import STATUS_BADGES, Badge
from bridgehub.web.templating import Flash, render, see_other
from bridgehub.web.wording import scrubbed

router = APIRouter()
nav.register("Dashboard", "dashboard", position=10, audience="account")

WINDOW = timedelta(hours=24)

_PENDING = (ExecutionStatus.QUEUED, ExecutionStatus.RUNNING, ExecutionStatus.HELD)

# The chart's geometry, in SVG user units; the picture scales with the page.
_CHART_WIDTH, _CHART_HEIGHT, _AXIS = 960, 150, 20
_SLOT = _CHART_WIDTH / 24
_BAR = _SLOT * 0.7


@dataclass(frozen=True)
class IntegrationSummary:
    activation_id: uuid.UUID
    name: str
    display_name: str
    status: ActivationStatus
    badge: Badge
    """The activation's status in the catalog's words."""
    contacts: int
    last_sync: SyncRun | None
    last_sync_error: str
    failed_syncs: int
    failed_executions: int
    executions: list[tuple[ExecutionStatus, int]]
    """The last 24 hours' executions by status, statuses without any left out."""
    can_sync: bool

    @property
    def failures(self) -> int:
        return self.failed_syncs + self.failed_executions


@dataclass(frozen=True)
class Segment:
    series: str
    y: float
    height: float


@dataclass(frozen=True)
class Bar:
    label: str
    """The hour, "14:00"."""
    x: float
    total: int
    succeeded: int
    failed: int
    pending: int
    segments: list[Segment]
    show_label: bool


@dataclass(frozen=True)
class Chart:
    bars: list[Bar]
    peak: int
    total: int
    description: str
    """The chart in words, for whoever cannot see it."""
    width: int = _CHART_WIDTH
    bar_width: float = round(_BAR, 2)
    height: int = _CHART_HEIGHT + _AXIS
    baseline: int = _CHART_HEIGHT


@router.get("/dashboard", name="dashboard")
async def dashboard(request: Request, operator: SignedInAccount, session: DbSession) -> Response:
    account = account_of(operator)
    now = datetime.now(UTC)
    since = now - WINDOW
    activations = await activation_service.list(session, account)
    contacts = await contact_service.counts(session, account)
    last_syncs = await sync_service.latest(session, account, SyncKind.CONTACTS)
    failed_syncs = await sync_service.failures_since(session, account, since)
    executions = await execution_service.status_counts(session, account, since)
    summaries = []
    for activation in activations:
        configuration = activation.integration.configuration
        by_status = executions.get(activation.id, {})
        last_run = last_syncs.get(activation.id)
        summaries.append(
            IntegrationSummary(
                activation_id=activation.id,
                name=activation.integration.name,
                display_name=configuration["display_name"],
                status=activation.status,
                badge=Badge(*STATUS_BADGES[activation.status]),
                contacts=contacts.get(activation.id, 0),
                last_sync=last_run,
                last_sync_error=scrubbed(last_run.error if last_run else None),
                failed_syncs=failed_syncs.get(activation.id, 0),
                failed_executions=by_status.get(ExecutionStatus.FAILED, 0),
                executions=[(s, by_status[s]) for s in ExecutionStatus if by_status.get(s)],
                can_sync=activation.status == ActivationStatus.ACTIVE
                and offers(activation.integration, SyncKind.CONTACTS),
            )
        )
    totals = execution_totals(executions)
    context = {
        "summaries": summaries,
        "totals": totals,
        "totals_running": running(totals),
        "syncs_running": any(
            summary.last_sync.status in UNFINISHED_RUNS
            for summary in summaries
            if summary.last_sync is not None
        ),
        "unfinished_runs": UNFINISHED_RUNS,
        "chart": chart(await execution_service.hourly_counts(session, account, since), now),
        "execution_tones": EXECUTION_TONES,
        "sync_tones": SYNC_TONES,
        "failures_query": _failures_query,
    }
    return render(request, "dashboard/index.html", context)


@router.post("/dashboard/activations/{activation_id}/sync")
async def sync_now(
    request: Request, activation_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    """Sync the integration's contacts now, then follow the run on its progress page."""
    activation = await activation_service.get(session, account_of(operator), activation_id)
    try:
        run = await sync_service.request(session, activation, SyncKind.CONTACTS, trigger="manual")
    except Conflict as refusal:
        return see_other(
            request, request.app.url_path_for("dashboard"), Flash("error", refusal.message)
        )
    url = request.app.url_path_for("sync_run", run_id=str(run.id))
    return see_other(request, url, Flash("info", "Contact sync queued."))


def execution_totals(
    counts: Mapping[uuid.UUID, Mapping[ExecutionStatus, int]],
) -> dict[ExecutionStatus, int]:
    """The executions of every activation by status, every status present."""
    totals = dict.fromkeys(ExecutionStatus, 0)
    for by_status in counts.values():
        for status, count in by_status.items():
            totals[status] += count
    return totals


def running(totals: Mapping[ExecutionStatus, int]) -> bool:
    """Whether the totals are still moving on their own (held ones wait for a person)."""
    return totals[ExecutionStatus.QUEUED] + totals[ExecutionStatus.RUNNING] > 0


def chart(counts: Sequence[HourlyCount], now: datetime) -> Chart:
    """Stacked bars of executions per hour over the 24 hours up to `now`'s hour."""
    current = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    hours = [current - timedelta(hours=23 - index) for index in range(24)]
    tallies = {hour: {"succeeded": 0, "failed": 0, "pending": 0} for hour in hours}
    for count in counts:
        if count.hour in tallies:
            tallies[count.hour][_series(count.status)] += count.count
    peak = max((sum(t.values()) for t in tallies.values()), default=0)
    scale = _CHART_HEIGHT / max(peak, 1)
    bars = []
    for index, hour in enumerate(hours):
        tally = tallies[hour]
        segments, top = [], float(_CHART_HEIGHT)
        for series in ("succeeded", "failed", "pending"):
            height = tally[series] * scale
            if height:
                top -= height
                segments.append(Segment(series, round(top, 2), round(height, 2)))
        bars.append(
            Bar(
                label=hour.strftime("%H:00"),
                x=round(index * _SLOT + (_SLOT - _BAR) / 2, 2),
                total=sum(tally.values()),
                succeeded=tally["succeeded"],
                failed=tally["failed"],
                pending=tally["pending"],
                segments=segments,
                show_label=(23 - index) % 3 == 0,
            )
        )
    total = sum(bar.total for bar in bars)
    return Chart(bars, peak, total, _describe(bars, total))


def _series(status: ExecutionStatus) -> str:
    if status in _PENDING:
        return "pending"
    return status.value


def _describe(bars: list[Bar], total: int) -> str:
    if not total:
        return "No executions in the last 24 hours."
    succeeded = sum(bar.succeeded for bar in bars)
    failed = sum(bar.failed for bar in bars)
    busiest = max(bars, key=lambda bar: bar.total)
    return (
        f"{total} executions in the last 24 hours: {succeeded} succeeded, {failed} failed, "
        f"{total - succeeded - failed} queued, running or held. The busiest hour began at "
        f"{busiest.label} UTC, with {busiest.total}."
    )


def _failures_query(summary: IntegrationSummary) -> str:
    return urlencode({"integration": summary.name, "status": "failed", "period": "24h"})
