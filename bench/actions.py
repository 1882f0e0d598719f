"""Actions run by automations: how many the hub carries out per second, end to end, next to
the floor of procrastinate running as many no-op jobs.

    .venv/bin/python bench/actions.py                          # 2,000 events, concurrency 4
    .venv/bin/python bench/actions.py --events 500 --concurrency 1 2 4 8

Everything runs on this machine, in a temporary folder removed afterwards:

- a bridge in a subprocess (this file run with `--bridge`), so that answering costs the
  measured process nothing: `create_ticket` answers 201 with a ticket id at once, and it
  also serves 100 contacts and 5 agents, synchronized once before measuring;
- the hub in this process: `create_app(Settings(home=tmp, workers=0, ...))` and its
  lifespan, which runs `open_runtime` and so the hub's own embedded PostgreSQL in the
  temporary folder (stopped when the lifespan ends). Logging as `serve` does it, at info
  (JSON lines to a file in the temporary folder, `--log-level` to change it). Setup goes
  through the API (in process, httpx's ASGITransport): an account, a `none`-auth
  integration with a `create_ticket` action, its activation, a contact and an agent sync
  (run by a real worker), and an enabled "call.missed" automation mapping both inputs
  from `{{contact.*}}`, `{{call.*}}`, `{{event.*}}` and `{{agent.*}}`.

For each worker concurrency (`--concurrency`, default 4, the default
`BRIDGEHUB_INTEGRATION_CONCURRENCY`; several values are measured one after the other):

- floor: N no-op procrastinate jobs, each deferred in a transaction of its own with the
  hub's `enqueue` (as the hub defers its jobs) by `--posters` concurrent tasks, while a
  real worker (`bridgehub.worker.work`, the same concurrency) runs them. Seconds from the
  first deferral to the last job done.
- hub: N "call.missed" events, each `POST /v1/events` through the API in process by
  `--posters` concurrent clients (authentication, validation, the caller looked up among the
  contacts, the automation's inputs rendered, the execution recorded and its job deferred,
  one transaction per event), while a real worker with the same concurrency runs the
  executions (`executions.execute`: a concurrency slot, the attempt recorded, the bridge
  called through the bridge client and its network guard, the answer kept). Seconds from
  the first event posted to the last execution's `finished_at`, read from the database
  (polled every 50 ms until N have succeeded).

Printed per concurrency: seconds, jobs or actions per second, the ratio hub/floor, the
latency of `POST /v1/events` while the worker runs, and CPU: this process's CPU seconds per
action, and how busy the machine's cores were (from /proc/stat; PostgreSQL and the bridge
run in processes of their own on the same cores). Targets (from the issue): at least 200
actions/s and at least half the floor. A benchmark, not a test: it asserts no time, only
that every execution succeeded and the bridge got each action once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import httpx
from pydantic import SecretStr
from sqlalchemy import text
from starlette.types import Receive, Scope, Send

from harness import (
    OTHER,
    CpuMeter,
    compact_json,
    isolate_from_shell,
    percentile,
    postgres_cpu,
    process_cpu,
    respond,
)

ADMIN_KEY = "bh_admin_bench-actions"
HUB_URL = "http://hub.bench"
INTEGRATION = "bench-helpdesk"
ACTION = f"{INTEGRATION}/create_ticket"
CONTACTS = 100
AGENTS = 5
NOOP_TASK = "bench.noop"
NOOP_QUEUE = "bench"
WARMUP = 100
POLL_SECONDS = 0.05


# The bridge (run in a subprocess) ---------------------------------------------------------


def contact_phone(index: int) -> str:
    return f"+1415555{1000 + index:04d}"


def caller_number(index: int) -> str:
    """The contact's number as a phone system writes it: national, with punctuation."""
    digits = contact_phone(index)[2:]
    return f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"


def agent_email(index: int) -> str:
    return f"agent{index}@bench.example"


