"""HTTP layer of activations, and of removing an integration the accounts use."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from bridgehub.accounts.auth import AccountCaller, AdminCaller
from bridgehub.activations.models import Activation
from bridgehub.activations.schemas import (
    ActivationCreate,
    ActivationList,
    ActivationRead,
    ActivationUpdate,
)
from bridgehub.activations.service import activation_service
from bridgehub.db.session import DbSession
from bridgehub.kit.schemas import error_responses
from bridgehub.runtime import HubRuntime, Runtime

router = APIRouter(prefix="/v1/activations", tags=["activations"])
# Removing an integration disconnects the accounts using it, so it is decided here, above
# the catalog, which knows nothing of activations.
catalog_router = APIRouter(prefix="/v1", tags=["catalog"])


def _read(
    activation: Activation, runtime: Runtime, authorize_url: str | None = None
) -> ActivationRead:
    return ActivationRead(
        id=activation.id,
        integration=activation.integration.name,
        status=activation.status,
        status_reason=activation.status_reason,
        auth=activation_service.answer_auth(activation, runtime),
        interaction_types=activation.interaction_types,
        sync_interval_minutes=activation.sync_interval_minutes,
        token_expires_at=activation.token_expires_at,
        created_at=activation.created_at,
        updated_at=activation.updated_at,
        authorize_url=authorize_url,
    )


@router.post(
    "",
    summary="Connect an integration",
    status_code=status.HTTP_201_CREATED,
    responses=error_responses(400, 401, 403, 409, 422, 502),
)
async def create_activation(
    data: ActivationCreate, account: AccountCaller, session: DbSession, runtime: HubRuntime
) -> ActivationRead:
    activation, authorize_url = await activation_service.create(session, runtime, account, data)
    return _read(activation, runtime, authorize_url)


@router.get("", summary="List the account's activations", responses=error_responses(401, 403))
async def list_activations(
    account: AccountCaller, session: DbSession, runtime: HubRuntime
) -> ActivationList:
    return ActivationList(
        items=[_read(a, runtime) for a in await activation_service.list(session, account)]
    )


@router.get(
    "/{activation_id}", summary="Get an activation", responses=error_responses(401, 403, 404)
)
async def get_activation(
    activation_id: uuid.UUID, account: AccountCaller, session: DbSession, runtime: HubRuntime
) -> ActivationRead:
    return _read(await activation_service.get(session, account, activation_id), runtime)


@router.patch(
    "/{activation_id}",
    summary="Change credentials, interaction types, sync interval or status",
    responses=error_responses(400, 401, 403, 404, 409, 422, 502),
)
async def update_activation(
    activation_id: uuid.UUID,
    data: ActivationUpdate,
    account: AccountCaller,
    session: DbSession,
    runtime: HubRuntime,
) -> ActivationRead:
    activation = await activation_service.update(session, runtime, account, activation_id, data)
    return _read(activation, runtime)


@router.delete(
    "/{activation_id}",
    summary="Disconnect: the activation goes with its credentials and synced data",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
async def delete_activation(
    activation_id: uuid.UUID, account: AccountCaller, session: DbSession
) -> Response:
    await activation_service.delete(session, account, activation_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{activation_id}/reconnect",
    summary="Start a new OAuth 2.0 authorization (e.g. after needs_reauthorization)",
    responses=error_responses(401, 403, 404, 409),
)
async def reconnect_activation(
    activation_id: uuid.UUID, account: AccountCaller, session: DbSession, runtime: HubRuntime
) -> ActivationRead:
    activation, authorize_url = await activation_service.reconnect(
        session, runtime, account, activation_id
    )
    return _read(activation, runtime, authorize_url)


@router.post(
    "/{activation_id}/check",
    summary="Check with the bridge that the stored credentials still work",
    responses=error_responses(401, 403, 404, 409, 422, 502),
)
async def check_activation(
    activation_id: uuid.UUID, account: AccountCaller, session: DbSession, runtime: HubRuntime
) -> ActivationRead:
    return _read(await activation_service.check(session, runtime, account, activation_id), runtime)


@catalog_router.delete(
    "/integrations/{name}",
    summary="Remove an integration and its actions",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404, 409),
)
async def delete_integration(
    name: str,
    _: AdminCaller,
    session: DbSession,
    force: Annotated[bool, Query(description="Also disconnect the accounts using it.")] = False,
) -> Response:
    await activation_service.remove_integration(session, name, force=force)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
