"""Writing pages of contacts: one upsert per page, and neither work nor a write for a
contact that did not change."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic_core import to_json
from sqlalchemy import (
    Text,
    Uuid,
    bindparam,
    cast,
    func,
    literal_column,
    true,
)
from sqlalchemy import select as select_
from sqlalchemy.dialects.postgresql import JSONB, Insert, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import Select

from bridgehub.accounts.service import default_region
from bridgehub.bridge import Contact as ReceivedContact
from bridgehub.contacts.models import Contact
from bridgehub.contacts.phones import normalize, normalize_email
from bridgehub.db.upserts import Written, counted, write_counted


@dataclass(frozen=True)
class Owner:
    """Whose contacts these are, and how to read their phone numbers."""

    account_id: uuid.UUID
    activation_id: uuid.UUID
    default_region: str


async def owner_of(session: AsyncSession, account_id: uuid.UUID, activation_id: uuid.UUID) -> Owner:
    """The owner of an activation's contacts, whose numbers are read in the account's region."""
    return Owner(account_id, activation_id, await default_region(session, account_id))


@dataclass(frozen=True)
class PreparedContacts:
    """A page of contacts made ready to write: the rows of those that changed."""

    rows: list[dict[str, Any]]
    unchanged: int


async def prepare_contacts(
    session: AsyncSession, owner: Owner, contacts: Sequence[ReceivedContact]
) -> PreparedContacts:
    """The rows to write for a page: only of contacts whose content differs from what is
    stored. Needs no transaction of its own: `write_contacts` compares again."""
    # A bridge may send one contact twice in a page; the last one stands.
    received = {contact.id: contact for contact in contacts}
    if not received:
        return PreparedContacts(rows=[], unchanged=0)
    hashes = {external_id: _content_hash(contact) for external_id, contact in received.items()}
    # Contacts stored with the same content are left alone before any work is spent on
    # them (reading phone numbers is most of a sync's cost), so a full sync of a bridge
    # whose contacts did not change costs little more than fetching them.
    stored = await _stored_hashes(session, owner, list(hashes))
    rows = [
        _contact_row(owner, received[external_id], content_hash)
        for external_id, content_hash in hashes.items()
        if stored.get(external_id) != content_hash
    ]
    return PreparedContacts(rows=rows, unchanged=len(hashes) - len(rows))


async def write_contacts(
    session: AsyncSession, owner: Owner, prepared: PreparedContacts
) -> Written:
    """Write a prepared page in the session's transaction. The upsert compares hashes
    again, so a row changed since the page was prepared is never overwritten blindly."""
    if not prepared.rows:
        return Written(unchanged=prepared.unchanged)
    parameters = {
        "rows": to_json(prepared.rows).decode(),
        "account_id": owner.account_id,
        "activation_id": owner.activation_id,
    }
    total = prepared.unchanged + len(prepared.rows)
    return await write_counted(session, _UPSERT_CONTACTS, parameters, total)


async def _stored_hashes(
    session: AsyncSession, owner: Owner, external_ids: list[str]
) -> dict[str, str]:
    found = await session.execute(
        _STORED_HASHES,
        {
            "account_id": owner.account_id,
            "activation_id": owner.activation_id,
            "external_ids": to_json(external_ids).decode(),
        },
    )
    return {row.external_id: row.content_hash for row in found}


def _stored_hashes_statement() -> Select[str, str]:
    # The ids travel as one JSON array: one parameter, where `IN (...)` takes one per
    # contact, and cheaper to send than an array, which the driver builds item by item.
    external_ids = func.jsonb_array_elements_text(
        cast(bindparam("external_ids", type_=Text), JSONB)
    ).table_valued("value")
    # Each id sent looks its row up through the unique index on (activation_id, external_id):
    # a plan no statistics can turn. As `external_id IN (SELECT ...)`, a table whose
    # statistics predated a sync's first pages (autovacuum analyzes it a minute later at the
    # soonest) had each of its rows compared with the whole list, read anew every time:
    # 45 ms for the first page of a sync, over a second for the 25th.
    stored = (
        select_(Contact.external_id, Contact.content_hash)
        .where(
            Contact.account_id == bindparam("account_id", type_=Uuid),
            Contact.activation_id == bindparam("activation_id", type_=Uuid),
            Contact.external_id == external_ids.c.value,
        )
        .limit(1)  # there is one at most; and a subquery with a limit is not merged away
        .lateral("stored")
    )
    return select_(stored.c.external_id, stored.c.content_hash).select_from(
        external_ids.join(stored, true())
    )


_STORED_HASHES = _stored_hashes_statement()

_RECEIVED_COLUMNS = (
    "external_id",  # first: the one column an update keeps
    "name",
    "company",
    "title",
    "emails",
    "phones",
    "phone_e164",
    "phone_keys",
    "photo_url",
    "address",
    "websites",
    "twitter",
    "content_hash",
)


def _upsert_contacts() -> Insert:
    """Insert a page of contacts, or update those whose content changed; returns, for each
    row written, whether it was inserted.

    The page travels as one JSON array, read back as rows of the table's own type by
    `jsonb_populate_recordset`: one parameter instead of one per value. (A page of 1,000
    contacts as `VALUES` has 18,000 placeholders, and building, rendering and parsing them
    cost several times more than everything else a sync does.) Ids and timestamps are
    drawn by PostgreSQL, and the owner is given once for the page."""
    received = (
        func.jsonb_populate_recordset(
            literal_column(f"NULL::{Contact.__tablename__}"),
            cast(bindparam("rows", type_=Text), JSONB),
        )
        .table_valued(*_RECEIVED_COLUMNS)
        .alias("received")
    )
    table = Contact.metadata.tables[Contact.__tablename__]
    rows = select_(
        func.gen_random_uuid(),
        bindparam("account_id", type_=Uuid),
        bindparam("activation_id", type_=Uuid),
        *(received.c[name] for name in _RECEIVED_COLUMNS),
        func.now(),
        func.now(),
    )
    columns = ["id", "account_id", "activation_id", *_RECEIVED_COLUMNS, "created_at", "updated_at"]
    statement = insert(table).from_select([table.c[name] for name in columns], rows)
    return statement.on_conflict_do_update(
        index_elements=[table.c.activation_id, table.c.external_id],
        set_={
            **{name: statement.excluded[name] for name in _RECEIVED_COLUMNS[1:]},
            "updated_at": statement.excluded.updated_at,
        },
        where=table.c.content_hash != statement.excluded.content_hash,
    )


_UPSERT_CONTACTS = counted(_upsert_contacts())


def _contact_row(owner: Owner, contact: ReceivedContact, content_hash: str) -> dict[str, Any]:
    """A contact as a row of `_RECEIVED_COLUMNS`, in JSON (see `_upsert_contacts`)."""
    phones = [normalize(raw, owner.default_region) for raw in contact.phones]
    keys = [phone.match_key for phone in phones]
    return {
        "external_id": contact.id,
        "name": contact.name,
        "company": contact.company,
        "title": contact.title,
        "emails": [email for raw in contact.emails if (email := normalize_email(raw))],
        "phones": [
            {"raw": phone.raw, "e164": phone.e164, "national": phone.national_number}
            for phone in phones
        ],
        "phone_e164": sorted({phone.e164 for phone in phones if phone.e164}),
        "phone_keys": sorted({key for key in keys if key}),
        "photo_url": contact.photo_url,
        "address": contact.address,
        "websites": list(contact.websites),
        "twitter": contact.twitter,
        "content_hash": content_hash,
    }


def _content_hash(contact: ReceivedContact) -> str:
    return hashlib.blake2b(contact.model_dump_json().encode(), digest_size=16).hexdigest()
