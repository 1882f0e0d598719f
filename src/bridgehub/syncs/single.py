"""A contact that arrives outside a sync run (an action's answer carried it, protocol 6.2),
stored the way a sync stores a page: the same normalization and phone keys, updated in
place when held already, kept out when an erasure names it."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.bridge import Contact as ReceivedContact
from bridgehub.bridge import ContactPage, Rejection
from bridgehub.contacts.models import Contact
from bridgehub.contacts.store import Owner, prepare_contacts, write_contacts
from bridgehub.erasures.suppression import keep_out_erased
from bridgehub.vault import Vault


async def store_contact(
    session: AsyncSession, vault: Vault, owner: Owner, contact: ReceivedContact
) -> uuid.UUID | Rejection:
    """Store or update `contact` among the owner's contacts, in the session's transaction;
    answers its id, or why it was kept out."""
    page = ContactPage((contact,), (), next_offset=None, synchronization_checkpoint=None)
    prepared = await prepare_contacts(session, owner, page.contacts)
    page, prepared = await keep_out_erased(session, vault, owner, page, prepared)
    if page.rejected:
        return page.rejected[0]
    await write_contacts(session, owner, prepared)
    stored = await held_contact(session, owner, contact.id)
    assert stored is not None  # written just now, in this transaction
    return stored


async def held_contact(session: AsyncSession, owner: Owner, external_id: str) -> uuid.UUID | None:
    """The id of the owner's contact the bridge knows as `external_id`, if the hub holds it."""
    found: uuid.UUID | None = await session.scalar(
        select(Contact.id).where(
            Contact.account_id == owner.account_id,
            Contact.activation_id == owner.activation_id,
            Contact.external_id == external_id,
        )
    )
    return found
