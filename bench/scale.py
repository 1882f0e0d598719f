"""Scale: actions/s and contacts/s with 1, 2 and 4 `bridgehub worker` processes against one
PostgreSQL, next to the hub's own in-process worker (as `bridgehub serve` runs it).

    .venv/bin/python bench/scale.py                                  # about 4 minutes
    .venv/bin/python bench/scale.py --events 500 --contacts 5000 --workers 1 2
    .venv/bin/python bench/scale.py --embedded                       # the embedded PostgreSQL

Everything runs on this machine, in temporary folders removed afterwards: one PostgreSQL
(Debian's, standalone, when installed; the hub's embedded one otherwise, or with
`--embedded`), the helpdesk bridge of bench/actions.py and the CRM bridge of bench/crm.py in
subprocesses, and the hub's app in this process (the API, as `serve` runs it). Setup goes
through the API: an account, the helpdesk's activation with its contacts and agents synced
and a "call.missed" automation (bench/actions.py's `set_up`), and `--activations` CRM
integrations activated, each serving `--contacts` contacts.

Each shape is measured the same way: the workers started and registered with the queue,
then

- actions: `--events` "call.missed" events posted through the API by `--posters` clients
  (in this process) while the workers run the executions; seconds from the first post to
  the last execution's `finished_at`;
- contact sync: a contact sync of every CRM activation asked through the API at once; one
  activation's sync is one job, so the activations are what spread over the workers;
  seconds from asking to the last run's `finished_at`. The contacts are deleted afterwards,
  so that each shape's sync is an initial one.

Shapes: `serve`, the hub's in-process worker (`background_worker`, in this process, the
API and the jobs sharing one interpreter), then 1, 2, 4 (`--workers`) `bridgehub worker
--concurrency C` processes with the hub's settings (DATABASE_URL, its home and so its key
file), the API process running no jobs. Printed: throughput of each shape and its ratio to
`serve`, and the CPU of each process from /proc (utime+stime deltas): the hub process, the
worker processes, PostgreSQL's server processes, the bridges, other programs. On 2 cores
the curve flattens at the cores: the figures say where the CPU went.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from sqlalchemy import text

from actions import WARMUP, bridge_process, executions_finished, post_events, set_up
from bridgehub.db.engine import sqlalchemy_url
from bridgehub.logs import configure_logging
from bridgehub.queue import SYNC_QUEUE
from bridgehub.worker import background_worker, work
from harness import (
    OTHER,
    CpuMeter,
    DatabaseServer,
    Hub,
    connect_crm,
    crm_bridge_process,
    database_server,
    hub_in_process,
    hub_settings,
    isolate_from_shell,
    machine,
    postgres_cpu,
    process_cpu,
    scratch_folder,
)

SERVE = "serve"
POLL_SECONDS = 0.05
BRIDGEHUB = Path(sys.executable).with_name("bridgehub")


# Workers -------------------------------------------------------------------------------------


@dataclass
class Workers:
    """The workers running jobs in one shape (each registers with the queue as it starts), and
    how to read each worker process's CPU seconds."""

    count: int
    cpu: dict[str, Callable[[], float]]


@contextlib.asynccontextmanager
async def in_process_worker(hub: Hub, concurrency: int) -> AsyncIterator[Workers]:
    """The hub's own worker, beside its API in this process, as `serve` runs it."""
    async with background_worker(hub.runtime, concurrency=concurrency, name=SERVE):
        yield Workers(1, {})  # its CPU is the hub's


