"""Activity: the account's sync runs and executions, filtered and paged; a sync run's
progress (kept up to date by live.js, through `pages/live.py`); an execution's attempts,
input and output, and retrying one that failed, or every failed or held one the filters
match."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response

from bridgehub.accounts.auth import Account
from bridgehub.activations.models import Activation
from bridgehub.activations.service import activation_service
from bridgehub.automations.schemas import ExecutionRetry
from bridgehub.automations.service import automation_service
from bridgehub.db.session import DbSession
from bridgehub.executions.models import Execution, ExecutionStatus
from bridgehub.executions.service import RETRYABLE, ExecutionFilter, execution_service
from bridgehub.integrations.service import action_service
from bridgehub.kit.errors import Conflict, InvalidInput, NotFound
from bridgehub.kit.redaction import known_secrets
from bridgehub.syncs.models import FullReason, SyncKind, SyncRun, SyncStatus
from bridgehub.syncs.service import SyncRunFilter, sync_service
from bridgehub.web import nav
from bridgehub.web.auth import SignedInAccount, account_of
from bridgehub.web.templating import Flash, render, see_other
from bridgehub.web.wording import scrubbed

router = APIRouter()
nav.register("Activity", "activity", position=60, audience="account")

PAGE_SIZE = 25

EXECUTION_TONES = {
    ExecutionStatus.QUEUED: "info",
    ExecutionStatus.RUNNING: "info",
    ExecutionStatus.SUCCEEDED: "success",
    ExecutionStatus.FAILED: "danger",
    ExecutionStatus.HELD: "warning",
}
SYNC_TONES = {
    SyncStatus.QUEUED: "info",
    SyncStatus.RUNNING: "info",
    SyncStatus.SUCCEEDED: "success",
    SyncStatus.FAILED: "danger",
}
UNFINISHED_RUNS = (SyncStatus.QUEUED, SyncStatus.RUNNING)
FINISHED_EXECUTIONS = (ExecutionStatus.SUCCEEDED, *RETRYABLE)
"""Where an execution stays until someone retries it: pages stop following it there."""
_PERIODS = {
    "1h": ("Last hour", timedelta(hours=1)),
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
}


@dataclass(frozen=True)
class Filters:
    """Filters as typed in the address, the problems found in them, and the choices
    each drop-down offers."""

    values: dict[str, str]
    errors: dict[str, str]
    options: dict[str, list[tuple[str, str]]]

    def query(self, **changes: str) -> str:
        """The address query of these filters with `changes`, leaving empty ones out."""
        merged = {**self.values, **changes}
        return urlencode({key: value for key, value in merged.items() if value})


@dataclass(frozen=True)
class Paging:
    number: int
    newer: str | None
    """The query of the newer page, None on the first."""
    older: str | None
    """The query of the older page, None on the last."""


# --- executions ------------------------------------------------------------------------------


@router.get("/activity", name="activity")
async def executions(request: Request, operator: SignedInAccount, session: DbSession) -> Response:
    account = account_of(operator)
    activations = await activation_service.list(session, account)
    actions = await _action_names(session, activations)
    automations = await _automation_names(session, account)
    filters, criteria = _read_execution_filters(request, activations, actions, automations)
    page = _page_number(request, filters)
    rows: Sequence[Execution] = []
    retryable = 0
    # The page number is read after the filters: an unreadable one is an error of its own.
    if criteria is not None and not filters.errors:
        rows = await execution_service.search(
            session, account, criteria, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
        )
        retryable = await execution_service.retryable_count(session, account, criteria)
    context = {
        "filters": filters,
        "paging": _paging(filters, page, len(rows)),
        "executions": [_execution_row(e, actions, activations) for e in rows[:PAGE_SIZE]],
        "automation_names": automations,
        "retryable": retryable,
        "tones": EXECUTION_TONES,
        "finished": FINISHED_EXECUTIONS,
    }
    status_code = 422 if filters.errors else 200
    return render(request, "activity/executions.html", context, status_code=status_code)


@router.get("/activity/executions/{execution_id}", name="execution")
async def execution(
    request: Request, execution_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    account = account_of(operator)
    found = await execution_service.get(session, account, execution_id)
    activations = await activation_service.list(session, account)
    actions = await _action_names(session, activations)
    automation = None
    if found.automation_id is not None:
        with suppress(NotFound):  # deleted since: the page says so
            automation = await automation_service.get(session, account, found.automation_id)
    context = {
        "execution": _execution_row(found, actions, activations),
        "automation": automation,
        "record": found,
        "attempts": [
            (attempt, scrubbed(attempt.message))
            for attempt in await execution_service.attempts(session, found)
        ],
        "input": _shown(found.data),
        "output": _shown(found.response or {}),
        "retryable": found.status in RETRYABLE,
        "unfinished": found.status not in FINISHED_EXECUTIONS,
        "tones": EXECUTION_TONES,
    }
    return render(request, "activity/execution.html", context)


@router.post("/activity/executions/{execution_id}/retry")
async def retry(
    request: Request, execution_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    url = request.app.url_path_for("execution", execution_id=str(execution_id))
    current = (await request.form()).get("input") == "current"
    retry = ExecutionRetry(input="current" if current else "same")
    try:
        await automation_service.retry(session, account_of(operator), execution_id, retry)
    except (Conflict, InvalidInput) as refusal:
        details = " ".join(detail["message"] for detail in refusal.details)
        return see_other(request, url, Flash("error", f"{refusal.message} {details}".strip()))
    queued = "with the automation's current mapping" if current else "with the same input"
    return see_other(request, url, Flash("success", f"The execution is queued again {queued}."))


@router.post("/activity/executions/retry")
async def retry_matching(
    request: Request, operator: SignedInAccount, session: DbSession
) -> Response:
    """Queue again every failed or held execution the filters in the address match: the
    list's own filters, read as the list reads them, so the two cannot mean different ones."""
    account = account_of(operator)
    activations = await activation_service.list(session, account)
    filters, criteria = _read_execution_filters(
        request,
        activations,
        await _action_names(session, activations),
        await _automation_names(session, account),
    )
    query = filters.query(page="")
    url = request.app.url_path_for("activity") + (f"?{query}" if query else "")
    if criteria is None:
        return see_other(request, url, Flash("error", "Correct the filters first."))
    try:
        retried = await execution_service.retry_matching(session, account, criteria)
    except (Conflict, InvalidInput) as refusal:
        return see_other(request, url, Flash("error", refusal.message))
    return see_other(request, url, Flash("success", f"{retried} execution(s) queued again."))


