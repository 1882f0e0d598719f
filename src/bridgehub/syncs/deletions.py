"""Contacts that leave the hub because they left the bridge: named deleted in a page
(protocol 6.1), or left out of a full run, which the run reconciles when it succeeds.

A full run that would remove more than `BRIDGEHUB_SYNC_MAX_DELETE_FRACTION` of an
activation's contacts removes none: a bridge having a bad day (a wrong filter, an account
half migrated) must not empty a store. The run holds them for a person to confirm.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.bridge import ContactPage
from bridgehub.contacts.models import Contact
from bridgehub.events.models import EventType
from bridgehub.events.outbox import emit_each
from bridgehub.syncs.models import SyncRun, SyncRunDelivery


async def remove_named(session: AsyncSession, run: SyncRun, page: ContactPage) -> int:
    """Remove the activation's contacts the page names deleted (those it also delivers
    stay); answers how many were removed."""
    delivered = {contact.id for contact in page.contacts}
    named = [external_id for external_id in page.deleted if external_id not in delivered]
    if not named:
        return 0
    return await _remove(session, run, Contact.external_id.in_(named))


async def record_delivered(
    session: AsyncSession, run: SyncRun, page_number: int, page: ContactPage
) -> None:
    """Keep, with the page, the ids it delivered: those rejected too, as the bridge still
    has them."""
    ids = [contact.id for contact in page.contacts]
    ids += [rejection.id for rejection in page.rejected if rejection.id is not None]
    session.add(
        SyncRunDelivery(
            run_id=run.id, account_id=run.account_id, page=page_number, external_ids=ids
        )
    )


async def reconcile(session: AsyncSession, run: SyncRun, max_fraction: float) -> None:
    """At the end of a successful full run: remove the contacts it did not deliver, unless
    they are more than `max_fraction` of the activation's; then they are held."""
    undelivered = await _count(session, _of_activation(run), _undelivered(run))
    if not undelivered:
        await forget_deliveries(session, run)
        return
    stored = await _count(session, _of_activation(run))
    if undelivered > max_fraction * stored:
        run.deletions_held = undelivered
        return
    run.deleted += await _remove(session, run, _undelivered(run))
    await forget_deliveries(session, run)


async def apply_held(session: AsyncSession, run: SyncRun, ended_at: datetime) -> int:
    """Remove what `run` held, as a person confirmed: the contacts it did not deliver and
    that were stored by its end (one a later run brought is not the run's to remove)."""
    removed = await _remove(session, run, _undelivered(run), Contact.created_at <= ended_at)
    run.deleted += removed
    run.deletions_held = 0
    await forget_deliveries(session, run)
    return removed


async def forget_deliveries(session: AsyncSession, run: SyncRun) -> None:
    await session.execute(
        delete(SyncRunDelivery).where(
            SyncRunDelivery.run_id == run.id, SyncRunDelivery.account_id == run.account_id
        )
    )


def _of_activation(run: SyncRun) -> ColumnElement[bool]:
    return (Contact.account_id == run.account_id) & (Contact.activation_id == run.activation_id)


def _undelivered(run: SyncRun) -> ColumnElement[bool]:
    delivered = select(func.jsonb_array_elements_text(SyncRunDelivery.external_ids)).where(
        SyncRunDelivery.run_id == run.id, SyncRunDelivery.account_id == run.account_id
    )
    return Contact.external_id.not_in(delivered)


async def _count(session: AsyncSession, *conditions: ColumnElement[bool]) -> int:
    found = await session.scalar(select(func.count()).select_from(Contact).where(*conditions))
    return int(found or 0)


async def _remove(session: AsyncSession, run: SyncRun, *conditions: ColumnElement[bool]) -> int:
    """Remove the run's activation's contacts that meet `conditions`, each told as a
    `contact.deleted` event; answers how many were removed."""
    removed = (
        await session.execute(
            delete(Contact)
            .where(_of_activation(run), *conditions)
            .returning(Contact.id, Contact.external_id)
        )
    ).all()
    told = [
        {
            "contact_id": str(contact_id),
            "activation_id": str(run.activation_id),
            "external_id": external_id,
        }
        for contact_id, external_id in removed
    ]
    await emit_each(session, run.account_id, EventType.CONTACT_DELETED, told)
    return len(removed)
