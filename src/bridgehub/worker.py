"""The composition root of background work: the task queue with every domain's tasks, the
runtime around it, and the workers that run its jobs.

Jobs live in the hub's own PostgreSQL (procrastinate), enqueued in the same transaction as
the state they act on, so any number of workers, in `serve` processes or started alone with
`bridgehub worker`, share them through the database. Each domain declares its tasks on a
blueprint in its `tasks.py`; services enqueue them by name (`bridgehub.queue`).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import procrastinate
import structlog
from procrastinate import JobContext, PsycopgConnector
from procrastinate.app import WorkerOptions
from procrastinate.exceptions import ConnectorException
from procrastinate.worker import Worker

from bridgehub import metrics
from bridgehub.db import migrate
from bridgehub.db.engine import create_engine, create_sessionmaker, database_url
from bridgehub.db.outage import DATABASE_ERRORS, unreachable
from bridgehub.executions import tasks as execution_tasks
from bridgehub.queue import EVERY_TEN_SECONDS, RECOVER_STALLED_JOBS, libpq_url, periodic
from bridgehub.retention import tasks as retention_tasks
from bridgehub.runtime import Runtime, bridge_client
from bridgehub.settings import Settings
from bridgehub.syncs import tasks as sync_tasks
from bridgehub.vault import vault_from_settings
from bridgehub.webhooks import tasks as webhook_tasks

log = structlog.get_logger(__name__)

# How long a worker that lost the database waits before looking for it again (doubling).
_FIRST_PAUSE = 0.5
_LONGEST_PAUSE = 8.0
_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
_CONNECTION_WAIT_SECONDS = 5.0
# A worker proves it is alive this often; one silent for STALLED_AFTER_SECONDS (four beats
# missed) is taken for dead and its jobs go back to the queue at the next recovery tick
# (every ten seconds), and a worker polls the queue at least every 5 s: a killed worker's
# jobs resume 20 to 35 s later.
HEARTBEAT_SECONDS = 5.0
STALLED_AFTER_SECONDS = 20.0
# What losing the database raises in a worker: procrastinate wraps the driver's errors.
_LOST_DATABASE: tuple[type[Exception], ...] = (*DATABASE_ERRORS, ConnectorException)


def connect_queue(database_url: str) -> procrastinate.App:
    """The task queue on the hub's database, with every domain's tasks registered."""
    queue = procrastinate.App(
        connector=PsycopgConnector(
            conninfo=libpq_url(database_url),
            min_size=1,
            max_size=10,
            # How long the queue waits for a connection: with the database away, a worker
            # finds out (and a stopping one gives up recording its jobs) in seconds, not in
            # the pool's default 30, which would outlast a stop's grace.
            timeout=_CONNECTION_WAIT_SECONDS,
        )
    )
    for blueprint in (
        sync_tasks.blueprint(),
        execution_tasks.blueprint(),
        retention_tasks.blueprint(),
        webhook_tasks.blueprint(),
        _recovery(),
    ):
        # Task names already say their domain, and queued jobs hold them as they are.
        queue.add_tasks_from(blueprint, namespace="")
    return queue


@asynccontextmanager
async def open_runtime(settings: Settings, database: str | None = None) -> AsyncIterator[Runtime]:
    """Everything a hub process needs, for as long as the block runs: the database (the
    embedded one when none is given or configured), migrated; the vault; the bridge client;
    the task queue."""
    async with AsyncExitStack() as stack:
        # Starting the embedded server blocks for a moment, before anything else runs.
        url = database or stack.enter_context(database_url(settings))
        await asyncio.to_thread(migrate.upgrade, url)
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        queue = await stack.enter_async_context(connect_queue(url).open_async())
        yield Runtime(
            settings=settings,
            sessionmaker=create_sessionmaker(engine),
            vault=vault_from_settings(settings),
            bridge=await stack.enter_async_context(bridge_client(settings)),
            queue=queue,
        )


@asynccontextmanager
async def background_worker(
    runtime: Runtime,
    *,
    concurrency: int,
    name: str | None = None,
    queues: list[str] | None = None,
) -> AsyncIterator[None]:
    """Run a worker beside the caller (the API process) for as long as the block runs, on
    `queues` (all by default); with a concurrency of 0, none."""
    if concurrency == 0:
        yield
        return
    running = asyncio.create_task(
        work(
            runtime,
            concurrency=concurrency,
            name=name or process_name("serve"),
            install_signal_handlers=False,
            queues=queues,
        )
    )
    try:
        yield
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running


def process_name(role: str) -> str:
    """How a worker names itself in logs: its role, machine and process."""
    return f"{role}-{socket.gethostname()}-{os.getpid()}"


async def work(
    runtime: Runtime,
    *,
    concurrency: int,
    name: str,
    install_signal_handlers: bool = True,
    wait: bool = True,
    queues: list[str] | None = None,
) -> None:
    """Run jobs of `queues` (all when None) until stopped (cancelled, or by SIGINT or SIGTERM
    with `install_signal_handlers`), or, without `wait`, until none is left. A lost database
    does not end it: it waits for the database, hands back the jobs it was running, and goes
    on."""
    options: WorkerOptions = {
        "concurrency": concurrency,
        "name": name,
        "wait": wait,
        # Signals are told apart here from a worker that stops by itself.
        "install_signal_handlers": False,
        "additional_context": runtime.job_context(),
        "delete_jobs": "successful",
        "worker_middleware": [_log_with_job_ids, _measure_start_delay],
        "update_heartbeat_interval": HEARTBEAT_SECONDS,
        "stalled_worker_timeout": STALLED_AFTER_SECONDS,
        # Past it, jobs still running are cancelled and go back to the queue (their tasks
        # retry): a sync resumes from its last stored page.
        "shutdown_graceful_timeout": runtime.settings.shutdown_jobs_seconds,
    }
    if queues:  # none given: every queue
        options["queues"] = queues
    stop = _StopRequest()
    with stop.on_signals() if install_signal_handlers else contextlib.nullcontext():
        while not stop.requested:
            worker = Worker(app=runtime.queue, **options)
            # procrastinate leaves these two unannotated.
            run: Callable[[], Awaitable[None]] = worker.run
            stop.stop_current = worker.stop
            try:
                await run()
                # procrastinate stops a worker whose connection to the database broke.
                if stop.requested or not wait:
                    return
            except _LOST_DATABASE as error:
                if not unreachable(error):
                    raise
            log.warning("the worker lost the database; it goes on when the database is back")
            await _hand_back_after_outage(runtime.queue, worker.worker_id, stop)


async def _measure_start_delay(
    call_next: Callable[[], Awaitable[Any]], context: JobContext, worker: Worker
) -> Any:
    """Observe how long the job waited past its due time, as it starts. Jobs procrastinate
    queues itself (periodic ones, stalled ones put back) have no due time to measure from."""
    del worker
    job = context.job
    if job.scheduled_at is not None:
        waited = context.start_timestamp - job.scheduled_at.timestamp()
        # Never below 0: the worker's clock and the database's may differ a little.
        metrics.job_start_delay.labels(job.queue).observe(max(waited, 0.0))
    return await call_next()


async def _log_with_job_ids(
    call_next: Callable[[], Awaitable[Any]], context: JobContext, worker: Worker
) -> Any:
    """Every line logged while a job runs names the job and what it works on: its arguments
    are the ids of a sync run, an execution, an activation."""
    del worker
    job = context.job
    with structlog.contextvars.bound_contextvars(
        job_id=job.id, task=job.task_name, **job.task_kwargs
    ):
        return await call_next()


class _StopRequest:
    """Whether a person asked the worker to stop, and the worker to tell."""

    def __init__(self) -> None:
        self.requested = False
        self.stop_current: Callable[[], None] | None = None
        self._asked = asyncio.Event()

    async def comes_within(self, seconds: float) -> bool:
        """Wait up to `seconds` for a stop request; whether one came."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._asked.wait(), seconds)
        return self.requested

    @contextlib.contextmanager
    def on_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for signal_number in _STOP_SIGNALS:
            loop.add_signal_handler(signal_number, self._request)
        try:
            yield
        finally:
            for signal_number in _STOP_SIGNALS:
                loop.remove_signal_handler(signal_number)

    def _request(self) -> None:
        log.info("stopping the worker once its jobs end")
        self.requested = True
        self._asked.set()
        if self.stop_current is not None:
            self.stop_current()


