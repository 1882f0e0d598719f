"""HTTP layer of sync runs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from bridgehub.accounts.auth import AccountCaller
from bridgehub.activations.service import activation_service
from bridgehub.db.session import DbSession
from bridgehub.kit.schemas import error_responses
from bridgehub.syncs.schemas import SyncRequest, SyncRunList, SyncRunRead, SyncStarted
from bridgehub.syncs.service import sync_service

router = APIRouter(prefix="/v1", tags=["sync"])


@router.post(
    "/activations/{activation_id}/sync",
    summary="Synchronize contacts or agents now",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def request_sync(
    activation_id: uuid.UUID, data: SyncRequest, account: AccountCaller, session: DbSession
) -> SyncStarted:
    activation = await activation_service.get(session, account, activation_id)
    run = await sync_service.request(
        session, activation, data.what, trigger="manual", full=data.full
    )
    return SyncStarted(run_id=run.id, status=run.status)


@router.get(
    "/sync-runs/{run_id}",
    summary="A sync run's progress and outcome",
    responses=error_responses(401, 403, 404),
)
async def get_sync_run(
    run_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> SyncRunRead:
    return SyncRunRead.model_validate(await sync_service.get(session, account, run_id))


@router.post(
    "/sync-runs/{run_id}/confirm-deletions",
    summary="Remove the contacts a full run held back as too many",
    responses=error_responses(401, 403, 404, 409),
)
async def confirm_deletions(
    run_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> SyncRunRead:
    run = await sync_service.confirm_deletions(session, account, run_id)
    return SyncRunRead.model_validate(run)


@router.get(
    "/sync-runs", summary="Recent sync runs, newest first", responses=error_responses(401, 403)
)
async def list_sync_runs(
    account: AccountCaller,
    session: DbSession,
    activation_id: Annotated[
        uuid.UUID | None, Query(description="Only this activation's runs.")
    ] = None,
) -> SyncRunList:
    runs = await sync_service.list(session, account, activation_id)
    return SyncRunList(items=[SyncRunRead.model_validate(run) for run in runs])
