"""The production shape in tests: a standalone PostgreSQL, API-only `serve` processes and
`bridgehub worker` processes beside them, each logging JSON lines to a file of its own."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bridgehub.vault import EncryptionKey
from tests.conftest import ADMIN_KEY
from tests.processes import BRIDGES_ON_LOOPBACK, free_port, running_hub, running_worker
from tests.standalone_postgres import StandaloneServer

ENCRYPTION_KEY = EncryptionKey.generate().serialize()


def shared_settings(database: StandaloneServer) -> dict[str, str]:
    """What every process of one hub is given alike (the key file of a data folder would
    be each machine's own: secrets sealed by one process must open in every other)."""
    return {
        "DATABASE_URL": database.url,
        "BRIDGEHUB_ENCRYPTION_KEYS": ENCRYPTION_KEY,
        "BRIDGEHUB_ADMIN_KEY": ADMIN_KEY,
        "BRIDGEHUB_LOG_FORMAT": "json",
        **BRIDGES_ON_LOOPBACK,
    }


@dataclass
class Worker:
    process: subprocess.Popen[str]
    log: Path
    metrics_url: str

    def lines(self) -> list[dict[str, Any]]:
        """What it logged so far, one JSON object a line."""
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]

    def mentions(self, text: str) -> bool:
        return text in self.log.read_text()


@dataclass
class Deployment:
    hub_url: str
    serve: subprocess.Popen[str]
    serve_log: Path
    workers: list[Worker]


@contextmanager
def deployed(
    home: Path, database: StandaloneServer, *, api_processes: int, workers: int
) -> Iterator[Deployment]:
    """`serve --processes api_processes` without a worker of its own, and `workers`
    `bridgehub worker` processes, on `database`, each in a folder of its own (as on
    machines of their own: they share nothing but the database and their settings, and
    each worker answers its own metrics on a port)."""
    settings = shared_settings(database)
    port = free_port()
    with ExitStack() as stack:
        serve_home = home / "api"
        serve_home.mkdir()
        serve_log = serve_home / "serve.log"
        log = stack.enter_context(serve_log.open("w"))
        serve = stack.enter_context(
            running_hub(
                serve_home,
                port,
                {**settings, "BRIDGEHUB_WORKERS": "0"},
                log,
                ["--processes", str(api_processes)],
            )
        )
        started = []
        for number in range(workers):
            worker_home = home / f"worker-{number}"
            worker_home.mkdir()
            worker_log = worker_home / "worker.log"
            metrics_port = free_port()
            process = stack.enter_context(
                running_worker(
                    worker_home,
                    settings,
                    stack.enter_context(worker_log.open("w")),
                    ["--metrics-port", str(metrics_port)],
                )
            )
            started.append(Worker(process, worker_log, f"http://127.0.0.1:{metrics_port}"))
        yield Deployment(f"http://127.0.0.1:{port}", serve, serve_log, started)
