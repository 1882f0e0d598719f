"""Carrying out a sync run: page after page from the bridge, each written in one
transaction together with how far the run got.

A run that dies is resumed from its last written page; its checkpoint is adopted only with
its last page, so a run that fails is repeated from the old checkpoint, never skipped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub import metrics
from bridgehub.accounts.tenancy import of_account
from bridgehub.activations import tokens
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.agents.store import replace_agents
from bridgehub.bridge import (
    BridgeError,
    CheckpointRefused,
    ContactPage,
    CredentialsRejected,
    Rejection,
)
from bridgehub.contacts.store import (
    Owner,
    PreparedContacts,
    owner_of,
    prepare_contacts,
    write_contacts,
)
from bridgehub.db.upserts import Written
from bridgehub.erasures.suppression import keep_out_erased
from bridgehub.events.models import EventType
from bridgehub.events.outbox import emit
from bridgehub.integrations.service import integration_service
from bridgehub.runtime import Runtime
from bridgehub.syncs import deletions
from bridgehub.syncs.models import FullReason, SyncKind, SyncRun, SyncStatus
from bridgehub.syncs.service import endpoint

log = structlog.get_logger(__name__)

_KEPT_REJECTIONS = 100


class SyncFailed(Exception):
    """The run cannot go on; the message is recorded on the run for a person."""


class RunBusy(Exception):
    """Another process is carrying out this run right now; its job tries again later."""


async def perform(runtime: Runtime, run_id: uuid.UUID, account_id: uuid.UUID | None = None) -> None:
    """Carry out (or resume) a run to its end; a run already finished is left alone."""
    async with runtime.sessionmaker() as claim, claim.begin():
        # Held for the whole run, released if this process dies: a run is carried out by
        # one process at a time, and taken over where it stopped when that process is gone.
        claimed = await claim.scalar(select(func.pg_try_advisory_xact_lock(_claim_key(run_id))))
        if not claimed:
            raise RunBusy(f"sync run {run_id} is being carried out elsewhere")
        await _carry_out(runtime, run_id, account_id)


def _claim_key(run_id: uuid.UUID) -> int:
    return int.from_bytes(run_id.bytes[8:], "big", signed=True)


async def _carry_out(runtime: Runtime, run_id: uuid.UUID, account_id: uuid.UUID | None) -> None:
    async with runtime.sessionmaker() as session:
        run = await session.scalar(
            select(SyncRun).where(SyncRun.id == run_id, of_account(SyncRun, account_id))
        )
        if run is None or run.status in (SyncStatus.SUCCEEDED, SyncStatus.FAILED):
            return
        activation = (
            await session.scalars(
                select(Activation).where(
                    Activation.id == run.activation_id, Activation.account_id == run.account_id
                )
            )
        ).one()
        owner = await owner_of(session, run.account_id, activation.id)
        run.status = SyncStatus.RUNNING
        run.started_at = run.started_at or datetime.now(UTC)
        await session.commit()
        try:
            if activation.status != ActivationStatus.ACTIVE:
                raise SyncFailed(f"The activation is {activation.status}.")
            if run.kind == SyncKind.CONTACTS:
                await _sync_contacts(session, runtime, run, activation, owner)
            else:
                await _sync_agents(session, runtime, run, activation, owner)
        except CredentialsRejected as refusal:
            await tokens.mark_rejected(runtime, activation.id, refusal)
            await _fail(
                session,
                run,
                refusal.told_to_reauthorize("The bridge refused the credentials") + ".",
            )
        except (SyncFailed, BridgeError) as failure:
            await _fail(session, run, str(failure))
        _count_finished(run, activation.integration.name)


async def _sync_contacts(
    session: AsyncSession, runtime: Runtime, run: SyncRun, activation: Activation, owner: Owner
) -> None:
    while True:
        try:
            await _read_and_write_pages(session, runtime, run, activation, owner)
            return
        except CheckpointRefused:
            # The bridge cannot use the checkpoint any more: the run starts again in full,
            # which also tells which contacts are gone (protocol 6.3).
            run.checkpoint = None
            run.full_reason = FullReason.CHECKPOINT_REFUSED
            run.next_offset = None
            run.offsets_seen = []
            await session.commit()


async def _read_and_write_pages(
    session: AsyncSession, runtime: Runtime, run: SyncRun, activation: Activation, owner: Owner
) -> None:
    url, credentials = await _endpoint_and_credentials(runtime, activation, SyncKind.CONTACTS)
    max_pages = runtime.settings.sync_max_pages

    async def read(offset: str | None) -> tuple[ContactPage, PreparedContacts]:
        page = await runtime.bridge.fetch_contacts(
            url,
            credentials,
            checkpoint=run.checkpoint,
            offset=offset,
            integration=activation.integration.name,
        )
        async with runtime.sessionmaker() as lookup:
            return page, await prepare_contacts(lookup, owner, page.contacts)

    upcoming = asyncio.create_task(read(run.next_offset))
    try:
        while True:
            page, prepared = await upcoming
            _refuse_bad_paging(run, page, max_pages)
            if page.next_offset is not None:
                # The next page is fetched and made ready (its phone numbers read) while
                # this one is written: the hub's work overlaps PostgreSQL's and the bridge's.
                upcoming = asyncio.create_task(read(page.next_offset))
            page, prepared = await keep_out_erased(session, runtime.vault, owner, page, prepared)
            removed = await deletions.remove_named(session, run, page)
            written = await write_contacts(session, owner, prepared)
            _record_page(run, written, page.rejected)
            run.deleted += removed
            if run.full_reason is not None:
                await deletions.record_delivered(session, run, run.pages, page)
            run.next_offset = page.next_offset
            if page.next_offset is not None:
                run.offsets_seen = [*run.offsets_seen, page.next_offset]
                await session.commit()
                continue
            await _finish_contacts(session, runtime, run, activation, page)
            return
    finally:
        await _abandon(upcoming)


async def _finish_contacts(
    session: AsyncSession, runtime: Runtime, run: SyncRun, activation: Activation, last: ContactPage
) -> None:
    """The last page is written: the run's checkpoint becomes the activation's, and a full
    run removes what it did not deliver, all in the page's transaction."""
    # No checkpoint in the last page of an incremental run means nothing changed since the
    # one it was sent (protocol section 2): that one is still good.
    activation.contacts_checkpoint = (
        last.synchronization_checkpoint
        if last.synchronization_checkpoint is not None
        else run.checkpoint
    )
    if run.full_reason is not None:
        await deletions.reconcile(session, run, runtime.settings.sync_max_delete_fraction)
    await _succeed(session, run)
    await session.commit()
    log.info(
        "contacts synchronized",
        run_id=str(run.id),
        pages=run.pages,
        created=run.created,
        updated=run.updated,
        deleted=run.deleted,
        deletions_held=run.deletions_held,
    )