class Bridge:
    """A helpdesk bridge whose every answer is ready at once."""

    def __init__(self) -> None:
        self.tickets = 0
        self.requests = 0
        contacts = [
            {
                "id": index,
                "name": f"Caller {index}",
                "company": f"Company {index % 10}",
                "emails": [f"caller{index}@bench.example"],
                "phones": [contact_phone(index)],
            }
            for index in range(CONTACTS)
        ]
        agents = [
            {"id": f"agent-{index}", "name": f"Agent {index}", "email": agent_email(index)}
            for index in range(AGENTS)
        ]
        self._contacts = compact_json(
            {"contacts": contacts, "next_offset": None, "synchronization_checkpoint": "v1"}
        )
        self._agents = compact_json({"agents": agents})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        more = True
        while more:  # the request's body is read, and not needed
            message = await receive()
            more = message.get("more_body", False)
        self.requests += 1
        path = scope["path"]
        if path == "/actions/create_ticket":
            self.tickets += 1
            status, body = (
                201,
                compact_json({"message": "Ticket created", "external_id": self.tickets}),
            )
        elif path == "/contact_sync":
            status, body = 200, self._contacts
        elif path == "/agent_sync":
            status, body = 200, self._agents
        else:  # auth validation
            status, body = 204, b""
        await respond(send, status, body)


def run_bridge() -> None:
    """Serve the bridge; print its URL, serve until standard input closes, then print
    what it received."""
    from bridgehub.demo.serving import serve

    bridge = Bridge()
    with serve(bridge, lifespan="off") as url:
        print(url, flush=True)
        sys.stdin.read()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "requests": bridge.requests,
                "tickets": bridge.tickets,
                "cpu_seconds": usage.ru_utime + usage.ru_stime,
            }
        ),
        flush=True,
    )


@dataclass
class BridgeProcess:
    url: str
    process: subprocess.Popen[str]
    report: dict[str, Any] = field(default_factory=dict)


@contextlib.contextmanager
def bridge_process() -> Iterator[BridgeProcess]:
    """The bridge in a subprocess; its report (what it received) is read when it stops."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--bridge"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    bridge = BridgeProcess("", process)
    try:
        bridge.url = process.stdout.readline().strip()
        if not bridge.url.startswith("http://"):
            raise RuntimeError("the bridge did not start")
        yield bridge
    finally:
        process.stdin.close()  # it serves until its standard input closes
        lines = process.stdout.read().strip().splitlines()
        process.wait(timeout=30)
        with contextlib.suppress(ValueError, IndexError):
            bridge.report = json.loads(lines[-1])


# The hub ------------------------------------------------------------------------------------


@dataclass
class Hub:
    runtime: Any  # bridgehub.runtime.Runtime
    admin: httpx.AsyncClient
    account: httpx.AsyncClient
    postmaster: int
    activation_id: str = ""
    bridge_pid: int = 0
    noops: Noops = field(default_factory=lambda: Noops())


class Clients(Protocol):
    """What setting up and posting events need of a hub (this file's, or harness.Hub)."""

    @property
    def runtime(self) -> Any: ...  # bridgehub.runtime.Runtime
    @property
    def admin(self) -> httpx.AsyncClient: ...
    @property
    def account(self) -> httpx.AsyncClient: ...


def _meter(hub: Hub) -> CpuMeter:
    return CpuMeter(
        {
            "hub": lambda: process_cpu(os.getpid()),
            "postgres": lambda: postgres_cpu(hub.postmaster),
            "bridge": lambda: process_cpu(hub.bridge_pid),
        }
    )


def _expect(response: httpx.Response, status: int) -> dict[str, Any]:
    if response.status_code != status:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered "
            f"{response.status_code}: {response.text}"
        )
    body: dict[str, Any] = response.json() if response.content else {}
    return body


