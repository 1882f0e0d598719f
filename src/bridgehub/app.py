"""The hub's ASGI application."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.exceptions import HTTPException
from starlette.routing import Match

from bridgehub import __version__
from bridgehub.accounts.auth import ensure_admin_key
from bridgehub.accounts.endpoints import router as accounts_router
from bridgehub.activations.endpoints import catalog_router as integration_removal_router
from bridgehub.activations.endpoints import router as activations_router
from bridgehub.agents.endpoints import router as agents_router
from bridgehub.automations.endpoints import retry_router as execution_retry_router
from bridgehub.automations.endpoints import router as automations_router
from bridgehub.bridge.schemas import (
    MessageSchemaLink,
    UnknownMessage,
    message_index,
    message_schema,
)
from bridgehub.contacts.endpoints import router as contacts_router
from bridgehub.db import migrate
from bridgehub.db.outage import DATABASE_ERRORS, DatabaseUnavailable, outage
from bridgehub.db.session import DbSession
from bridgehub.erasures.endpoints import router as erasures_router
from bridgehub.executions.endpoints import router as executions_router
from bridgehub.integrations.configuration import json_schemas
from bridgehub.integrations.endpoints import router as catalog_router
from bridgehub.interactions.endpoints import lookup_router
from bridgehub.interactions.endpoints import router as interactions_router
from bridgehub.kit.body import JsonApiBodies
from bridgehub.kit.errors import HubError
from bridgehub.kit.messages import plain_message
from bridgehub.kit.paths import format_path
from bridgehub.kit.redaction import known_secrets
from bridgehub.kit.request_id import HEADER as REQUEST_ID_HEADER
from bridgehub.kit.request_id import RequestIds, request_id_of
from bridgehub.kit.schemas import error_responses
from bridgehub.kit.text import refuse_unstorable_text
from bridgehub.settings import Settings, get_settings
from bridgehub.syncs.endpoints import router as syncs_router
from bridgehub.web.metrics import HttpMetrics, install_metrics_endpoint
from bridgehub.web.oauth_return import router as oauth_callback_router
from bridgehub.web.ui import install_ui
from bridgehub.webhooks.endpoints import router as webhooks_router
from bridgehub.worker import background_worker, open_runtime

log = structlog.get_logger(__name__)


class MigrationsPending(HubError):
    status_code = 503
    code = "migrations_pending"


class JsonSchemaResponse(JSONResponse):
    media_type = "application/schema+json"


# The 200's own media type documented beside the error envelope's (as a route's
# `response_class`, it would be documented for the errors too).
_SCHEMA_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {JsonSchemaResponse.media_type: {"schema": {"type": "object"}}}},
    **error_responses(404),
}


def create_app(settings: Settings | None = None, *, database: str | None = None) -> FastAPI:
    """Build the hub. Without `database`, the lifespan finds it from the settings
    (starting the embedded PostgreSQL when `DATABASE_URL` is unset)."""
    settings = settings or get_settings()
    expected_migration = migrate.head()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with open_runtime(settings, database) as runtime:
            app.state.runtime = runtime
            if settings.admin_key is not None:
                known_secrets.register(settings.admin_key.get_secret_value())
            async with runtime.sessionmaker() as session:
                announce_admin_key(await ensure_admin_key(session, settings))
            async with background_worker(runtime, concurrency=settings.workers):
                log.info("hub ready", version=__version__)
                yield

    app = FastAPI(
        title="bridgehub",
        version=__version__,
        summary="Integrations hub for contact centers.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_unstorable_text)],
    )
    # Added first, so inside JsonApiBodies: it hands on a copy of the scope, and HttpMetrics
    # reads the matched route from the scope the router received.
    app.add_middleware(HttpMetrics)
    app.add_middleware(JsonApiBodies)
    # Outermost, so that every line logged for a request, its errors' included, carries it.
    app.add_middleware(RequestIds)
    app.include_router(catalog_router)
    app.include_router(integration_removal_router)
    app.include_router(accounts_router)
    app.include_router(activations_router)
    app.include_router(oauth_callback_router)
    app.include_router(syncs_router)
    app.include_router(contacts_router)
    app.include_router(lookup_router)
    app.include_router(agents_router)
    app.include_router(interactions_router)
    app.include_router(executions_router)
    app.include_router(execution_retry_router)
    app.include_router(automations_router)
    app.include_router(erasures_router)
    app.include_router(webhooks_router)
    _install_error_handlers(app)
    install_ui(app)
    install_metrics_endpoint(app, settings)

    @app.get("/health", tags=["operations"], summary="Liveness and database reachability")
    async def health(session: DbSession) -> dict[str, str]:
        await session.execute(text("SELECT 1"))
        return {"status": "ok", "version": __version__}

    @app.get("/health/live", tags=["operations"], summary="The process answers")
    async def live() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(
        "/health/ready",
        tags=["operations"],
        summary="Ready for traffic: the database answers and its schema is the hub's",
        responses=error_responses(503),
    )
    async def ready(session: DbSession) -> dict[str, str]:
        found = await session.scalar(text("SELECT version_num FROM alembic_version"))
        if found != expected_migration:
            raise MigrationsPending(
                f"The database's schema is at {found}; this hub needs {expected_migration}."
            )
        return {"status": "ready", "version": __version__, "migration": expected_migration}

    @app.get(
        "/schemas/{kind}.json",
        tags=["catalog"],
        summary="JSON Schema of a configuration kind",
        responses=_SCHEMA_RESPONSES,
    )
    async def schema(kind: str) -> JsonSchemaResponse:
        schemas = json_schemas()
        if kind not in schemas:
            raise HTTPException(404, f"No schema named {kind!r}; known: {', '.join(schemas)}.")
        return JsonSchemaResponse(schemas[kind])

    @app.get(
        "/schemas/bridge/",
        tags=["bridge protocol"],
        summary="The bridge protocol's messages, each with where its JSON Schema is served",
    )
    async def bridge_message_index() -> list[MessageSchemaLink]:
        return message_index(settings.public_url)

    @app.get(
        "/schemas/bridge/{message}.json",
        tags=["bridge protocol"],
        summary="JSON Schema of a bridge protocol message",
        responses=_SCHEMA_RESPONSES,
    )
    async def bridge_message_schema(message: str) -> JsonSchemaResponse:
        try:
            schema = message_schema(message, settings.public_url)
        except UnknownMessage as unknown:
            raise HTTPException(404, str(unknown)) from None
        return JsonSchemaResponse(schema)

    return app


def announce_admin_key(key: str | None) -> None:
    # Printed, never logged: log lines are shipped and kept, and a key must not be.
    if key is not None:
        print(
            "\nGenerated the admin API key (shown only this once; only its digest is stored):\n"
            f"  {key}\nSet BRIDGEHUB_ADMIN_KEY to choose your own instead.\n",
            file=sys.stderr,
            flush=True,
        )


def _error(
    status_code: int, code: str, message: str, details: list[Any] | None = None
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": details or []}}
    headers = {"WWW-Authenticate": "Bearer"} if status_code == 401 else None
    return JSONResponse(body, status_code, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HubError)
    async def hub_error(_: Request, error: HubError) -> JSONResponse:
        response = _error(error.status_code, error.code, error.message, error.details)
        if isinstance(error, DatabaseUnavailable):
            response.headers["Retry-After"] = str(_RETRY_AFTER_AN_OUTAGE)
        return response

    async def database_error(request: Request, error: Exception) -> JSONResponse:
        lost = outage(error)
        if lost is None:
            return await unexpected(request, error)
        log.warning("the database cannot be reached", path=request.url.path)
        return await hub_error(request, lost)

    for kind in DATABASE_ERRORS:
        app.add_exception_handler(kind, database_error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        details = [
            {
                "path": format_path(_client_location(problem["loc"])),
                "message": plain_message(problem),
            }
            for problem in error.errors()
        ]
        return _error(422, "invalid_request", "The request is invalid.", details)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> JSONResponse:
        phrase = HTTPStatus(error.status_code).phrase
        message = str(error.detail)
        if error.status_code == 404 and message == phrase:
            message = f"Nothing is served at {request.url.path}."
        elif error.status_code == 405:
            allowed = ", ".join(_allowed_methods(request))
            message = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}."
            error.headers = {**(error.headers or {}), "Allow": allowed}
        response = _error(error.status_code, phrase.lower().replace(" ", "_"), message)
        response.headers.update(error.headers or {})
        return response

    @app.exception_handler(Exception)
    async def unexpected(request: Request, error: Exception) -> JSONResponse:
        request_id = request_id_of(request)
        log.exception(
            "unhandled error",
            path=request.url.path,
            error_type=type(error).__name__,
            request_id=request_id,
        )
        response = _error(
            500, "internal_error", "An unexpected error occurred; it has been logged."
        )
        if request_id is not None:
            response.headers[REQUEST_ID_HEADER] = request_id
        return response


def _allowed_methods(request: Request) -> list[str]:
    # Starlette names only the first route matching the path; a path often has several,
    # so ask every route whether it would take the request under each method.
    return [
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL
            for route in request.app.routes
        )
    ]


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")

_RETRY_AFTER_AN_OUTAGE = 5
"""Seconds a client is told to wait while the database is away: the embedded one is brought
back within a few seconds."""


def _client_location(location: Any) -> list[str | int]:
    """Drop FastAPI's leading `body`/`query`/... so paths point into what the caller sent."""
    parts = list(location)
    return parts[1:] if parts and parts[0] in ("body", "query", "path", "header") else parts
