"""Live updates: one request answers every sync run, execution and figure a page shows
while they change (live.js asks it about the items the page marks with `data-live-item`),
in one statement per kind of item named, however many items a page shows."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from bridgehub.db.session import DbSession
from bridgehub.executions.models import Execution
from bridgehub.executions.service import execution_service
from bridgehub.kit.errors import InvalidInput, Problem
from bridgehub.syncs.models import SyncRun
from bridgehub.syncs.service import sync_service
from bridgehub.web.auth import SignedInAccount, account_of
from bridgehub.web.pages.activity import (
    EXECUTION_TONES,
    FINISHED_EXECUTIONS,
    SYNC_TONES,
    UNFINISHED_RUNS,
    rejection_line,
    run_fields,
)
from bridgehub.web.pages.dashboard import WINDOW, execution_totals, running
from bridgehub.web.wording import scrubbed

router = APIRouter()

MAX_ITEMS = 100
"""More than any page shows at once."""
SYNC = "sync"
EXECUTION = "execution"
DASHBOARD_TOTALS = "executions:24h"
"""The dashboard's tiles: the last 24 hours' executions by status."""

Item = dict[str, Any]
"""What live.js reads of one item: {"finished", "fields", "tones", "lists"}."""


@router.get("/live", name="live")
async def live(request: Request, operator: SignedInAccount, session: DbSession) -> Response:
    """The items named by each `item` of the query: `sync:<id>`, `execution:<id>` or
    `executions:24h`. Items the account does not have are left out, which tells the page
    to stop following them."""
    account = account_of(operator)
    wanted = request.query_params.getlist("item")
    if len(wanted) > MAX_ITEMS:
        raise InvalidInput(
            "Too many items to follow.", [Problem("item", f"at most {MAX_ITEMS} at once")]
        )
    runs, executions, totals_wanted = _read(wanted)
    items: dict[str, Item] = {}
    if runs:
        found_runs = await sync_service.get_many(session, account, runs)
        items |= {f"{SYNC}:{run.id}": _sync_item(run) for run in found_runs}
    if executions:
        found = await execution_service.get_many(session, account, executions)
        items |= {f"{EXECUTION}:{each.id}": _execution_item(each) for each in found}
    if totals_wanted:
        counts = await execution_service.status_counts(session, account, datetime.now(UTC) - WINDOW)
        totals = execution_totals(counts)
        items[DASHBOARD_TOTALS] = _item(
            not running(totals), {str(status): str(count) for status, count in totals.items()}
        )
    return JSONResponse({"items": items}, headers={"Cache-Control": "no-store"})


def _read(wanted: list[str]) -> tuple[set[uuid.UUID], set[uuid.UUID], bool]:
    """The sync runs and executions `wanted` names, and whether it asks for the dashboard's
    totals; an item of no known form is refused."""
    ids: dict[str, set[uuid.UUID]] = {SYNC: set(), EXECUTION: set()}
    for item in wanted:
        if item == DASHBOARD_TOTALS:
            continue
        kind, _, raw = item.partition(":")
        parsed = _uuid(raw) if kind in ids else None
        if parsed is None:
            problem = f'"{item}" is none of sync:<id>, execution:<id> and {DASHBOARD_TOTALS}'
            raise InvalidInput("An item to follow is unknown.", [Problem("item", problem)])
        ids[kind].add(parsed)
    return ids[SYNC], ids[EXECUTION], DASHBOARD_TOTALS in wanted


def _uuid(written: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(written)
    except ValueError:
        return None


def _sync_item(run: SyncRun) -> Item:
    rejections = [rejection_line(each) for each in run.rejections]
    tones = {"status": SYNC_TONES[run.status]}
    return _item(run.status not in UNFINISHED_RUNS, run_fields(run), tones, rejections=rejections)


def _execution_item(execution: Execution) -> Item:
    fields = {
        "status": str(execution.status),
        "attempts": str(execution.attempts),
        "error": scrubbed(execution.error),
    }
    tones = {"status": EXECUTION_TONES[execution.status]}
    return _item(execution.status in FINISHED_EXECUTIONS, fields, tones)


def _item(
    finished: bool,
    fields: dict[str, str],
    tones: dict[str, str] | None = None,
    **lists: list[str],
) -> Item:
    return {"finished": finished, "fields": fields, "tones": tones or {}, "lists": lists}