def _read_execution_filters(
    request: Request,
    activations: Sequence[Activation],
    actions: Mapping[str, str],
    automations: Mapping[str, str],
) -> tuple[Filters, ExecutionFilter | None]:
    """The executions list's filters, and what they match (None when one is not a choice)."""
    filters, criteria = _read_filters(
        request,
        activations,
        {
            "status": _choices(ExecutionStatus),
            "action": sorted(actions.items(), key=_label),
            "automation": sorted(automations.items(), key=_label),
        },
    )
    if filters.errors:
        return filters, None
    automation = criteria.get("automation")
    return filters, ExecutionFilter(
        status=ExecutionStatus(criteria["status"]) if criteria.get("status") else None,
        activation_id=criteria.get("activation_id"),
        action=criteria.get("action"),
        automation_id=uuid.UUID(automation) if automation else None,
        since=criteria.get("since"),
    )


# --- sync runs -------------------------------------------------------------------------------


@router.get("/activity/syncs", name="activity_syncs")
async def sync_runs(request: Request, operator: SignedInAccount, session: DbSession) -> Response:
    account = account_of(operator)
    activations = await activation_service.list(session, account)
    filters, criteria = _read_filters(
        request, activations, {"status": _choices(SyncStatus), "kind": _choices(SyncKind)}
    )
    page = _page_number(request, filters)
    rows: Sequence[SyncRun] = []
    if not filters.errors:
        rows = await sync_service.search(
            session,
            account,
            SyncRunFilter(
                status=SyncStatus(criteria["status"]) if criteria.get("status") else None,
                activation_id=criteria.get("activation_id"),
                kind=SyncKind(criteria["kind"]) if criteria.get("kind") else None,
                since=criteria.get("since"),
            ),
            limit=PAGE_SIZE + 1,
            offset=(page - 1) * PAGE_SIZE,
        )
    names = _integration_names(activations)
    context = {
        "filters": filters,
        "paging": _paging(filters, page, len(rows)),
        "runs": [
            (run, names.get(run.activation_id, ""), scrubbed(run.error)) for run in rows[:PAGE_SIZE]
        ],
        "tones": SYNC_TONES,
        "duration": duration,
    }
    status_code = 422 if filters.errors else 200
    return render(request, "activity/syncs.html", context, status_code=status_code)


