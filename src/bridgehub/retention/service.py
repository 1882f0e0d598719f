"""Purging history past its retention: executions (their attempts go with them, by the
foreign key's cascade) and sync runs some days after they finished, events some days after
they arrived (the hub's own outbox events with their webhook deliveries too). Unfinished
executions and runs are kept whatever their age.

Each table is purged a batch at a time, each batch in a transaction of its own: locks are
held on one batch's rows for as long as one short DELETE takes, and rows that concurrent
work holds are skipped (a later run takes them) rather than waited for."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import structlog
from sqlalchemy import ColumnElement, Select, delete, select, true
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import InstrumentedAttribute

from bridgehub import metrics
from bridgehub.automations.models import Event
from bridgehub.events.models import OutboxEvent
from bridgehub.executions.models import Execution, ExecutionStatus
from bridgehub.syncs.models import SyncRun, SyncStatus

log = structlog.get_logger(__name__)

BATCH_SIZE = 1_000
"""Rows deleted per transaction: few enough that a batch ends in milliseconds, many enough
that a day's worth of rows takes few round trips."""


@dataclass(frozen=True)
class _Expiring:
    """A table whose rows expire: those `ended` allows, once their `moment` is past."""

    model: type[Execution] | type[Event] | type[OutboxEvent] | type[SyncRun]
    moment: InstrumentedAttribute[datetime | None] | InstrumentedAttribute[datetime]
    ended: ColumnElement[bool]

    @property
    def table(self) -> str:
        return self.model.__tablename__

    def oldest_expired(self, cutoff: datetime, limit: int) -> Select[uuid.UUID]:
        """The ids of the `limit` oldest expired rows, locked, those locked elsewhere left
        out: a row being changed is not worth waiting for."""
        return (
            select(self.model.id)
            .where(self.ended, self.moment < cutoff)
            .order_by(self.moment)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )


# Only finished executions and runs expire. An unfinished one has no `finished_at` (a
# retry clears it as it queues a failed execution again); its status is checked as well,
# so that no path that starts a row again can leave it to the purge.
_EXPIRING = (
    _Expiring(
        Execution,
        Execution.finished_at,
        Execution.status.in_((ExecutionStatus.SUCCEEDED, ExecutionStatus.FAILED)),
    ),
    _Expiring(Event, Event.received_at, true()),
    # Their webhook deliveries and attempts go with them (cascade): a delivery's retries end
    # within hours, long before its event expires.
    _Expiring(OutboxEvent, OutboxEvent.occurred_at, true()),
    _Expiring(
        SyncRun, SyncRun.finished_at, SyncRun.status.in_((SyncStatus.SUCCEEDED, SyncStatus.FAILED))
    ),
)


async def purge_expired(
    sessionmaker: async_sessionmaker[AsyncSession],
    retention_days: int,
    *,
    batch_size: int = BATCH_SIZE,
) -> dict[str, int]:
    """Delete every row that expired `retention_days` ago or earlier; answers how many rows
    each table lost."""
    cutoff = datetime.now(UTC) - timedelta(days=retention_days)
    purged = {
        expiring.table: await _purge_table(sessionmaker, expiring, cutoff, batch_size)
        for expiring in _EXPIRING
    }
    log.info("purged expired rows", older_than=cutoff.isoformat(), **purged)
    return purged


async def _purge_table(
    sessionmaker: async_sessionmaker[AsyncSession],
    expiring: _Expiring,
    cutoff: datetime,
    batch_size: int,
) -> int:
    purged = 0
    while True:
        async with sessionmaker() as session, session.begin():
            deleted = await _delete_batch(session, expiring, cutoff, batch_size)
        metrics.retention_purged_rows.labels(expiring.table).inc(deleted)
        purged += deleted
        # A short batch found no more (or only rows held elsewhere, left to the next run).
        if deleted < batch_size:
            return purged


async def _delete_batch(
    session: AsyncSession, expiring: _Expiring, cutoff: datetime, batch_size: int
) -> int:
    model = expiring.model
    deleted = await session.scalars(
        delete(model)
        .where(model.id.in_(expiring.oldest_expired(cutoff, batch_size)))
        .returning(model.id),
        # The session holds none of these rows: nothing to keep in step.
        execution_options={"synchronize_session": False},
    )
    return len(deleted.all())
