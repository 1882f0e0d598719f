"""HTTP layer of the catalog: parse, call the service, answer."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import WithJsonSchema

from bridgehub.accounts.auth import AdminCaller, AnyCaller
from bridgehub.db.session import DbSession
from bridgehub.integrations.configuration import (
    ActionConfiguration,
    AuthenticationType,
    IntegrationConfiguration,
)
from bridgehub.integrations.models import Action, Integration
from bridgehub.integrations.schemas import ActionList, IntegrationList
from bridgehub.integrations.service import action_service, integration_service
from bridgehub.kit.body import JsonBody
from bridgehub.kit.errors import PreconditionFailed
from bridgehub.kit.schemas import error_responses
from bridgehub.runtime import HubRuntime

router = APIRouter(prefix="/v1", tags=["catalog"])

IfMatch = Annotated[
    str | None,
    Header(description="Replace only if the resource is still at this ETag (from a GET)."),
    # A header is a string or absent, never null.
    WithJsonSchema({"type": "string", "pattern": r'^(W/)?"?[0-9]+"?$'}),
]


def _body_schema(model: type[Any]) -> dict[str, Any]:
    reference = {"$ref": f"#/components/schemas/{model.__name__}"}
    return {
        "requestBody": {"required": True, "content": {"application/json": {"schema": reference}}}
    }


def _etag(revision: int) -> str:
    return f'"{revision}"'


def _expected_revision(if_match: str | None) -> int | None:
    if if_match is None:
        return None
    try:
        return int(if_match.strip().removeprefix("W/").strip('"'))
    except ValueError as error:
        raise PreconditionFailed(
            f'If-Match must be an ETag from a GET, like "3"; found {if_match!r}.'
        ) from error


def _integration(integration: Integration, status_code: int = status.HTTP_200_OK) -> JSONResponse:
    return JSONResponse(
        integration_service.answer(integration),
        status_code,
        headers={"ETag": _etag(integration.revision)},
    )


def _action(action: Action, status_code: int = status.HTTP_200_OK) -> JSONResponse:
    return JSONResponse(action.configuration, status_code, headers={"ETag": _etag(action.revision)})


@router.get(
    "/integrations",
    summary="List integrations",
    responses={200: {"model": IntegrationList}, **error_responses(401)},
)
async def list_integrations(
    _: AnyCaller,
    session: DbSession,
    authentication_type: Annotated[
        AuthenticationType | None,
        Query(description="Only integrations with this authentication type."),
    ] = None,
) -> JSONResponse:
    integrations = await integration_service.list(session, authentication_type=authentication_type)
    return JSONResponse({"items": [integration_service.answer(i) for i in integrations]})


@router.post(
    "/integrations",
    summary="Register an integration",
    status_code=status.HTTP_201_CREATED,
    responses={201: {"model": IntegrationConfiguration}, **error_responses(401, 403, 409, 422)},
    openapi_extra=_body_schema(IntegrationConfiguration),
)
async def create_integration(
    _: AdminCaller, session: DbSession, runtime: HubRuntime, document: JsonBody
) -> JSONResponse:
    integration = await integration_service.create(session, runtime.vault, document)
    return _integration(integration, status.HTTP_201_CREATED)


@router.get(
    "/integrations/{name}",
    summary="Get an integration",
    responses={200: {"model": IntegrationConfiguration}, **error_responses(401, 404)},
)
async def get_integration(name: str, _: AnyCaller, session: DbSession) -> JSONResponse:
    return _integration(await integration_service.get(session, name))


@router.put(
    "/integrations/{name}",
    summary="Replace an integration's configuration",
    responses={
        200: {"model": IntegrationConfiguration},
        **error_responses(401, 403, 404, 412, 422),
    },
    openapi_extra=_body_schema(IntegrationConfiguration),
)
async def replace_integration(
    name: str,
    _: AdminCaller,
    session: DbSession,
    runtime: HubRuntime,
    document: JsonBody,
    if_match: IfMatch = None,
) -> JSONResponse:
    integration = await integration_service.replace(
        session, runtime.vault, name, document, expected_revision=_expected_revision(if_match)
    )
    return _integration(integration)


@router.get(
    "/integrations/{name}/actions",
    summary="List an integration's actions",
    responses={200: {"model": ActionList}, **error_responses(401, 404)},
)
async def list_integration_actions(name: str, _: AnyCaller, session: DbSession) -> JSONResponse:
    actions = await action_service.list_for(session, name)
    return JSONResponse({"items": [action.configuration for action in actions]})


@router.get(
    "/actions",
    summary="List every action in the catalog",
    responses={200: {"model": ActionList}, **error_responses(401)},
)
async def list_actions(_: AnyCaller, session: DbSession) -> JSONResponse:
    return JSONResponse(
        {"items": [action.configuration for action in await action_service.list(session)]}
    )


@router.post(
    "/actions",
    summary="Register an action",
    status_code=status.HTTP_201_CREATED,
    responses={201: {"model": ActionConfiguration}, **error_responses(401, 403, 409, 422)},
    openapi_extra=_body_schema(ActionConfiguration),
)
async def create_action(_: AdminCaller, session: DbSession, document: JsonBody) -> JSONResponse:
    return _action(await action_service.create(session, document), status.HTTP_201_CREATED)


@router.get(
    "/actions/{provider}/{name}",
    summary="Get an action",
    responses={200: {"model": ActionConfiguration}, **error_responses(401, 404)},
)
async def get_action(provider: str, name: str, _: AnyCaller, session: DbSession) -> JSONResponse:
    return _action(await action_service.get(session, provider, name))


@router.put(
    "/actions/{provider}/{name}",
    summary="Replace an action's configuration",
    responses={200: {"model": ActionConfiguration}, **error_responses(401, 403, 404, 412, 422)},
    openapi_extra=_body_schema(ActionConfiguration),
)
async def replace_action(
    provider: str,
    name: str,
    _: AdminCaller,
    session: DbSession,
    document: JsonBody,
    if_match: IfMatch = None,
) -> JSONResponse:
    action = await action_service.replace(
        session, provider, name, document, expected_revision=_expected_revision(if_match)
    )
    return _action(action)


@router.delete(
    "/actions/{provider}/{name}",
    summary="Remove an action",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=error_responses(401, 403, 404),
)
async def delete_action(provider: str, name: str, _: AdminCaller, session: DbSession) -> Response:
    await action_service.delete(session, provider, name)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
