"""Keeping erased people out: a contact with any phone or e-mail address an erasure of the
account names is not stored again by a sync."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.bridge import ContactPage, Rejection
from bridgehub.contacts.store import Owner, PreparedContacts
from bridgehub.erasures.digests import every_digest
from bridgehub.erasures.models import Erasure, IdentifierKind
from bridgehub.vault import Vault

ERASED_REASON = "erased on request"
_LOCK_SPACE = 0x45524153  # "ERAS"

Identifier = tuple[IdentifierKind, str]


async def keep_out_erased(
    session: AsyncSession,
    vault: Vault,
    owner: Owner,
    page: ContactPage,
    prepared: PreparedContacts,
) -> tuple[ContactPage, PreparedContacts]:
    """The page's contacts to write without those an erasure names; each left out is
    counted with the page's rejections, for the run's record. Call it in the transaction
    that writes the page, just before writing it (see `hold_off_erasures`)."""
    await hold_off_erasures(session, owner.account_id)
    erased = await _erased(
        session, vault, owner.account_id, (i for row in prepared.rows for i in _identifiers(row))
    )
    if not erased:
        return page, prepared
    kept = [row for row in prepared.rows if erased.isdisjoint(_identifiers(row))]
    left_out = {row["external_id"] for row in prepared.rows} - {row["external_id"] for row in kept}
    rejected = [
        Rejection(index=index, id=contact.id, reason=ERASED_REASON)
        for index, contact in enumerate(page.contacts)
        if contact.id in left_out
    ]
    return (
        dataclasses.replace(page, rejected=(*page.rejected, *rejected)),
        dataclasses.replace(prepared, rows=kept),
    )


async def hold_off_erasures(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Until the transaction ends, keep a new erasure of the account from deleting contacts.

    Without it a page checked before an erasure commits, and written after the erasure's
    delete ran, would store the erased person again. Pages share the lock; an erasure takes
    it alone (`erasing`), so it waits for the pages being written and they wait for it, and
    each page's check then sees it."""
    await session.execute(select(func.pg_advisory_xact_lock_shared(*_lock_key(account_id))))


async def erasing(session: AsyncSession, account_id: uuid.UUID) -> None:
    """Hold off the account's page writes until the transaction (an erasure) ends."""
    await session.execute(select(func.pg_advisory_xact_lock(*_lock_key(account_id))))


def _lock_key(account_id: uuid.UUID) -> tuple[int, int]:
    # The two-number form of advisory locks, a key space apart from the one-number keys
    # sync runs are claimed with; accounts sharing the second number only wait more.
    return _LOCK_SPACE, int.from_bytes(account_id.bytes[:4], "big", signed=True)


async def _erased(
    session: AsyncSession, vault: Vault, account_id: uuid.UUID, identifiers: Iterable[Identifier]
) -> set[Identifier]:
    # The account's erasures are read first: most accounts have none, and then a sync
    # spends no work on digests.
    found = await session.execute(
        select(Erasure.key_id, Erasure.digest).where(Erasure.account_id == account_id)
    )
    stored = {(row.key_id, row.digest) for row in found}
    if not stored:
        return set()
    return {
        identifier
        for key_and_digest, identifier in every_digest(vault, identifiers).items()
        if key_and_digest in stored
    }


def _identifiers(row: dict[str, Any]) -> set[Identifier]:
    """A prepared contact row's normalized phones (E.164) and e-mail addresses."""
    return {(IdentifierKind.PHONE, phone) for phone in row["phone_e164"]} | {
        (IdentifierKind.EMAIL, email) for email in row["emails"]
    }