async def _abandon(task: asyncio.Task[Any]) -> None:
    """Stop asking for a page the run will not write; whatever became of it is moot."""
    task.cancel()
    await asyncio.wait([task])
    if not task.cancelled():
        task.exception()  # retrieved, or asyncio would report it as never retrieved


def _refuse_bad_paging(run: SyncRun, page: ContactPage, max_pages: int) -> None:
    if page.next_offset is not None and page.next_offset in run.offsets_seen:
        raise SyncFailed(
            f'The bridge sent offset "{page.next_offset}" a second time in this run; '
            "it would loop forever, so the run stops here."
        )
    if run.pages + 1 >= max_pages and page.next_offset is not None:
        raise SyncFailed(
            f"The run reached the limit of {max_pages} pages (BRIDGEHUB_SYNC_MAX_PAGES)."
        )


async def _sync_agents(
    session: AsyncSession, runtime: Runtime, run: SyncRun, activation: Activation, owner: Owner
) -> None:
    url, credentials = await _endpoint_and_credentials(runtime, activation, SyncKind.AGENTS)
    answer = await runtime.bridge.fetch_agents(
        url, credentials, integration=activation.integration.name
    )
    written = await replace_agents(session, owner, answer.agents)
    _record_page(run, written, answer.rejected)
    await _succeed(session, run)
    await session.commit()


async def _endpoint_and_credentials(
    runtime: Runtime, activation: Activation, kind: SyncKind
) -> tuple[str, tokens.ActivationCredentials]:
    url = endpoint(integration_service.parse(activation.integration), kind)
    if url is None:  # the integration was changed since the run was asked for
        raise SyncFailed(f"The integration no longer offers {kind} synchronization.")
    return url, await tokens.credentials_for(runtime, activation)


def _record_page(run: SyncRun, written: Written, rejected: Sequence[Rejection]) -> None:
    run.pages += 1
    run.created += written.created
    run.updated += written.updated
    run.unchanged += written.unchanged
    run.rejected += len(rejected)
    room = _KEPT_REJECTIONS - len(run.rejections)
    if room > 0 and rejected:
        kept = [{"page": run.pages, "id": r.id, "reason": r.reason} for r in rejected[:room]]
        run.rejections = [*run.rejections, *kept]


def _count_finished(run: SyncRun, integration: str) -> None:
    """Count the run once it ended, with the totals of all its pages: counted by the process
    that finishes it, a resumed run's pages are counted once."""
    metrics.sync_runs.labels(integration, run.kind, run.status).inc()
    for result, count in (
        ("created", run.created),
        ("updated", run.updated),
        ("unchanged", run.unchanged),
        ("rejected", run.rejected),
        ("deleted", run.deleted),
    ):
        metrics.sync_records.labels(integration, run.kind, result).inc(count)
    if run.started_at is not None and run.finished_at is not None:
        metrics.sync_run_duration.labels(integration, run.kind).observe(
            (run.finished_at - run.started_at).total_seconds()
        )


async def _succeed(session: AsyncSession, run: SyncRun) -> None:
    run.status = SyncStatus.SUCCEEDED
    run.finished_at = datetime.now(UTC)
    totals = {
        "created": run.created,
        "updated": run.updated,
        "deleted": run.deleted,
        "rejected": run.rejected,
    }
    await emit(session, run.account_id, EventType.SYNC_SUCCEEDED, _event_data(run) | totals)


def _event_data(run: SyncRun) -> dict[str, Any]:
    return {"sync_run_id": str(run.id), "activation_id": str(run.activation_id), "kind": run.kind}


async def _fail(session: AsyncSession, run: SyncRun, reason: str) -> None:
    # Whatever the failed page wrote is rolled back; the pages before it stay written.
    await session.rollback()
    await session.refresh(run)
    # A failed full run removes nothing: what it delivered is no list of what is left.
    await deletions.forget_deliveries(session, run)
    run.status = SyncStatus.FAILED
    run.error = reason
    run.finished_at = datetime.now(UTC)
    await emit(session, run.account_id, EventType.SYNC_FAILED, _event_data(run) | {"error": reason})
    await session.commit()
    log.warning("synchronization failed", run_id=str(run.id), kind=run.kind, reason=reason)
