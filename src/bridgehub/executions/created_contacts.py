"""The contact an action's answer names (protocol 5 and 6.2): stored among its activation's
contacts at once when the answer carries it, or fetched by a contact sync asked for at once
when the answer only names it; either way, the next caller-ID lookup finds it.

Done in the transaction that records the execution's success. The action was done, so no
outcome here fails the execution: it is noted in the execution's response instead."""

from __future__ import annotations

from functools import partial

import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.activations.models import Activation
from bridgehub.bridge import ActionOutcome, Rejection
from bridgehub.bridge import Contact as ReceivedContact
from bridgehub.contacts.store import owner_of
from bridgehub.db.outage import unreachable
from bridgehub.runtime import Runtime
from bridgehub.syncs.models import SyncKind
from bridgehub.syncs.service import offers, sync_service
from bridgehub.syncs.single import held_contact, store_contact

log = structlog.get_logger(__name__)

Notes = dict[str, str]
"""What the hub did about the contact, by key of the execution's response: `contact_id`
(the contact stored or already held), `contact_rejected` (why the answer's contact was not
stored), `contact_sync_run_id` (the sync that fetches it)."""

_NOT_STORED = "the hub could not store it (its log says why)"


async def take_contact(
    session: AsyncSession, runtime: Runtime, activation: Activation, outcome: ActionOutcome
) -> Notes:
    """Store or fetch the contact `outcome` names, if any, in a savepoint: a fault of the
    hub's own undoes only this, and the execution's success is still recorded."""
    if outcome.contact_rejected is not None:
        return {"contact_rejected": outcome.contact_rejected}
    contact, external_id = outcome.contact, outcome.contact_external_id
    if contact is not None:
        taken = partial(_store, session, runtime, activation, contact)
    elif external_id is not None:
        taken = partial(_held_or_fetched, session, activation, external_id)
    else:
        return {}
    try:
        async with session.begin_nested():
            return await taken()
    except Exception as error:
        if unreachable(error):
            raise
        log.exception("taking the contact an action named failed", activation=str(activation.id))
        return {"contact_rejected": _NOT_STORED}


async def _store(
    session: AsyncSession, runtime: Runtime, activation: Activation, contact: ReceivedContact
) -> Notes:
    owner = await owner_of(session, activation.account_id, activation.id)
    stored = await store_contact(session, runtime.vault, owner, contact)
    if isinstance(stored, Rejection):
        return {"contact_rejected": stored.reason}
    return {"contact_id": str(stored)}


async def _held_or_fetched(
    session: AsyncSession, activation: Activation, external_id: str
) -> Notes:
    owner = await owner_of(session, activation.account_id, activation.id)
    held = await held_contact(session, owner, external_id)
    if held is not None:
        return {"contact_id": str(held)}
    if not offers(activation.integration, SyncKind.CONTACTS):
        return {}
    # An incremental sync brings the contact: the one queued or running already does.
    run = await sync_service.request(session, activation, SyncKind.CONTACTS, trigger="action")
    return {"contact_sync_run_id": str(run.id)}
