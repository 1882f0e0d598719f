"""The hub's Prometheus metrics (docs/metrics.md): every family, defined once per process,
and where their values live when several processes report as one.

prometheus_client keeps a process's values in its own memory. With PROMETHEUS_MULTIPROC_DIR
set, every process writes them to files in that folder instead, and a scrape adds up the
files of all the processes: `bridgehub serve`'s children, and a `bridgehub worker` beside
it. The process that starts the others calls `prepare_metrics_directory` before any value
exists; its children inherit the variable. Without it (an app made in-process, as tests
do), values stay in this process's default registry.
"""

from __future__ import annotations

import hmac
import json
import os
import re
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from wsgiref.types import StartResponse, WSGIEnvironment

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    Metric,
    disable_created_metrics,
    generate_latest,
    values,
)
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from pydantic import SecretStr

from bridgehub.kit.redaction import known_secrets
from bridgehub.settings import Settings

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The text format `exposition` writes, which every Prometheus reads."""

# A `_created` series per counter would double what a scrape carries, and the files of
# multiprocess mode cannot hold it anyway: both modes answer the same families without it.
disable_created_metrics()  # type: ignore[no-untyped-call]

_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
"""Buckets of requests and bridge calls: a few milliseconds to a bridge call's deadline."""

http_requests = Counter(
    "bridgehub_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
http_request_duration = Histogram(
    "bridgehub_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=_SECONDS,
)
bridge_calls = Counter(
    "bridgehub_bridge_calls",
    "Calls to bridges (retries and a repeat after a 401 included), by integration, "
    "protocol endpoint and outcome.",
    ["integration", "endpoint", "outcome"],
)
bridge_call_duration = Histogram(
    "bridgehub_bridge_call_duration_seconds",
    "Time a bridge call took, retries and their pauses included.",
    ["integration", "endpoint"],
    buckets=_SECONDS,
)
sync_runs = Counter(
    "bridgehub_sync_runs",
    "Sync runs finished, by integration, kind and outcome.",
    ["integration", "kind", "outcome"],
)
sync_records = Counter(
    "bridgehub_sync_records",
    "Records of finished sync runs, by integration, kind and result "
    "(created, updated, unchanged, rejected, deleted).",
    ["integration", "kind", "result"],
)
sync_run_duration = Histogram(
    "bridgehub_sync_run_duration_seconds",
    "Time from a sync run's start to its end.",
    ["integration", "kind"],
    buckets=(1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 7200.0),
)
executions = Counter(
    "bridgehub_executions",
    "Executions of actions finished, by integration and status.",
    ["integration", "status"],
)
execution_attempts = Histogram(
    "bridgehub_execution_attempts",
    "Attempts a finished execution took, by integration and status.",
    ["integration", "status"],
    buckets=(1.0, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0),
)
job_start_delay = Histogram(
    "bridgehub_job_start_delay_seconds",
    "Time from when a job was due to when a worker started it, by queue.",
    ["queue"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)
retention_purged_rows = Counter(
    "bridgehub_retention_purged_rows",
    "Rows the retention purge deleted, by table (an execution's attempts go with it).",
    ["table"],
)
token_refreshes = Counter(
    "bridgehub_token_refreshes",
    "OAuth 2.0 access token refreshes, by integration and outcome.",
    ["integration", "outcome"],
)


def prepare_metrics_directory(settings: Settings) -> None:
    """Make this process, and the processes it starts, write their metrics to one folder
    (`metrics_dir`, or `metrics` in the data folder), rid of the files of processes that
    are gone. Called once by the process that starts the others, before any metric has a
    value: children inherit the variable and must not clear the folder."""
    directory = settings.metrics_dir or settings.home / "metrics"
    directory.mkdir(parents=True, exist_ok=True)
    _remove_stale_files(directory)
    os.environ[MULTIPROCESS_VARIABLE] = str(directory)
    # prometheus_client chose where values live when it was imported, before the variable
    # was set; every value made from now on goes to the folder.
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]


def _remove_stale_files(directory: Path) -> None:
    """Files of processes no longer running would add an older run's counts to this one's.
    Those of running processes (a `bridgehub worker` sharing the folder) are kept; a file
    named after this very process is from an earlier one that had its id."""
    for file in directory.glob("*.db"):
        found = _FILE_PROCESS.search(file.name)
        if found is None or int(found[1]) == os.getpid() or not _running(int(found[1])):
            file.unlink(missing_ok=True)


_FILE_PROCESS = re.compile(r"_(\d+)\.db$")


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # running, as another user
        return True
    return True


def exposition(snapshot: Iterable[Metric] = ()) -> bytes:
    """Every family in Prometheus' text format: of all the processes writing to the folder
    in multiprocess mode, of this process otherwise; with `snapshot`, families read just
    now (from the database, say)."""
    # Without auto_describe, registering does not read every process's files a second time.
    registry = CollectorRegistry()
    directory = os.environ.get(MULTIPROCESS_VARIABLE)
    if not directory:
        registry.register(_ThisProcess())
    else:
        MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
    registry.register(_Snapshot(list(snapshot)))
    return generate_latest(registry)


class _ThisProcess(Collector):
    def collect(self) -> Iterable[Metric]:
        return REGISTRY.collect()


class _Snapshot(Collector):
    def __init__(self, families: list[Metric]) -> None:
        self._families = families

    def collect(self) -> Iterable[Metric]:
        return self._families


def authorized(authorization: str | None, token: SecretStr | None) -> bool:
    """Whether a request with this `Authorization` header may read the metrics: any when
    no token is set, else only `Bearer <token>` (compared in constant time)."""
    if token is None:
        return True
    scheme, _, presented = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        presented.strip().encode(), token.get_secret_value().encode()
    )


def start_metrics_server(host: str, port: int, token: SecretStr | None) -> WSGIServer:
    """Serve /metrics on a port of its own, from a thread, until the process ends or the
    server is shut down: for a process without the API (a worker on a machine of its own).
    Behind `token` as the API's is."""
    if token is not None:
        known_secrets.register(token.get_secret_value())
    server = make_server(
        host, port, _metrics_app(token), server_class=_Server, handler_class=_QuietHandler
    )
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server


def _metrics_app(token: SecretStr | None) -> _WsgiApp:
    def answer(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
        if environ.get("PATH_INFO") != "/metrics":
            return _error(start_response, "404 Not Found", "Metrics are served at /metrics.")
        if not authorized(environ.get("HTTP_AUTHORIZATION"), token):
            return _error(
                start_response,
                "401 Unauthorized",
                "Send the metrics token as 'Authorization: Bearer <token>'.",
                [("WWW-Authenticate", "Bearer")],
            )
        start_response("200 OK", [("Content-Type", CONTENT_TYPE)])
        return [exposition()]

    return answer


def _error(
    start_response: StartResponse,
    status: str,
    message: str,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    """The hub's error envelope, as its API answers errors."""
    code = status.partition(" ")[2].lower().replace(" ", "_")
    body = {"error": {"code": code, "message": message, "details": []}}
    start_response(status, [("Content-Type", "application/json"), *(headers or [])])
    return [json.dumps(body).encode()]


_WsgiApp = Callable[[WSGIEnvironment, StartResponse], list[bytes]]


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True  # a scrape under way does not keep the process from ending


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes every few seconds would flood stderr."""
