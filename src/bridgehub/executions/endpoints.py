"""HTTP layer of executions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, status

from bridgehub.accounts.auth import AccountCaller
from bridgehub.db.session import DbSession
from bridgehub.executions.schemas import (
    AttemptRead,
    ExecutionCreate,
    ExecutionList,
    ExecutionListQuery,
    ExecutionQueued,
    ExecutionRead,
    ExecutionRetryFilter,
    ExecutionsRetried,
)
from bridgehub.executions.service import execution_service
from bridgehub.kit.schemas import error_responses

router = APIRouter(prefix="/v1/executions", tags=["executions"])


@router.post(
    "",
    summary="Run an action by hand",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, 401, 403, 409, 422),
)
async def create_execution(
    data: ExecutionCreate, account: AccountCaller, session: DbSession
) -> ExecutionQueued:
    execution = await execution_service.create(
        session,
        account,
        action=data.action,
        data=data.data,
        contact_id=data.contact_id,
        agent_email=data.agent_email,
    )
    return ExecutionQueued(id=execution.id, status=execution.status)


@router.post(
    "/retry",
    summary="Queue again every failed or held execution matching the filters",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, 401, 403, 409, 422),
)
async def retry_executions(
    data: ExecutionRetryFilter, account: AccountCaller, session: DbSession
) -> ExecutionsRetried:
    criteria = await execution_service.filter_of(session, account, **data.model_dump())
    retried = await execution_service.retry_matching(session, account, criteria)
    return ExecutionsRetried(retried=retried)


@router.get("", summary="Recent executions, newest first", responses=error_responses(401, 403, 422))
async def list_executions(
    query: Annotated[ExecutionListQuery, Query()], account: AccountCaller, session: DbSession
) -> ExecutionList:
    criteria = await execution_service.filter_of(
        session, account, **query.model_dump(exclude={"limit"})
    )
    executions = await execution_service.search(session, account, criteria, limit=query.limit)
    return ExecutionList(items=[ExecutionRead.model_validate(e) for e in executions])


@router.get(
    "/{execution_id}",
    summary="An execution with every attempt",
    responses=error_responses(401, 403, 404),
)
async def get_execution(
    execution_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> ExecutionRead:
    execution = await execution_service.get(session, account, execution_id)
    attempts = await execution_service.attempts(session, execution)
    read = ExecutionRead.model_validate(execution)
    read.history = [AttemptRead.model_validate(attempt) for attempt in attempts]
    return read
