"""Periodic work with several workers: each of them runs procrastinate's scheduler, yet every
tick is deferred once, and every due activation is synchronized once."""

from __future__ import annotations

import re
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

import httpx
import psycopg

from tests.faults.served_hub import connected_account, wait_for
from tests.helpdesk_fixtures import Helpdesk
from tests.production.shape import Worker, deployed
from tests.standalone_postgres import StandaloneServer

ACCOUNTS = 4
WORKERS = 3
KINDS = ("contacts", "agents")
RECOVERY = "worker.recover_stalled_jobs"


def test_three_workers_schedule_each_due_activation_once(
    tmp_path: Path, standalone_postgres: StandaloneServer, helpdesk: Helpdesk
) -> None:
    with (
        deployed(tmp_path, standalone_postgres, api_processes=1, workers=WORKERS) as deployment,
        ExitStack() as accounts,
    ):
        connected = [
            accounts.enter_context(connected_account(deployment.hub_url, helpdesk, catalog=n == 0))
            for n in range(ACCOUNTS)
        ]
        # New activations sync at once (or at the minute's tick, should it come first).
        wait_for(
            lambda: all(_kinds(_runs(account)) == sorted(KINDS) for account, _ in connected),
            "every new activation's first runs",
            60,
        )
        first = {run["id"] for account, _ in connected for run in _runs(account)}
        wait_for(
            lambda: all(_ended(_runs(account)) for account, _ in connected),
            "the first runs to end",
            60,
        )
        # A day later, all are due at the same minute's tick.
        with psycopg.connect(standalone_postgres.url, autocommit=True) as database:
            database.execute("UPDATE sync_runs SET created_at = created_at - interval '2 days'")

        def scheduled(account: httpx.Client) -> list[dict[str, str]]:
            return [run for run in _runs(account) if run["id"] not in first]

        wait_for(
            lambda: all(_kinds(scheduled(account)) == sorted(KINDS) for account, _ in connected),
            "the minute's tick to schedule every activation",
            90,
        )
        wait_for(
            lambda: all(_ended(scheduled(account)) for account, _ in connected),
            "the runs to end",
            60,
        )
        for account, activation_id in connected:
            runs = scheduled(account)
            assert {run["trigger"] for run in runs} == {"schedule"}
            assert {run["activation_id"] for run in runs} == {activation_id}
            assert {run["status"] for run in runs} == {"succeeded"}
        wait_for(
            lambda: len(_ticks_started(deployment.workers, RECOVERY)) >= 2,
            "two ten-second ticks",
            30,
        )
        ticks = _ticks_started(deployment.workers, "contacts.schedule_syncs")
        recoveries = _ticks_started(deployment.workers, RECOVERY)
    assert ticks, "no scheduling tick ran"
    assert set(ticks.values()) == {1}, f"a tick ran more than once: {ticks}"
    assert set(recoveries.values()) == {1}, f"a recovery tick ran more than once: {recoveries}"


def _runs(account: httpx.Client) -> list[dict[str, str]]:
    runs: list[dict[str, str]] = account.get("/v1/sync-runs").json()["items"]
    return runs


def _kinds(runs: list[dict[str, str]]) -> list[str]:
    return sorted(run["what"] for run in runs)


def _ended(runs: list[dict[str, str]]) -> bool:
    return all(run["status"] not in ("queued", "running") for run in runs)


def _ticks_started(workers: list[Worker], task: str) -> Counter[str]:
    """How many times a job of `task` started for each tick, across the workers' logs."""
    started = re.compile(rf"Starting job {re.escape(task)}\[\d+\]\(timestamp=(\d+)\)")
    return Counter(
        tick
        for worker in workers
        for line in worker.lines()
        for tick in started.findall(line["event"])
    )
