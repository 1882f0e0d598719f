"""A contact's interactions through the hub: latency of `GET /v1/contacts/{id}/interactions`
fanning out to five bridges that each take 100 ms, next to the bridges' own latency.

    .venv/bin/python bench/interactions.py                     # 200 requests per mode
    .venv/bin/python bench/interactions.py --requests 1000 --clients 10 --delay 0.1

Everything runs on this machine, on 127.0.0.1, in a temporary folder removed afterwards:

- five bridges in one subprocess (this file run with `--bridges`): one uvicorn server and
  event loop listening on five ports, each port a bridge of its own. Interaction retrieval
  answers after `asyncio.sleep(--delay)` with 3 tickets (a different set per bridge);
  the first bridge also serves the one contact.
- the hub in a subprocess, exactly as it is run: `python -m bridgehub serve` (`--processes`
  to serve with several, 1 by default) with
  `BRIDGEHUB_INTERACTIONS_CACHE_SECONDS=0` (every request asks every bridge),
  `BRIDGEHUB_WORKERS=0`, the default log level (info, JSON lines to a file in the
  temporary folder), on the hub's own embedded PostgreSQL, which this script starts in
  the temporary folder (`bridgehub.db.embedded`) and stops at the end.
- setup through the hub's API: five `none`-auth integrations (one per bridge) with an
  interaction endpoint, one account activating all five with the `ticket` type, and the
  first bridge's one contact synchronized with `python -m bridgehub sync`.

Then, from this process with httpx over real HTTP, after a warm-up, two modes of
`--requests` requests each: one after the other (sequential), and from `--clients`
concurrent clients (10):

- direct: each request fans out to the five bridges at once with the very body the hub
  sends them; each bridge's own latency is recorded, and the slowest bridge's p99 is the
  baseline (the load the bridges see is the one the hub puts on them).
- hub: `GET /v1/contacts/{id}/interactions` with the account's key (15 items, no errors).

Printed: p50, p90, p99 and max per mode and path, the ratio hub p99 / slowest bridge p99
(target from the issue: under 1.2), and the CPU the hub process and PostgreSQL spent per
hub request. A benchmark, not a test: it asserts no time, only that every answer was whole.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from starlette.types import Receive, Scope, Send

from harness import (
    CpuMeter,
    compact_json,
    free_port,
    isolate_from_shell,
    percentile,
    postgres_cpu,
    process_cpu,
    respond,
    tree_cpu,
)

ADMIN_KEY = "bh_admin_bench-interactions"
BRIDGES = 5
ITEMS = 3
CONTACT = {
    "id": "c-1",
    "name": "Ada Lovelace",
    "company": "Analytical Engines",
    "emails": ["ada@bench.example"],
    "phones": ["+14155550100"],
}
WARMUP = 20


# The bridges (run in a subprocess) ---------------------------------------------------------


class Bridges:
    """Five bridges on five ports of one server: which one answers is the port asked."""

    def __init__(self, ports: Sequence[int], delay: float) -> None:
        self._index = {port: index for index, port in enumerate(ports)}
        self._delay = delay
        now = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)
        self._answers = {
            index: compact_json(
                [
                    {
                        "id": f"{index}-{item}",
                        "type": "ticket",
                        "subject": f"Ticket {item} in system {index}",
                        "description": "The customer called about an invoice.",
                        "priority": "normal",
                        "status": "open",
                        "date": (now - timedelta(hours=index * ITEMS + item)).isoformat(),
                        "url": f"https://system{index}.example/tickets/{item}",
                    }
                    for item in range(ITEMS)
                ]
            )
            for index in range(len(ports))
        }
        self._contacts = compact_json(
            {"contacts": [CONTACT], "next_offset": None, "synchronization_checkpoint": "v1"}
        )
        self.requests = 0
        self._clients: set[tuple[str, int]] = set()  # one per connection (port reuse aside)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        more = True
        while more:  # the request's body is read, and not needed
            message = await receive()
            more = message.get("more_body", False)
        index = self._index[scope["server"][1]]
        path = scope["path"]
        if path != "/stats":
            self.requests += 1
            self._clients.add(scope["client"])
        if path == "/stats":  # for the benchmark: how many requests, on how many connections
            stats = {"requests": self.requests, "connections": len(self._clients)}
            status, body = 200, compact_json(stats)
        elif path == "/interactions":
            await asyncio.sleep(self._delay)
            status, body = 200, self._answers[index]
        elif path == "/contact_sync":
            status, body = 200, self._contacts
        else:  # auth validation
            status, body = 204, b""
        await respond(send, status, body)


def _listener() -> socket.socket:
    # IPPROTO_TCP named, as bridgehub.demo.serving does: asyncio then turns Nagle off.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    return listener


def run_bridges(count: int, delay: float) -> None:
    """Serve `count` bridges; print their URLs (a JSON list), serve until standard input
    closes."""
    import uvicorn

    listeners = [_listener() for _ in range(count)]
    ports = [listener.getsockname()[1] for listener in listeners]
    server = uvicorn.Server(
        uvicorn.Config(
            Bridges(ports, delay),
            log_config=None,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": listeners}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise SystemExit("the bridges did not start")
        time.sleep(0.01)
    print(json.dumps([f"http://127.0.0.1:{port}" for port in ports]), flush=True)
    sys.stdin.read()
    server.should_exit = True
    thread.join(timeout=10)


@contextlib.contextmanager
def bridges_process(count: int, delay: float) -> Iterator[tuple[list[str], int]]:
    process = subprocess.Popen(
        [sys.executable, __file__, "--bridges", str(count), "--delay", str(delay)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        line = process.stdout.readline()
        if not line.startswith("["):
            raise RuntimeError("the bridges did not start")
        yield json.loads(line), process.pid
    finally:
        process.stdin.close()  # they serve until standard input closes
        process.wait(timeout=30)


# The hub (run in a subprocess) -----------------------------------------------------------


@dataclass
class Hub:
    url: str
    pid: int
    environment: dict[str, str]
    folder: Path


def _meter(hub_pid: int, postmaster: int, bridges_pid: int) -> CpuMeter:
    return CpuMeter(
        {
            "hub": lambda: tree_cpu(hub_pid),
            "postgres": lambda: postgres_cpu(postmaster),
            "bridges": lambda: process_cpu(bridges_pid),
            "client": lambda: process_cpu(os.getpid()),
        }
    )


@contextlib.contextmanager
def hub_process(folder: Path, database_url: str, processes: int) -> Iterator[Hub]:
    """`python -m bridgehub serve` with `processes` on the database, until the block ends."""
    port = free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "BRIDGEHUB_HOME": str(folder / "home"),
        "BRIDGEHUB_ADMIN_KEY": ADMIN_KEY,
        "BRIDGEHUB_PUBLIC_URL": f"http://127.0.0.1:{port}",
        "BRIDGEHUB_ALLOW_PRIVATE_NETWORKS": "true",  # the bridges are on 127.0.0.1,
        "BRIDGEHUB_ALLOW_HTTP": "true",  # over plain HTTP
        "BRIDGEHUB_WORKERS": "0",
        "BRIDGEHUB_INTERACTIONS_CACHE_SECONDS": "0",
        "BRIDGEHUB_LOG_FORMAT": "json",
    }
    log = (folder / "hub.log").open("w")
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "bridgehub", "serve", "--host", "127.0.0.1"),
            *("--port", str(port), "--processes", str(processes)),
        ],
        env=environment,
        cwd=folder,  # no .env of the working folder
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the hub stopped; see {folder / 'hub.log'}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("the hub did not start within 60 s")
            time.sleep(0.1)
        yield Hub(url, process.pid, environment, folder)
    finally:
        process.terminate()  # uvicorn stops on SIGTERM, and the lifespan with it
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _expect(response: httpx.Response, status: int) -> Any:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text}"
        )
    return response.json() if response.content else None


def set_up(hub: Hub, bridges: Sequence[str]) -> tuple[str, str]:
    """Integrations, account, activations and the contact; answers (account key, contact id)."""
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=hub.url, headers=admin, timeout=30) as client:
        for index, url in enumerate(bridges):
            integration = {
                "name": f"bench-system-{index}",
                "display_name": f"System {index}",
                "description": "A system of the interactions benchmark.",
                "logo_url": "https://example.com/logo.png",
                "icon_url": f"https://system{index}.example/icon.png",
                "authentication_type": "none",
                "auth_validation_endpoint": f"{url}/auth_validation",
                "interaction_retrieval_endpoint": f"{url}/interactions",
                "interaction_types": ["ticket"],
            }
            if index == 0:
                integration["contact_synchronization_endpoint"] = f"{url}/contact_sync"
            _expect(client.post("/v1/integrations", json=integration), 201)
        account = _expect(
            client.post("/v1/accounts", json={"name": "Bench", "default_region": "US"}), 201
        )
        key = account["api_key"]
        client.headers["Authorization"] = f"Bearer {key}"
        activations = [
            _expect(
                client.post(
                    "/v1/activations",
                    json={"integration": f"bench-system-{index}", "interaction_types": ["ticket"]},
                ),
                201,
            )["id"]
            for index in range(len(bridges))
        ]
        synced = subprocess.run(
            [sys.executable, "-m", "bridgehub", "sync", activations[0]],
            env=hub.environment,
            cwd=hub.folder,
            capture_output=True,
            text=True,
            check=False,
        )
        if synced.returncode != 0:
            raise RuntimeError(f"the contact sync failed:\n{synced.stdout}{synced.stderr}")
        contacts = _expect(client.get("/v1/contacts"), 200)["items"]
        if len(contacts) != 1:
            raise RuntimeError(f"expected one contact, found {len(contacts)}")
        return key, contacts[0]["id"]


# Measurements -------------------------------------------------------------------------------


def interaction_request() -> bytes:
    """The body the hub sends each bridge for the contact (as `bridgehub.bridge` builds it)."""
    from bridgehub.bridge.protocol import InteractionContact, InteractionMeta, InteractionRequest

    return InteractionRequest(
        auth={},
        meta=InteractionMeta(interaction_types=("ticket",)),
        data=InteractionContact(
            contact_name=CONTACT["name"],
            contact_emails=tuple(CONTACT["emails"]),
            contact_phones=tuple(CONTACT["phones"]),
        ),
    ).to_json()


@dataclass
class Latencies:
    """Seconds per request, by path."""

    by_path: dict[str, list[float]] = field(default_factory=dict)

    def add(self, path: str, seconds: float) -> None:
        self.by_path.setdefault(path, []).append(seconds)


async def run_clients(count: int, clients: int, one: Any) -> None:
    """`count` calls of `one()`, from `clients` concurrent clients, each one after the other."""
    remaining = iter(range(count))

    async def client() -> None:
        for _ in remaining:
            await one()

    await asyncio.gather(*(client() for _ in range(clients)))


async def direct(
    http: httpx.AsyncClient, bridges: Sequence[str], count: int, clients: int
) -> Latencies:
    """Each bridge on its own, one after the other, with `clients` requests in flight (as
    many as the hub sends it in the same mode)."""
    body = interaction_request()
    latencies = Latencies()
    headers = {"Content-Type": "application/json"}
    for index, url in enumerate(bridges):

        async def one(index: int = index, url: str = url) -> None:
            sent = time.perf_counter()
            response = await http.post(f"{url}/interactions", content=body, headers=headers)
            latencies.add(f"bridge {index + 1}", time.perf_counter() - sent)
            if response.status_code != 200 or len(response.json()) != ITEMS:
                raise RuntimeError(f"bridge {index + 1} answered {response.status_code}")

        await run_clients(count, clients, one)
    return latencies


async def through_hub(
    http: httpx.AsyncClient, hub: Hub, key: str, contact_id: str, count: int, clients: int
) -> Latencies:
    latencies = Latencies()
    url = f"{hub.url}/v1/contacts/{contact_id}/interactions"
    headers = {"Authorization": f"Bearer {key}"}

    async def one() -> None:
        sent = time.perf_counter()
        response = await http.get(url, headers=headers)
        latencies.add("hub", time.perf_counter() - sent)
        answer = _expect(response, 200)
        if len(answer["items"]) != BRIDGES * ITEMS or answer["errors"]:
            raise RuntimeError(f"an incomplete answer: {answer}")

    await run_clients(count, clients, one)
    return latencies


@dataclass
class Mode:
    name: str
    clients: int
    direct: Latencies
    hub: Latencies
    direct_cpu: CpuMeter
    hub_cpu: CpuMeter
    bridge_requests: int = 0
    """Requests the bridges received while the hub was measured, and on how many new
    connections."""
    bridge_connections: int = 0

    def slowest_bridge(self) -> tuple[str, float]:
        paths = self.direct.by_path
        path = max(paths, key=lambda p: percentile(paths[p], 0.99))
        return path, percentile(paths[path], 0.99)


async def measure(args: argparse.Namespace) -> list[Mode]:
    from bridgehub.db.embedded import embedded_database_url, start_embedded_postgres

    modes: list[Mode] = []
    with tempfile.TemporaryDirectory(prefix="bridgehub-bench-interactions-") as name:
        folder = Path(name)
        server = start_embedded_postgres(folder / "postgres")
        try:
            pid_file = folder / "postgres" / "pgdata" / "postmaster.pid"
            postmaster = int(pid_file.read_text().split()[0])
            with (
                bridges_process(BRIDGES, args.delay) as (bridges, bridges_pid),
                hub_process(folder, embedded_database_url(server), args.processes) as hub,
            ):
                key, contact_id = set_up(hub, bridges)
                limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
                async with httpx.AsyncClient(limits=limits, timeout=30) as http:
                    # Warm-up: connections opened, statements prepared, code paths run.
                    await direct(http, bridges, WARMUP, args.clients)
                    await through_hub(http, hub, key, contact_id, WARMUP, args.clients)
                    for label, clients in (
                        ("sequential", 1),
                        (f"{args.clients} clients", args.clients),
                    ):
                        meters = (
                            _meter(hub.pid, postmaster, bridges_pid),
                            _meter(hub.pid, postmaster, bridges_pid),
                        )
                        meters[0].start()
                        direct_latencies = await direct(http, bridges, args.requests, clients)
                        meters[0].stop()
                        before = _expect(await http.get(f"{bridges[0]}/stats"), 200)
                        meters[1].start()
                        hub_latencies = await through_hub(
                            http, hub, key, contact_id, args.requests, clients
                        )
                        meters[1].stop()
                        after = _expect(await http.get(f"{bridges[0]}/stats"), 200)
                        mode = Mode(label, clients, direct_latencies, hub_latencies, *meters)
                        mode.bridge_requests = after["requests"] - before["requests"]
                        mode.bridge_connections = after["connections"] - before["connections"]
                        modes.append(mode)
                        print(f"{label}: measured", flush=True)
        finally:
            server.cleanup()
    return modes


def report(args: argparse.Namespace, modes: Sequence[Mode]) -> None:
    print()
    print(
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; {BRIDGES} bridges answering "
        f"in {args.delay * 1000:g} ms, {args.requests} requests per mode and path, "
        f"the hub in {args.processes} process(es), interactions cache off"
    )
    header = (
        f"{'mode':<12} {'path':<19} {'p50 ms':>7} {'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} "
        f"{'p99 / slowest bridge p99':>25}"
    )
    print(header)
    print("-" * len(header))
    for mode in modes:
        slowest, slowest_p99 = mode.slowest_bridge()
        rows = [(path, mode.direct.by_path[path]) for path in sorted(mode.direct.by_path)]
        for path, values in [*rows, ("hub", mode.hub.by_path["hub"])]:
            p99 = percentile(values, 0.99)
            print(
                f"{mode.name:<12} {path + (' (slowest)' if path == slowest else ''):<19} "
                f"{percentile(values, 0.5) * 1000:>7.1f} {percentile(values, 0.9) * 1000:>7.1f} "
                f"{p99 * 1000:>7.1f} {max(values) * 1000:>7.1f} "
                f"{f'{p99 / slowest_p99:.2f}' if path == 'hub' else '':>25}"
            )
    print()
    print("CPU per hub request (ms), and the cores' load, while the hub was measured:")
    for mode in modes:
        count = len(mode.hub.by_path["hub"])
        spent = ", ".join(
            f"{name} {seconds / count * 1000:.1f}" for name, seconds in mode.hub_cpu.spent.items()
        )
        load = sum(mode.hub_cpu.spent.values()) / mode.hub_cpu.wall / (os.cpu_count() or 1)
        print(f"  {mode.name}: {spent}; cores {load:.0%} busy")
    for mode in modes:
        print(
            f"  {mode.name}: the hub sent the bridges {mode.bridge_requests:,} requests on "
            f"{mode.bridge_connections:,} new connections"
        )
    busy = [meter.others_share for mode in modes for meter in (mode.direct_cpu, mode.hub_cpu)]
    if max(busy) > 0.1:
        print(
            f"WARNING: other programs kept up to {max(busy):.0%} of a core busy during the "
            "measurements; these figures are not reliable. Run again on a quiet machine."
        )
    print()
    print("bridge N: the client posts the hub's request body to that bridge alone, with as many")
    print("requests in flight as the hub sends it in the mode (1, or one per client).")
    print("hub: GET /v1/contacts/{id}/interactions through `bridgehub serve` (15 items).")
    print("target: hub p99 < 1.2 x the slowest bridge's p99, in each mode")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200, help="requests per mode and path")
    parser.add_argument("--clients", type=int, default=10, help="concurrent clients")
    parser.add_argument("--delay", type=float, default=0.1, help="each bridge's answer time (s)")
    parser.add_argument(
        "--processes", type=int, default=1, help="the hub's processes (`serve --processes`)"
    )
    parser.add_argument("--bridges", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bridges:
        run_bridges(args.bridges, args.delay)
        return
    isolate_from_shell()
    report(args, asyncio.run(measure(args)))


if __name__ == "__main__":
    main()
