"""`GET /metrics` for Prometheus, and the counting of HTTP requests (docs/metrics.md)."""

from __future__ import annotations

import time
from collections.abc import Mapping

import structlog
from fastapi import Depends, FastAPI, Request, Response
from prometheus_client.core import GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bridgehub import metrics
from bridgehub.db.outage import DATABASE_ERRORS, unreachable
from bridgehub.kit.errors import Unauthorized
from bridgehub.kit.redaction import known_secrets
from bridgehub.kit.schemas import error_responses
from bridgehub.queue import jobs_by_queue_and_status
from bridgehub.runtime import HubRuntime
from bridgehub.settings import Settings

log = structlog.get_logger(__name__)

UNMATCHED = "unmatched"
"""The route of a request no route took (a 404): one value, whatever path was asked for."""

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class HttpMetrics:
    """Counts and times every HTTP request by its route's template (`/v1/activations/{id}`),
    never its path, so that ids do not each make a series.

    It must sit inside any middleware that hands on a copy of the scope: the route is
    found in the scope the router received."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the server answers when the app raises before answering

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            method = scope["method"] if scope["method"] in _METHODS else "other"
            route = _route_template(scope)
            metrics.http_requests.labels(method, route, str(status)).inc()
            metrics.http_request_duration.labels(method, route).observe(
                time.perf_counter() - started
            )


def _route_template(scope: Scope) -> str:
    route = scope.get("route")
    template = getattr(route, "path", None)
    return template if isinstance(template, str) and template else UNMATCHED


def install_metrics_endpoint(app: FastAPI, settings: Settings) -> None:
    """Serve /metrics, behind `metrics_token` when one is set."""
    if settings.metrics_token is not None:
        known_secrets.register(settings.metrics_token.get_secret_value())

    def require_token(request: Request) -> None:
        if not metrics.authorized(request.headers.get("Authorization"), settings.metrics_token):
            raise Unauthorized("Send the metrics token as 'Authorization: Bearer <token>'.")

    @app.get(
        "/metrics",
        tags=["operations"],
        summary="Metrics in Prometheus' text format",
        response_class=Response,
        responses={
            200: {"content": {metrics.CONTENT_TYPE: {"schema": {"type": "string"}}}},
            **error_responses(401),
        },
        dependencies=[Depends(require_token)],
    )
    async def read_metrics(runtime: HubRuntime) -> Response:
        snapshot = [] if (depth := await _queue_depth(runtime)) is None else [depth]
        return Response(metrics.exposition(snapshot), media_type=metrics.CONTENT_TYPE)


async def _queue_depth(runtime: HubRuntime) -> GaugeMetricFamily | None:
    """Jobs per queue and status, read now: the database is the queue, whoever fills it.
    Without the database the other families are still worth answering."""
    try:
        async with runtime.sessionmaker() as session:
            counts = await jobs_by_queue_and_status(session)
    except DATABASE_ERRORS as error:
        if not unreachable(error):
            raise
        log.warning("the queue's depth cannot be read: the database cannot be reached")
        return None
    return _queue_family(counts)


def _queue_family(counts: Mapping[tuple[str, str], int]) -> GaugeMetricFamily:
    family = GaugeMetricFamily(
        "bridgehub_queue_jobs",
        "Jobs in the task queue, by queue and status (read from the database at each scrape).",
        labels=["queue", "status"],
    )
    for (queue, status), count in sorted(counts.items()):
        family.add_metric([queue, status], count)
    return family
