"""Asking for sync runs (by a person or on schedule) and reading them, scoped by account.

A run is queued with its job in the caller's transaction; `bridgehub.syncs.runner` carries
it out.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import exists, func, select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.accounts.tenancy import of_account, owned_by, owned_row, owned_rows
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.integrations.configuration import IntegrationConfiguration
from bridgehub.integrations.models import Integration
from bridgehub.integrations.service import integration_service
from bridgehub.kit.errors import Conflict
from bridgehub.kit.queries import where_equal
from bridgehub.queue import RUN_SYNC, SYNC_QUEUE, enqueue
from bridgehub.syncs import deletions
from bridgehub.syncs.models import FullReason, SyncKind, SyncRun, SyncStatus

AGENT_SYNC_INTERVAL = timedelta(days=1)
_LISTED_RUNS = 100


@dataclass(frozen=True)
class SyncRunFilter:
    """Which sync runs to list; each criterion left as None matches everything."""

    status: SyncStatus | None = None
    activation_id: uuid.UUID | None = None
    kind: SyncKind | None = None
    since: datetime | None = None
    """Created at or after this moment."""


class SyncService:
    async def request(
        self,
        session: AsyncSession,
        activation: Activation,
        kind: SyncKind,
        trigger: str,
        *,
        full: bool = False,
    ) -> SyncRun:
        """Queue a sync of `activation` (of every contact with `full`), or answer the one
        already queued or running (made full, when asked and it has not started)."""
        _refuse_unsyncable(activation, kind)
        unfinished = await _unfinished(session, activation, kind)
        if unfinished is not None:
            if full and unfinished.status == SyncStatus.QUEUED:
                _make_full(unfinished, FullReason.REQUESTED)
            return unfinished
        reason = (
            await _full_reason(session, activation, full) if kind == SyncKind.CONTACTS else None
        )
        run = SyncRun(
            id=uuid.uuid4(),
            account_id=activation.account_id,
            activation_id=activation.id,
            kind=kind,
            status=SyncStatus.QUEUED,
            trigger=trigger,
            full_reason=reason,
            checkpoint=activation.contacts_checkpoint if kind == SyncKind.CONTACTS else None,
        )
        if reason is not None:
            _make_full(run, reason)
        try:
            async with session.begin_nested():
                session.add(run)
                await session.flush()
        except IntegrityError:  # queued by a concurrent request meanwhile: join that one
            joined = await _unfinished(session, activation, kind)
            assert joined is not None
            return joined
        # One lock per activation: its contact and agent syncs never run at the same time.
        await enqueue(
            session,
            RUN_SYNC,
            queue=SYNC_QUEUE,
            lock=f"activation:{activation.id}",
            run_id=str(run.id),
            account_id=str(activation.account_id),
        )
        return run

    async def first_syncs(
        self, session: AsyncSession, activation_id: uuid.UUID, account_id: uuid.UUID | None
    ) -> list[SyncRun]:
        """Queue the first contact and agent syncs of a new activation, when it is still
        active, its integration offers them, and no run came first (the scheduler's tick may
        have seen the activation before this job ran)."""
        activation = await session.scalar(
            select(Activation).where(
                Activation.id == activation_id, of_account(Activation, account_id)
            )
        )
        if activation is None or activation.status != ActivationStatus.ACTIVE:
            return []
        return [
            await self.request(session, activation, kind, trigger="activation")
            for kind in SyncKind
            if offers(activation.integration, kind)
            and not await _ran_since(session, activation, kind, activation.created_at)
        ]

    async def schedule_due(self, session: AsyncSession) -> list[SyncRun]:
        """Queue a sync of each active activation whose interval passed since its last run:
        contacts every `sync_interval_minutes`, agents daily."""
        now = datetime.now(UTC)
        queued = []
        active = await session.scalars(
            select(Activation).where(Activation.status == ActivationStatus.ACTIVE)
        )
        for activation in active.all():
            configuration = integration_service.parse(activation.integration)
            intervals = {
                SyncKind.CONTACTS: timedelta(minutes=activation.sync_interval_minutes),
                SyncKind.AGENTS: AGENT_SYNC_INTERVAL,
            }
            for kind, interval in intervals.items():
                if endpoint(configuration, kind) and not await _ran_since(
                    session, activation, kind, now - interval
                ):
                    queued.append(await self.request(session, activation, kind, trigger="schedule"))
        return queued

    async def get(self, session: AsyncSession, account: Account, run_id: uuid.UUID) -> SyncRun:
        return await owned_row(session, account, SyncRun, run_id, "sync run")

    async def get_many(
        self, session: AsyncSession, account: Account, run_ids: Collection[uuid.UUID]
    ) -> Sequence[SyncRun]:
        """The account's sync runs among `run_ids`, in one statement."""
        return await owned_rows(session, account, SyncRun, run_ids)

    async def confirm_deletions(
        self, session: AsyncSession, account: Account, run_id: uuid.UUID
    ) -> SyncRun:
        """Remove the contacts a full run held back as too many, as a person decided."""
        run = await self.get(session, account, run_id)
        if run.deletions_held == 0 or run.finished_at is None:
            raise Conflict(f"Sync run {run_id} holds no deletions to confirm.")
        await deletions.apply_held(session, run, run.finished_at)
        return run

    async def list(
        self, session: AsyncSession, account: Account, activation_id: uuid.UUID | None
    ) -> Sequence[SyncRun]:
        statement = select(SyncRun).where(owned_by(account, SyncRun))
        if activation_id is not None:
            statement = statement.where(SyncRun.activation_id == activation_id)
        newest = statement.order_by(SyncRun.created_at.desc()).limit(_LISTED_RUNS)
        return (await session.scalars(newest)).all()

    async def search(
        self,
        session: AsyncSession,
        account: Account,
        criteria: SyncRunFilter,
        *,
        limit: int,
        offset: int = 0,
    ) -> Sequence[SyncRun]:
        """The sync runs matching `criteria`, newest first, `limit` of them after `offset`."""
        statement = where_equal(
            select(SyncRun).where(owned_by(account, SyncRun)),
            [
                (SyncRun.status, criteria.status),
                (SyncRun.activation_id, criteria.activation_id),
                (SyncRun.kind, criteria.kind),
            ],
        )
        if criteria.since is not None:
            statement = statement.where(SyncRun.created_at >= criteria.since)
        ordered = statement.order_by(SyncRun.created_at.desc(), SyncRun.id.desc())
        return (await session.scalars(ordered.limit(limit).offset(offset))).all()

    async def latest(
        self, session: AsyncSession, account: Account, kind: SyncKind
    ) -> dict[uuid.UUID, SyncRun]:
        """Each activation's most recent run of `kind`, by activation id."""
        statement = (
            select(SyncRun)
            .where(owned_by(account, SyncRun), SyncRun.kind == kind)
            .ext(distinct_on(SyncRun.activation_id))
            .order_by(SyncRun.activation_id, SyncRun.created_at.desc())
        )
        return {run.activation_id: run for run in await session.scalars(statement)}

    async def failures_since(
        self, session: AsyncSession, account: Account, since: datetime
    ) -> dict[uuid.UUID, int]:
        """How many runs created since `since` failed, per activation (none: left out)."""
        statement = (
            select(SyncRun.activation_id, func.count())
            .where(
                owned_by(account, SyncRun),
                SyncRun.status == SyncStatus.FAILED,
                SyncRun.created_at >= since,
            )
            .group_by(SyncRun.activation_id)
        )
        return dict((await session.execute(statement)).all())


