"""Keeping erased people out: a contact with any phone or e-mail address an erasure of the
account names is not stored again, by a sync or by an action."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.bridge import ContactPage, Rejection
from bridgehub.contacts.store import PreparedContacts
from bridgehub.erasures.digests import every_digest
from bridgehub.erasures.models import Erasure, IdentifierKind
from bridgehub.vault import Vault

ERASED_REASON = "erased on request"

Identifier = tuple[IdentifierKind, str]


async def is_erased(
    session: AsyncSession, vault: Vault, account_id: uuid.UUID, identifiers: Iterable[Identifier]
) -> bool:
    """Whether any of these normalized identifiers is under an erasure of the account."""
    return bool(await _erased(session, vault, account_id, identifiers))


async def keep_out_erased(
    session: AsyncSession,
    vault: Vault,
    account_id: uuid.UUID,
    page: ContactPage,
    prepared: PreparedContacts,
) -> tuple[ContactPage, PreparedContacts]:
    """The page's contacts to write without those an erasure names; each left out is
    counted with the page's rejections, for the run's record."""
    erased = await _erased(
        session, vault, account_id, (i for row in prepared.rows for i in _identifiers(row))
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