@contextlib.asynccontextmanager
async def hub_in_process(home: Path, args: argparse.Namespace) -> AsyncIterator[Hub]:
    from bridgehub.app import create_app
    from bridgehub.logs import configure_logging
    from bridgehub.runtime import freeze_startup_heap
    from bridgehub.settings import Settings

    settings = Settings(
        home=home,
        database_url=None,  # the embedded PostgreSQL, in `home`
        encryption_keys=None,  # a key file in `home`
        admin_key=SecretStr(ADMIN_KEY),
        public_url=HUB_URL,
        allow_private_networks=True,  # the bridge is on 127.0.0.1,
        allow_http=True,  # over plain HTTP
        workers=0,  # the benchmark runs its own worker, and times it
        integration_concurrency=args.integration_concurrency,
        log_level=args.log_level,
        log_format="json",
        _env_file=None,  # no .env of the working folder
    )
    log_file = (home / "hub.log").open("w")
    configure_logging(settings.log_level, settings.log_format, stream=log_file)
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):  # open_runtime: embedded PostgreSQL
            freeze_startup_heap()  # as `bridgehub serve` and `bridgehub worker` do
            transport = httpx.ASGITransport(app=app)
            admin_headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
            async with httpx.AsyncClient(
                transport=transport, base_url=HUB_URL, headers=admin_headers
            ) as admin:
                created = _expect(
                    await admin.post(
                        "/v1/accounts", json={"name": "Bench", "default_region": "US"}
                    ),
                    201,
                )
                headers = {"Authorization": f"Bearer {created['api_key']}"}
                async with httpx.AsyncClient(
                    transport=transport, base_url=HUB_URL, headers=headers
                ) as account:
                    pid_file = home / "pgdata" / "postmaster.pid"
                    postmaster = int(pid_file.read_text().split()[0])
                    yield Hub(app.state.runtime, admin, account, postmaster)
    finally:
        log_file.close()


async def set_up(hub: Clients, bridge_url: str) -> str:
    """Catalog, activation, contacts and agents synced, the automation: through the API;
    answers the activation's id."""
    from bridgehub.queue import SYNC_QUEUE
    from bridgehub.worker import work

    integration = {
        "name": INTEGRATION,
        "display_name": "Bench helpdesk",
        "description": "The actions benchmark's helpdesk.",
        "logo_url": "https://example.com/logo.png",
        "icon_url": "https://example.com/icon.png",
        "authentication_type": "none",
        "auth_validation_endpoint": f"{bridge_url}/auth_validation",
        "contact_synchronization_endpoint": f"{bridge_url}/contact_sync",
        "agent_synchronization_endpoint": f"{bridge_url}/agent_sync",
    }
    action = {
        "provider": INTEGRATION,
        "name": "create_ticket",
        "display": "create a ticket",
        "description": "create a ticket in the bench helpdesk",
        "endpoint": f"{bridge_url}/actions/create_ticket",
        "inputs": [
            {"key": "subject", "name": "Ticket subject", "mandatory": True},
            {"key": "description", "name": "Ticket description", "mandatory": True},
        ],
    }
    _expect(await hub.admin.post("/v1/integrations", json=integration), 201)
    _expect(await hub.admin.post("/v1/actions", json=action), 201)
    activated = _expect(
        await hub.account.post("/v1/activations", json={"integration": INTEGRATION}), 201
    )
    activation_id: str = activated["id"]
    for what in ("contacts", "agents"):
        started = _expect(
            await hub.account.post(f"/v1/activations/{activation_id}/sync", json={"what": what}),
            202,
        )
        await work(
            hub.runtime,
            concurrency=1,
            name="bench-sync",
            install_signal_handlers=False,
            wait=False,
            queues=[SYNC_QUEUE],
        )
        run = _expect(await hub.account.get(f"/v1/sync-runs/{started['run_id']}"), 200)
        if run["status"] != "succeeded":
            raise RuntimeError(f"the {what} sync did not succeed: {run}")
    automation = {
        "trigger": "call.missed",
        "action": ACTION,
        "inputs": {
            "subject": "Missed call from {{contact.name}}",
            "description": "{{contact.name}} ({{contact.company}}) called {{call.to}} at "
            "{{event.occurred_at}}; {{agent.name}} missed it.",
        },
    }
    _expect(await hub.account.post("/v1/automations", json=automation), 201)
    return activation_id


def event(name: str, index: int) -> dict[str, Any]:
    return {
        "id": name,
        "type": "call.missed",
        "occurred_at": datetime.now(UTC).isoformat(),
        "call": {
            "from": caller_number(index % CONTACTS),
            "to": "+15555550100",
            "agent_email": agent_email(index % AGENTS),
            "duration_seconds": 0,
        },
    }