_ENDPOINT_KEYS = {
    SyncKind.CONTACTS: "contact_synchronization_endpoint",
    SyncKind.AGENTS: "agent_synchronization_endpoint",
}


def endpoint(configuration: IntegrationConfiguration, kind: SyncKind) -> str | None:
    """The bridge endpoint that synchronizes `kind`; None when the integration offers none."""
    found: str | None = getattr(configuration, _ENDPOINT_KEYS[kind])
    return found


def offers(integration: Integration, kind: SyncKind) -> bool:
    """Whether the integration's bridge has an endpoint for `kind` syncs. Read from the stored
    document, so that pages listing integrations need not parse each configuration."""
    return bool(integration.configuration.get(_ENDPOINT_KEYS[kind]))


def _refuse_unsyncable(activation: Activation, kind: SyncKind) -> None:
    configuration = integration_service.parse(activation.integration)
    if endpoint(configuration, kind) is None:
        raise Conflict(f"{configuration.display_name} offers no {kind} synchronization.")
    if activation.status != ActivationStatus.ACTIVE:
        raise Conflict(f"The activation is {activation.status}; only an active one syncs.")


def _make_full(run: SyncRun, reason: FullReason) -> None:
    run.full_reason = reason
    run.checkpoint = None


async def _full_reason(
    session: AsyncSession, activation: Activation, requested: bool
) -> FullReason | None:
    """Why the next contact sync of `activation` must ask for every contact, if it must."""
    if requested:
        return FullReason.REQUESTED
    last = await _last_finished_contacts_run(session, activation)
    if activation.contacts_checkpoint is None:
        return FullReason.FIRST if last is None else FullReason.NO_CHECKPOINT
    # Its checkpoint moved past the contacts it rejected: a full run fetches them again
    # (protocol 6.4). A full run's own rejections do not call for another.
    if last is not None and last.full_reason is None and last.rejected:
        return FullReason.AFTER_REJECTIONS
    return None


async def _last_finished_contacts_run(
    session: AsyncSession, activation: Activation
) -> SyncRun | None:
    statement = (
        select(SyncRun)
        .where(
            SyncRun.account_id == activation.account_id,
            SyncRun.activation_id == activation.id,
            SyncRun.kind == SyncKind.CONTACTS,
            SyncRun.status == SyncStatus.SUCCEEDED,
        )
        .order_by(SyncRun.finished_at.desc())
        .limit(1)
    )
    return await session.scalar(statement)


async def _unfinished(
    session: AsyncSession, activation: Activation, kind: SyncKind
) -> SyncRun | None:
    statement = select(SyncRun).where(
        SyncRun.account_id == activation.account_id,
        SyncRun.activation_id == activation.id,
        SyncRun.kind == kind,
        SyncRun.status.in_([SyncStatus.QUEUED, SyncStatus.RUNNING]),
    )
    return await session.scalar(statement)


async def _ran_since(
    session: AsyncSession, activation: Activation, kind: SyncKind, moment: datetime
) -> bool:
    recent = exists().where(
        SyncRun.account_id == activation.account_id,
        SyncRun.activation_id == activation.id,
        SyncRun.kind == kind,
        SyncRun.created_at > moment,
    )
    return bool(await session.scalar(select(recent)))


sync_service = SyncService()