@contextlib.asynccontextmanager
async def worker_processes(
    count: int, concurrency: int, environment: dict[str, str], logs: Path
) -> AsyncIterator[Workers]:
    """`count` `bridgehub worker` processes, stopped (SIGTERM) when the block ends."""
    processes: list[subprocess.Popen[bytes]] = []
    # Started at once and outside any measurement: blocking the loop a moment costs nothing.
    try:
        for number in range(count):
            with (logs / f"worker-{count}-{number}.log").open("wb") as log:
                processes.append(
                    subprocess.Popen(  # noqa: ASYNC220
                        [str(BRIDGEHUB), "worker", "--concurrency", str(concurrency)],
                        env=environment,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        yield Workers(count, {f"worker {n + 1}": _cpu_of(p.pid) for n, p in enumerate(processes)})
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            process.wait(timeout=60)


def _cpu_of(pid: int) -> Callable[[], float]:
    return lambda: process_cpu(pid)


def worker_environment(home: Path, database: str, integration_concurrency: int) -> dict[str, str]:
    """What a `bridgehub worker` needs to work for the hub in this process: its database, its
    home (where the key file is), and the same network and concurrency settings."""
    return {
        **os.environ,
        "DATABASE_URL": database,
        "BRIDGEHUB_HOME": str(home),
        "BRIDGEHUB_ALLOW_PRIVATE_NETWORKS": "true",  # the bridges are on 127.0.0.1,
        "BRIDGEHUB_ALLOW_HTTP": "true",  # over plain HTTP
        "BRIDGEHUB_INTEGRATION_CONCURRENCY": str(integration_concurrency),
        "BRIDGEHUB_LOG_LEVEL": "warning",
    }


async def registered(hub: Hub, workers: Workers) -> None:
    """Wait until every worker has registered with the queue (imports done, listening); the
    previous shape's workers removed themselves as they stopped."""
    deadline = time.monotonic() + 60
    while True:
        async with hub.runtime.sessionmaker() as session:
            ready = await session.scalar(text("SELECT count(*) FROM procrastinate_workers"))
        if ready == workers.count:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"{ready} workers registered, expected {workers.count}")
        await asyncio.sleep(POLL_SECONDS)


# Rounds --------------------------------------------------------------------------------------


@dataclass
class Round:
    count: int
    seconds: float
    cpu: CpuMeter

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0


@dataclass
class Shape:
    name: str
    actions: Round
    sync: Round


@dataclass
class Bench:
    hub: Hub
    server: DatabaseServer
    database: str
    helpdesk: str
    """The helpdesk's activation, whose automation acts on each event."""
    crms: list[str]
    """The CRM activations synced in each shape."""
    bridges: dict[str, int]
    """Process id of each bridge, by name."""
    args: argparse.Namespace
    rounds: int = 0
    shapes: list[Shape] = field(default_factory=list)

    def meter(self, workers: Workers) -> CpuMeter:
        processes: dict[str, Callable[[], float]] = {"hub": _cpu_of(os.getpid())}
        processes.update(workers.cpu)
        processes["postgres"] = lambda: postgres_cpu(self.server.postmaster)
        processes.update({name: _cpu_of(pid) for name, pid in self.bridges.items()})
        return CpuMeter(processes)


async def actions_round(bench: Bench, workers: Workers) -> Round:
    """Events posted through the API while the workers run their executions."""
    args = bench.args
    bench.rounds += 1
    # Warm-up: this shape's connections opened and statements prepared.
    since = datetime.now(UTC)
    await post_events(bench.hub, f"warmup{bench.rounds}", WARMUP, args.posters)
    await executions_finished(bench.hub, bench.helpdesk, WARMUP, since)
    cpu = bench.meter(workers)
    cpu.start()
    since = datetime.now(UTC)
    await post_events(bench.hub, f"round{bench.rounds}", args.events, args.posters)
    last = await executions_finished(bench.hub, bench.helpdesk, args.events, since)
    cpu.stop()
    return Round(args.events, (last - since).total_seconds(), cpu)


async def sync_round(bench: Bench, workers: Workers) -> Round:
    """A contact sync of every CRM activation at once, to the last run finished."""
    cpu = bench.meter(workers)
    cpu.start()
    since = datetime.now(UTC)
    runs = [await _ask_sync(bench.hub, activation) for activation in bench.crms]
    last = await _runs_finished(bench.hub, runs)
    cpu.stop()
    stored = await _count_contacts(bench.hub, bench.crms)
    expected = len(bench.crms) * bench.args.contacts
    if stored != expected:
        raise RuntimeError(f"{stored:,} contacts stored, expected {expected:,}")
    return Round(expected, (last - since).total_seconds(), cpu)


async def _ask_sync(hub: Hub, activation: str) -> uuid.UUID:
    asked = await hub.account.post(f"/v1/activations/{activation}/sync", json={"what": "contacts"})
    if asked.status_code != 202:
        raise RuntimeError(f"the sync of {activation} was refused: {asked.text}")
    return uuid.UUID(asked.json()["run_id"])


async def _runs_finished(hub: Hub, runs: list[uuid.UUID]) -> datetime:
    """Wait until every run succeeded; answers when the last one finished."""
    deadline = time.monotonic() + 600
    while True:
        async with hub.runtime.sessionmaker() as session:
            succeeded, failed, last = (
                await session.execute(
                    text(
                        "SELECT count(*) FILTER (WHERE status = 'succeeded'), "
                        "count(*) FILTER (WHERE status = 'failed'), max(finished_at) "
                        "FROM sync_runs WHERE id = ANY(:runs)"
                    ),
                    {"runs": runs},
                )
            ).one()
        if failed:
            raise RuntimeError(f"{failed} sync runs failed; see the workers' logs")
        if succeeded == len(runs):
            finished: datetime = last
            return finished
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {succeeded} of {len(runs)} sync runs succeeded in time")
        await asyncio.sleep(POLL_SECONDS)


async def _count_contacts(hub: Hub, activations: list[str]) -> int:
    async with hub.runtime.sessionmaker() as session:
        stored = await session.scalar(
            text("SELECT count(*) FROM contacts WHERE activation_id = ANY(:ids)"),
            {"ids": [uuid.UUID(a) for a in activations]},
        )
    return int(stored or 0)


async def forget_synced_contacts(bench: Bench) -> None:
    """What no API call does: the CRM activations' contacts and checkpoints gone, so that the
    next shape's sync is an initial one again (and the callers' lookups find one contact)."""
    ids = [uuid.UUID(a) for a in bench.crms]
    # The executions and events of the rounds before go first, so that every shape starts
    # from the same tables.
    async with await psycopg.AsyncConnection.connect(bench.database, autocommit=True) as admin:
        await admin.execute("TRUNCATE execution_attempts, executions, events")
    async with bench.hub.runtime.sessionmaker() as session, session.begin():
        await session.execute(
            text("DELETE FROM contacts WHERE activation_id = ANY(:ids)"), {"ids": ids}
        )
        await session.execute(
            text("UPDATE activations SET contacts_checkpoint = NULL WHERE id = ANY(:ids)"),
            {"ids": ids},
        )
    # The next shape writes into a table as clean as the first one did.
    async with await psycopg.AsyncConnection.connect(bench.database, autocommit=True) as admin:
        await admin.execute("VACUUM ANALYZE contacts")


async def first_sync(bench: Bench) -> None:
    """Sync the CRM activations once before measuring, with the hub's own code, then forget
    their contacts: otherwise the scheduler (an every-minute job) would find them never
    synced and queue their syncs in the middle of the first shape's actions."""
    for activation in bench.crms:
        await _ask_sync(bench.hub, activation)
    await work(
        bench.hub.runtime,
        concurrency=len(bench.crms),
        name="bench-first-sync",
        install_signal_handlers=False,
        wait=False,  # until the queue is empty
        queues=[SYNC_QUEUE],
    )
    await forget_synced_contacts(bench)


async def measure_shape(bench: Bench, name: str, workers: Workers) -> None:
    await registered(bench.hub, workers)
    actions = await actions_round(bench, workers)
    sync = await sync_round(bench, workers)
    await forget_synced_contacts(bench)
    bench.shapes.append(Shape(name, actions, sync))
    print(
        f"{name}: {actions.rate:,.0f} actions/s, {sync.rate:,.0f} contacts/s "
        f"({time.strftime('%H:%M:%S')})",
        flush=True,
    )


# Running and reporting -----------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    configure_logging("warning")
    with (
        scratch_folder(args.keep) as folder,
        database_server(folder / "postgres", embedded=args.embedded) as server,
        crm_bridge_process(args.contacts) as crm,
        bridge_process() as helpdesk,
    ):
        print(f"PostgreSQL: {server.kind}; machine: {machine()}", flush=True)
        database = server.new_database("hub")
        settings = hub_settings(folder / "home").model_copy(
            update={"integration_concurrency": args.integration_concurrency}
        )
        async with hub_in_process(settings, sqlalchemy_url(database)) as hub:
            helpdesk_activation = await set_up(hub, helpdesk.url)
            crms = [
                await connect_crm(hub, crm.url, name=f"bench-crm-{number + 1}")
                for number in range(args.activations)
            ]
            bench = Bench(
                hub,
                server,
                database,
                helpdesk_activation,
                crms,
                {"helpdesk bridge": helpdesk.process.pid, "CRM bridge": crm.pid},
                args,
            )
            await first_sync(bench)
            async with in_process_worker(hub, args.concurrency) as workers:
                await measure_shape(bench, f"{SERVE} (in-process worker)", workers)
            environment = worker_environment(settings.home, database, args.integration_concurrency)
            for count in args.workers:
                async with worker_processes(
                    count, args.concurrency, environment, folder
                ) as workers:
                    await measure_shape(bench, _plural(count, "worker process"), workers)
    tickets = helpdesk.report.get("tickets")
    expected = len(bench.shapes) * (WARMUP + args.events)
    if tickets is not None and tickets != expected:
        raise RuntimeError(f"the bridge created {tickets} tickets, expected {expected}")
    report(args, server, bench.shapes)


def _plural(count: int, what: str) -> str:
    return f"{count} {what}" if count == 1 else f"{count} {what}es"


def report(args: argparse.Namespace, server: DatabaseServer, shapes: Sequence[Shape]) -> None:
    cores = os.cpu_count() or 1
    print()
    print(f"PostgreSQL: {server.kind}; machine: {machine()}")
    print(
        f"actions: {args.events:,} events a shape, {args.posters} posters through the API in the "
        f"hub process; worker concurrency {args.concurrency}, integration concurrency "
        f"{args.integration_concurrency}"
    )
    print(
        f"contact sync: {args.activations} activations x {args.contacts:,} contacts, at once, "
        "from one CRM bridge"
    )
    print()
    serve = shapes[0]
    header = f"{'shape':<28} {'actions/s':>10} {'x serve':>8} {'contacts/s':>11} {'x serve':>8}"
    print(header)
    print("-" * len(header))
    for shape in shapes:
        print(
            f"{shape.name:<28} {shape.actions.rate:>10,.0f} "
            f"{shape.actions.rate / serve.actions.rate:>8.2f} {shape.sync.rate:>11,.0f} "
            f"{shape.sync.rate / serve.sync.rate:>8.2f}"
        )
    for what, unit, scale, pick in (
        ("actions", "CPU ms per action", 1e3, lambda s: s.actions),
        ("contact sync", "CPU µs per contact", 1e6, lambda s: s.sync),
    ):
        print()
        print(f"CPU during the {what} rounds: share of one core (and {unit})")
        columns = ["hub", "workers", "postgres", "bridges", OTHER]
        print(f"{'shape':<28}" + "".join(f"{c:>18}" for c in columns) + f"{'busy':>7}")
        for shape in shapes:
            measured: Round = pick(shape)
            split = _grouped(measured.cpu.spent)
            cells = [
                f"{split.get(c, 0.0) / measured.cpu.wall:.0%} "
                f"({split.get(c, 0.0) / measured.count * scale:.2f})"
                for c in columns
            ]
            busy = sum(split.values()) / measured.cpu.wall / cores
            print(f"{shape.name:<28}" + "".join(f"{c:>18}" for c in cells) + f"{busy:>7.0%}")
            each = [
                f"{v / measured.cpu.wall:.0%}"
                for k, v in measured.cpu.spent.items()
                if k.startswith("worker ")
            ]
            if len(each) > 1:
                print(f"{'':<28}  each worker: {', '.join(each)}")
    others = max(m.cpu.others_share for s in shapes for m in (s.actions, s.sync))
    if others > 0.1:
        print(
            f"WARNING: other programs kept up to {others:.0%} of a core busy meanwhile; "
            "these figures are not reliable. Run again on a quiet machine."
        )


def _grouped(spent: dict[str, float]) -> dict[str, float]:
    """CPU seconds by kind of process: the worker processes and the bridges summed."""
    grouped: dict[str, float] = {}
    for name, seconds in spent.items():
        kind = "workers" if name.startswith("worker ") else "bridges" if "bridge" in name else name
        grouped[kind] = grouped.get(kind, 0.0) + seconds
    return grouped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=2_000, help="events (actions) a shape")
    parser.add_argument("--posters", type=int, default=4, help="clients posting events")
    parser.add_argument("--activations", type=int, default=4, help="CRM activations synced at once")
    parser.add_argument(
        "--contacts", type=int, default=25_000, help="contacts of each CRM activation"
    )
    parser.add_argument(
        "--workers", type=int, nargs="+", default=[1, 2, 4], help="worker processes of each shape"
    )
    parser.add_argument(
        "--concurrency", type=int, default=4, help="jobs at once in each worker (serve's is 4)"
    )
    parser.add_argument(
        "--integration-concurrency",
        type=int,
        default=16,
        help="actions at once against the helpdesk, all workers together (the hub's default "
        "is 4: enough for one worker, a cap for four)",
    )
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="the hub's embedded PostgreSQL, even when Debian's is installed",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    isolate_from_shell()
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