@router.get("/activity/syncs/{run_id}", name="sync_run")
async def sync_run(
    request: Request, run_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    account = account_of(operator)
    run = await sync_service.get(session, account, run_id)
    names = _integration_names(await activation_service.list(session, account))
    context = {
        "run": run,
        "integration": names.get(run.activation_id, ""),
        "progress": run_fields(run),
        "unfinished": run.status in UNFINISHED_RUNS,
        "tones": SYNC_TONES,
        "why_full": WHY_FULL,
    }
    return render(request, "activity/sync.html", context)


@router.post("/activity/syncs/{run_id}/confirm-deletions")
async def confirm_deletions(
    request: Request, run_id: uuid.UUID, operator: SignedInAccount, session: DbSession
) -> Response:
    url = request.app.url_path_for("sync_run", run_id=str(run_id))
    try:
        run = await sync_service.confirm_deletions(session, account_of(operator), run_id)
    except Conflict as refusal:
        return see_other(request, url, Flash("error", refusal.message))
    return see_other(request, url, Flash("success", f"{run.deleted} contact(s) removed."))


WHY_FULL = {
    FullReason.FIRST: "in full, as the first sync",
    FullReason.NO_CHECKPOINT: "in full, as the bridge keeps no checkpoint",
    FullReason.REQUESTED: "in full, as asked",
    FullReason.CHECKPOINT_REFUSED: "in full, as the bridge could no longer use the checkpoint",
    FullReason.AFTER_REJECTIONS: "in full, to fetch again the contacts the last sync rejected",
}


def run_fields(run: SyncRun) -> dict[str, str]:
    """A run's figures as its pages show them, and as live.js updates them."""
    return {
        "status": str(run.status),
        "pages": str(run.pages),
        "created": str(run.created),
        "updated": str(run.updated),
        "unchanged": str(run.unchanged),
        "rejected": str(run.rejected),
        "deleted": str(run.deleted),
        "error": scrubbed(run.error),
        "started_at": _moment(run.started_at),
        "finished_at": _moment(run.finished_at),
        "duration": duration(run.started_at, run.finished_at),
        "summary": contacts_summary(run),
    }


def contacts_summary(run: SyncRun) -> str:
    """What a contact sync did to the contacts, in a few words (a dash for other syncs)."""
    if run.kind != SyncKind.CONTACTS:
        return "—"
    parts = [f"{run.created} new", f"{run.updated} changed", f"{run.unchanged} unchanged"]
    optional = {
        "rejected": run.rejected,
        "removed": run.deleted,
        "removals held": run.deletions_held,
    }
    parts += [f"{count} {what}" for what, count in optional.items() if count]
    return ", ".join(parts)


def rejection_line(rejection: Mapping[str, Any]) -> str:
    return f"Page {rejection.get('page')}, contact {rejection.get('id')}: {rejection.get('reason')}"


# --- shared by the pages ---------------------------------------------------------------------


@dataclass(frozen=True)
class ExecutionRow:
    id: uuid.UUID
    action: str
    """What it does, in words: "create a ticket in Demo Helpdesk"."""
    action_name: str
    status: ExecutionStatus
    attempts: int
    error: str | None
    automation_id: uuid.UUID | None
    event_id: str | None
    created_at: datetime
    finished_at: datetime | None


def _execution_row(
    execution: Execution, actions: Mapping[str, str], activations: Sequence[Activation]
) -> ExecutionRow:
    names = _integration_names(activations)
    described = actions.get(execution.action)
    integration = names.get(execution.activation_id)
    if described and integration:
        described = f"{described} in {integration}"
    return ExecutionRow(
        id=execution.id,
        action=described or execution.action,
        action_name=execution.action,
        status=execution.status,
        attempts=execution.attempts,
        error=scrubbed(execution.error) or None,
        automation_id=execution.automation_id,
        event_id=execution.event_id,
        created_at=execution.created_at,
        finished_at=execution.finished_at,
    )


async def _action_names(session: DbSession, activations: Sequence[Activation]) -> dict[str, str]:
    """`provider/name` to the action's words, for the actions of the account's integrations."""
    connected = {activation.integration_id for activation in activations}
    return {
        f"{action.integration.name}/{action.name}": action.configuration["display"]
        for action in await action_service.list(session)
        if action.integration_id in connected
    }


async def _automation_names(session: DbSession, account: Account) -> dict[str, str]:
    """Each automation of the account's id (as the address writes it) to its name."""
    automations = await automation_service.list(session, account)
    return {str(automation.id): automation.name for automation in automations}


def _integration_names(activations: Sequence[Activation]) -> dict[uuid.UUID, str]:
    return {a.id: a.integration.configuration["display_name"] for a in activations}


def _shown(values: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Input or output as (key, text) pairs, without any secret the hub knows of."""
    scrubbed = known_secrets.scrub_value(dict(values))
    return [
        (key, value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
        for key, value in scrubbed.items()
    ]


def _read_filters(
    request: Request,
    activations: Sequence[Activation],
    choices: dict[str, list[tuple[str, str]]],
) -> tuple[Filters, dict[str, Any]]:
    """The filters of the address: the integration (by name), the period, and each of
    `choices`. Answers them and, when all are valid, what to search for."""
    by_name = {a.integration.name: a for a in activations}
    options = {
        **choices,
        "integration": sorted(
            ((name, a.integration.configuration["display_name"]) for name, a in by_name.items()),
            key=_label,
        ),
        "period": [(key, label) for key, (label, _) in _PERIODS.items()],
    }
    values = {name: request.query_params.get(name, "").strip() for name in options}
    errors: dict[str, str] = {}
    for name, value in values.items():
        allowed = [key for key, _ in options[name]]
        if value and value not in allowed:
            errors[name] = f'"{value}" is not one of the choices: {", ".join(allowed) or "none"}.'
    criteria: dict[str, Any] = {name: values[name] or None for name in choices}
    if values["integration"] in by_name:
        criteria["activation_id"] = by_name[values["integration"]].id
    if values["period"] in _PERIODS:
        criteria["since"] = datetime.now(UTC) - _PERIODS[values["period"]][1]
    values["page"] = request.query_params.get("page", "")
    return Filters(values, errors, options), criteria


def _page_number(request: Request, filters: Filters) -> int:
    raw = request.query_params.get("page", "1")
    if raw.isdecimal() and 1 <= int(raw) <= 100_000:
        return int(raw)
    filters.errors["page"] = f'"{raw}" is not a page number.'
    return 1


def _paging(filters: Filters, page: int, found: int) -> Paging:
    newer = filters.query(page=str(page - 1) if page > 2 else "") if page > 1 else None
    older = filters.query(page=str(page + 1)) if found > PAGE_SIZE else None
    return Paging(page, newer, older)


def _choices(
    values: type[ExecutionStatus] | type[SyncStatus] | type[SyncKind],
) -> list[tuple[str, str]]:
    return [(value.value, value.value.capitalize()) for value in values]


def _label(option: tuple[str, str]) -> str:
    return option[1].lower()


def _moment(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def duration(started: datetime | None, finished: datetime | None) -> str:
    """How long something ran (until now while it runs), in words a person reads at once."""
    if started is None:
        return "—"
    seconds = ((finished or datetime.now(UTC)) - started).total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"