async def _hand_back_after_outage(
    queue: procrastinate.App, worker_id: int | None, stop: _StopRequest
) -> None:
    """Wait for the database, then put back in the queue the jobs the worker `worker_id`
    was running when it was lost, for a worker to resume at once (rather than after its
    heartbeat is found stale). Asked to stop meanwhile, it leaves them to that."""
    pause = _FIRST_PAUSE
    while True:
        if await stop.comes_within(pause):
            return
        try:
            if worker_id is not None:
                # Its jobs are left without a worker, which marks them stalled.
                await queue.job_manager.unregister_worker(worker_id)
            await requeue_stalled(queue)
            return
        except _LOST_DATABASE as error:
            if not unreachable(error):
                raise
        pause = min(pause * 2, _LONGEST_PAUSE)


async def requeue_stalled(
    queue: procrastinate.App, *, seconds_since_heartbeat: float = STALLED_AFTER_SECONDS
) -> int:
    """Put back in the queue the jobs of workers that stopped sending heartbeats (a worker
    killed or cut off): whoever takes them resumes the work."""
    manager = queue.job_manager
    stalled = list(await manager.get_stalled_jobs(seconds_since_heartbeat=seconds_since_heartbeat))
    for job in stalled:
        log.warning("requeuing a stalled job", stalled_job_id=job.id, stalled_task=job.task_name)
        await manager.retry_job(job)
    return len(stalled)


async def recover_stalled_jobs(context: JobContext, timestamp: int) -> None:
    del timestamp
    await requeue_stalled(context.app)


def _recovery() -> procrastinate.Blueprint:
    jobs = procrastinate.Blueprint()
    periodic(jobs, RECOVER_STALLED_JOBS, recover_stalled_jobs, cron=EVERY_TEN_SECONDS)
    return jobs