# Measurements -------------------------------------------------------------------------------


@dataclass
class Result:
    count: int
    seconds: float
    cpu: CpuMeter
    post_latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


@contextlib.asynccontextmanager
async def worker(hub: Hub, concurrency: int, queue: str) -> AsyncIterator[None]:
    """A real procrastinate worker on `queue`, running while the block runs."""
    from bridgehub.worker import background_worker

    name = f"bench-{queue}-{concurrency}"
    async with background_worker(hub.runtime, concurrency=concurrency, name=name, queues=[queue]):
        await asyncio.sleep(0.3)  # registered and listening before the clock starts
        yield


async def spread(count: int, posters: int, one: Any) -> None:
    """Call `one(i)` for i in range(count), from `posters` concurrent tasks."""
    indices = iter(range(count))

    async def poster() -> None:
        for index in indices:
            await one(index)

    await asyncio.gather(*(poster() for _ in range(posters)))


class Noops:
    """The floor's task: does nothing but note when the last of a round is done."""

    def __init__(self) -> None:
        self.expected = 0
        self.done = 0
        self.finished = asyncio.Event()
        self.last = 0.0

    def expect(self, count: int) -> None:
        self.expected, self.done, self.last = count, 0, 0.0
        self.finished.clear()

    async def __call__(self, n: str) -> None:
        del n
        self.done += 1
        if self.done >= self.expected:
            self.last = time.perf_counter()
            self.finished.set()


async def floor(hub: Hub, count: int, concurrency: int, posters: int) -> Result:
    """N no-op jobs deferred one transaction each, run by a worker meanwhile."""
    from bridgehub.queue import enqueue

    hub.noops.expect(count)
    cpu = _meter(hub)
    async with worker(hub, concurrency, NOOP_QUEUE):
        cpu.start()
        started = time.perf_counter()

        async def defer(index: int) -> None:
            async with hub.runtime.sessionmaker() as session, session.begin():
                await enqueue(session, NOOP_TASK, queue=NOOP_QUEUE, lock=None, n=str(index))

        await spread(count, posters, defer)
        await asyncio.wait_for(hub.noops.finished.wait(), timeout=max(60.0, count / 10))
        cpu.stop()
    return Result(count, hub.noops.last - started, cpu)


async def post_events(hub: Clients, run: str, count: int, posters: int) -> list[float]:
    """POST /v1/events `count` times; answers each post's seconds."""
    latencies: list[float] = []

    async def post(index: int) -> None:
        sent = time.perf_counter()
        response = await hub.account.post("/v1/events", json=event(f"{run}-{index}", index))
        latencies.append(time.perf_counter() - sent)
        answer = _expect(response, 202)
        if len(answer["executions"]) != 1 or answer["contact_id"] is None:
            raise RuntimeError(f"event {run}-{index} did not act as expected: {answer}")

    await spread(count, posters, post)
    return latencies


async def executions_finished(
    hub: Clients, activation_id: str, count: int, since: datetime
) -> datetime:
    """Wait until `count` executions of `activation_id` created since `since` succeeded;
    answers when the last one finished (as the database has it)."""
    deadline = time.perf_counter() + max(60.0, count / 10)
    while True:
        async with hub.runtime.sessionmaker() as session:
            succeeded, failed, last = (
                await session.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE status = 'succeeded'), "
                        "count(*) FILTER (WHERE status IN ('failed', 'held')), max(finished_at) "
                        "FROM executions WHERE activation_id = :activation "
                        "AND created_at >= :since"
                    ),
                    {"activation": activation_id, "since": since},
                )
            ).one()
        if failed:
            raise RuntimeError(f"{failed} executions failed or were held; see the hub's log")
        if succeeded >= count:
            finished: datetime = last
            return finished
        if time.perf_counter() > deadline:
            raise RuntimeError(f"only {succeeded} of {count} executions succeeded in time")
        await asyncio.sleep(POLL_SECONDS)


