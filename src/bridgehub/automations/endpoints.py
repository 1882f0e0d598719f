"""HTTP layer of automations and events."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Response, status
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import AccountCaller
from bridgehub.automations.models import Automation
from bridgehub.automations.schemas import (
    AutomationCreate,
    AutomationList,
    AutomationRead,
    AutomationUpdate,
    Conditions,
    EventAccepted,
    EventCreate,
    ExecutionRetry,
)
from bridgehub.automations.service import automation_service, event_service
from bridgehub.db.session import DbSession
from bridgehub.executions.schemas import ExecutionQueued
from bridgehub.kit.schemas import error_responses

router = APIRouter(prefix="/v1", tags=["automations"])
# Retrying with the current mapping renders an automation's templates again, so retries are
# decided here, above executions, which know nothing of automations.
retry_router = APIRouter(prefix="/v1/executions", tags=["executions"])


async def _read(session: AsyncSession, automation: Automation) -> AutomationRead:
    return AutomationRead(
        id=automation.id,
        name=automation.name,
        trigger=automation.trigger,
        action=automation.action,
        inputs=automation.inputs,
        conditions=Conditions.model_validate(automation.conditions),
        enabled=automation.enabled,
        replay=automation.replay,
        summary=await automation_service.summary(session, automation),
        created_at=automation.created_at,
        updated_at=automation.updated_at,
    )


@router.post(
    "/automations",
    summary="Create an automation",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 422),
)
async def create_automation(
    data: AutomationCreate, account: AccountCaller, session: DbSession
) -> AutomationRead:
    return await _read(session, await automation_service.create(session, account, data))


@router.get("/automations", summary="List automations", responses=error_responses(401, 403))
async def list_automations(account: AccountCaller, session: DbSession) -> AutomationList:
    automations = await automation_service.list(session, account)
    return AutomationList(items=[await _read(session, a) for a in automations])


@router.get(
    "/automations/{automation_id}",
    summary="Get an automation",
    responses=error_responses(401, 403, 404),
)
async def get_automation(
    automation_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> AutomationRead:
    return await _read(session, await automation_service.get(session, account, automation_id))


@router.patch(
    "/automations/{automation_id}",
    summary="Change an automation",
    responses=error_responses(400, 401, 403, 404, 422),
)
async def update_automation(
    automation_id: uuid.UUID, data: AutomationUpdate, account: AccountCaller, session: DbSession
) -> AutomationRead:
    return await _read(
        session, await automation_service.update(session, account, automation_id, data)
    )


@router.delete(
    "/automations/{automation_id}",
    summary="Remove an automation",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
async def delete_automation(
    automation_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> Response:
    await automation_service.delete(session, account, automation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/events",
    summary="Receive a contact-center event; matching automations run",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, 401, 403, 422),
)
async def receive_event(
    data: EventCreate, account: AccountCaller, session: DbSession
) -> EventAccepted:
    event, new = await event_service.receive(session, account, data)
    outcome = event.outcome
    return EventAccepted(
        id=event.external_id,
        duplicate=not new,
        contact_id=event.contact_id,
        executions=outcome.get("executions", []),
        skipped=outcome.get("skipped", []),
    )


@retry_router.post(
    "/{execution_id}/retry",
    summary="Queue a failed or held execution again",
    status_code=status.HTTP_202_ACCEPTED,
    responses=error_responses(400, 401, 403, 404, 409, 422),
)
async def retry_execution(
    execution_id: uuid.UUID,
    account: AccountCaller,
    session: DbSession,
    data: Annotated[ExecutionRetry | None, Body()] = None,
) -> ExecutionQueued:
    retry = data or ExecutionRetry()
    execution = await automation_service.retry(session, account, execution_id, retry)
    return ExecutionQueued(id=execution.id, status=execution.status)
