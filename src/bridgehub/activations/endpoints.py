"""HTTP layer of activations, and the page OAuth 2.0 providers send people back to."""

from __future__ import annotations

import html
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import HTMLResponse

from bridgehub.accounts.auth import AccountCaller
from bridgehub.activations.models import Activation
from bridgehub.activations.schemas import (
    ActivationCreate,
    ActivationList,
    ActivationRead,
    ActivationUpdate,
)
from bridgehub.activations.service import activation_service
from bridgehub.db.session import DbSession
from bridgehub.kit.errors import HubError
from bridgehub.kit.pages import standalone_page
from bridgehub.kit.schemas import error_responses
from bridgehub.runtime import HubRuntime, Runtime
from bridgehub.web.oauth_return import back_to_ui
from bridgehub.web.templating import Flash

router = APIRouter(prefix="/v1/activations", tags=["activations"])
callback_router = APIRouter(tags=["activations"])


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
    responses=error_responses(401, 403, 409, 422, 502),
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
    responses=error_responses(401, 403, 404, 409, 422, 502),
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


@callback_router.get(
    "/oauth/callback",
    summary="Where OAuth 2.0 providers send people back",
    response_class=HTMLResponse,
    include_in_schema=True,
)
async def oauth_callback(
    request: Request,
    session: DbSession,
    runtime: HubRuntime,
    state: Annotated[str, Query()] = "",
    code: Annotated[str | None, Query()] = None,
    error: Annotated[str | None, Query()] = None,
) -> Response:
    try:
        activation = await activation_service.complete_authorization(
            session, runtime, state, code, error
        )
    except HubError as failure:  # a person reads this page: say what happened in words
        return back_to_ui(request, state, Flash("error", failure.message)) or _page(
            "Not connected", failure.message, failure.status_code
        )
    name = activation.integration.configuration.get("display_name", activation.integration.name)
    # The UI's page reads the activation as soon as the browser follows the redirect.
    await session.commit()
    return back_to_ui(request, state, Flash("success", f"{name} is connected.")) or _page(
        "Connected", f"{name} is connected. You can close this window.", status.HTTP_200_OK
    )


def _page(title: str, message: str, status_code: int) -> HTMLResponse:
    return standalone_page(status_code, title, f'<p role="status">{html.escape(message)}</p>')