async def pipeline(hub: Hub, run: str, count: int, concurrency: int, posters: int) -> Result:
    """Events posted while the worker runs: from the first post to the last success."""
    from bridgehub.queue import ACTIONS_QUEUE

    cpu = _meter(hub)
    async with worker(hub, concurrency, ACTIONS_QUEUE):
        cpu.start()
        since = datetime.now(UTC)
        latencies = await post_events(hub, run, count, posters)
        last = await executions_finished(hub, hub.activation_id, count, since)
        cpu.stop()
    return Result(count, (last - since).total_seconds(), cpu, latencies)


async def phases(
    hub: Hub, run: str, count: int, concurrency: int, posters: int, profile: Path | None
) -> tuple[Result, Result]:
    """The same work in two phases: every event posted with no worker running, then the
    worker running every execution. With `profile`, cProfile's statistics of this process
    in each phase are written to `post.prof` and `execute.prof` in that folder."""
    from bridgehub.queue import ACTIONS_QUEUE

    api = _meter(hub)
    api.start()
    since = datetime.now(UTC)
    started = time.perf_counter()
    with _profiled(profile, "post.prof"):
        latencies = await post_events(hub, run, count, posters)
    api.stop()
    posting = Result(count, time.perf_counter() - started, api, latencies)
    jobs = _meter(hub)
    async with worker(hub, concurrency, ACTIONS_QUEUE):
        jobs.start()
        started_at = datetime.now(UTC)
        with _profiled(profile, "execute.prof"):
            last = await executions_finished(hub, hub.activation_id, count, since)
        jobs.stop()
    return posting, Result(count, (last - started_at).total_seconds(), jobs)


@contextlib.contextmanager
def _profiled(folder: Path | None, name: str) -> Iterator[None]:
    if folder is None:
        yield
        return
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()
        folder.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(folder / name)


# Report -------------------------------------------------------------------------------------


@dataclass
class Round:
    concurrency: int
    floor: Result
    hub: Result


def _ms(values: Sequence[float], share: float) -> str:
    return f"{percentile(values, share) * 1000:.0f}" if values else "-"


def report(
    args: argparse.Namespace,
    rounds: Sequence[Round],
    split: tuple[int, Result, Result] | None,
    tickets: int | None,
) -> None:
    print()
    print(
        f"{os.cpu_count()} cores, Python {sys.version.split()[0]}; {args.events:,} events per "
        f"run, {args.posters} posters, integration concurrency {args.integration_concurrency}, "
        f"hub log level {args.log_level}"
    )
    header = (
        f"{'worker':>6} {'floor':>8} {'hub':>9} {'hub/':>6} {'hub':>7} {'POST /v1/events':>16} "
        f"{'CPU ms per action':>26} {'cores':>6}"
    )
    units = (
        f"{'conc.':>6} {'jobs/s':>8} {'actions/s':>9} {'floor':>6} {'s':>7} {'p50/p99 ms':>16} "
        f"{'hub':>6} {'postgres':>9} {'bridge':>7} {'other':>6}"
    )
    print(header)
    print(units + f" {'busy':>6}")
    print("-" * len(header))
    for each in rounds:
        cpu = each.hub.cpu
        busy = sum(cpu.spent.values()) / cpu.wall / (os.cpu_count() or 1)
        print(
            f"{each.concurrency:>6} {each.floor.rate:>8,.0f} {each.hub.rate:>9,.0f} "
            f"{each.hub.rate / each.floor.rate:>6.2f} {each.hub.seconds:>7.1f} "
            f"{_ms(each.hub.post_latencies, 0.5) + '/' + _ms(each.hub.post_latencies, 0.99):>16} "
            f"{cpu.per(each.hub.count, 'hub'):>6.1f} {cpu.per(each.hub.count, 'postgres'):>9.1f} "
            f"{cpu.per(each.hub.count, 'bridge'):>7.1f} {cpu.per(each.hub.count, OTHER):>6.1f} "
            f"{busy:>6.0%}"
        )
    print()
    print("floor: no-op procrastinate jobs, each deferred in its own transaction by the posters")
    print("while the same worker runs them; hub: events posted through the API (in process)")
    print("while the worker runs their executions, to the last execution succeeded.")
    print("targets: hub >= 200 actions/s and hub/floor >= 0.50")
    if split is not None:
        concurrency, posting, running = split
        print()
        print(f"where the time goes, in two phases (worker concurrency {concurrency}):")
        for name, result, unit in (
            ("POST /v1/events, no worker running", posting, "events/s"),
            ("the worker running the executions", running, "actions/s"),
            ("floor: a no-op job deferred and run", rounds[0].floor, "jobs/s"),
        ):
            cpu = result.cpu
            print(
                f"  {name:<36} {result.rate:>6,.0f} {unit:<9} CPU ms each: hub "
                f"{cpu.per(result.count, 'hub'):.1f}, postgres "
                f"{cpu.per(result.count, 'postgres'):.1f}, bridge "
                f"{cpu.per(result.count, 'bridge'):.1f}"
            )
    meters = [m for r in rounds for m in (r.floor.cpu, r.hub.cpu)]
    if split is not None:
        meters += [split[1].cpu, split[2].cpu]
    other = max(m.others_share for m in meters)
    if other > 0.1:
        print(
            f"WARNING: other programs kept up to {other:.0%} of a core busy during the "
            "measurements; these figures are not reliable. Run again on a quiet machine."
        )
    if tickets is not None:
        print(f"the bridge created {tickets:,} tickets, one per execution")


async def measure(args: argparse.Namespace) -> None:
    rounds: list[Round] = []
    split: tuple[int, Result, Result] | None = None
    expected = 0
    with tempfile.TemporaryDirectory(prefix="bridgehub-bench-actions-") as folder:
        with bridge_process() as bridge:
            async with hub_in_process(Path(folder), args) as hub:
                hub.bridge_pid = bridge.process.pid
                hub.activation_id = await set_up(hub, bridge.url)
                hub.runtime.queue.task(name=NOOP_TASK, queue=NOOP_QUEUE)(hub.noops)
                # Warm-up: connections opened, statements prepared, code paths run once.
                await floor(hub, WARMUP, args.concurrency[0], args.posters)
                await pipeline(hub, "warmup", WARMUP, args.concurrency[0], args.posters)
                expected += WARMUP
                for number, concurrency in enumerate(args.concurrency):
                    floor_result = await floor(hub, args.events, concurrency, args.posters)
                    hub_result = await pipeline(
                        hub, f"run{number}", args.events, concurrency, args.posters
                    )
                    expected += args.events
                    rounds.append(Round(concurrency, floor_result, hub_result))
                    print(
                        f"worker concurrency {concurrency}: floor {floor_result.rate:,.0f} "
                        f"jobs/s, hub {hub_result.rate:,.0f} actions/s",
                        flush=True,
                    )
                if not args.no_split:
                    concurrency = args.concurrency[0]
                    split = (
                        concurrency,
                        *await phases(
                            hub, "split", args.events, concurrency, args.posters, args.profile
                        ),
                    )
                    expected += args.events
        tickets = bridge.report.get("tickets")
        if tickets is not None and tickets != expected:
            raise RuntimeError(f"the bridge created {tickets} tickets, expected {expected}")
    report(args, rounds, split, tickets)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000, help="events (and actions) per run")
    parser.add_argument(
        "--concurrency",
        type=int,
        nargs="+",
        default=[4],
        help="worker concurrency; several values are measured one after the other",
    )
    parser.add_argument(
        "--posters", type=int, default=4, help="clients posting events (and deferring no-ops)"
    )
    parser.add_argument(
        "--integration-concurrency",
        type=int,
        default=4,
        help="BRIDGEHUB_INTEGRATION_CONCURRENCY: actions at once against the integration",
    )
    parser.add_argument("--log-level", default="info", help="the hub's log level (to a file)")
    parser.add_argument(
        "--no-split", action="store_true", help="skip the two-phase run (where the time goes)"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="write cProfile statistics of the two-phase run's phases to this folder",
    )
    parser.add_argument("--bridge", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bridge:
        run_bridge()
        return
    isolate_from_shell()
    asyncio.run(measure(args))


if __name__ == "__main__":
    main()
