"""Reading the contact store: listing, searching, and caller-ID lookup. Every query is
scoped by the calling account."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    ColumnElement,
    Select,
    false,
    func,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.accounts.service import region_of
from bridgehub.accounts.tenancy import owned_by
from bridgehub.activations.models import Activation
from bridgehub.contacts.models import Contact
from bridgehub.contacts.phones import LookupKeys, Match, lookup_keys, match_rank, normalize_email
from bridgehub.integrations.models import Integration
from bridgehub.kit.errors import InvalidInput, NotFound, Problem

LOOKUP_LIMIT = 25
# Candidates share the last digits of the number; ranking drops other lines with the same
# ending, so it looks at more of them than it answers.
LOOKUP_CANDIDATES = 200

ContactRow = tuple[Contact, str]
"""A contact with the name of the integration it came from."""


@dataclass(frozen=True)
class CallerMatch:
    """A contact a caller-ID lookup found, and how surely it is the caller."""

    contact: Contact
    integration: str
    match: Match


@dataclass(frozen=True)
class CallerId:
    """A caller-ID lookup's answer: the number as read in the account's region, and the
    contacts with that line, surest first."""

    number: LookupKeys
    callers: list[CallerMatch]


class ContactService:
    async def list(
        self,
        session: AsyncSession,
        account: Account,
        *,
        query: str | None = None,
        email: str | None = None,
        phone: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[Sequence[ContactRow], str | None]:
        statement = (
            _contacts(account)
            .order_by(Contact.updated_at.desc(), Contact.id.desc())
            .limit(limit + 1)
        )
        if query:
            statement = statement.where(_words_match(query))
        if email:
            statement = statement.where(
                Contact.emails.contains([normalize_email(email) or email.lower()])
            )
        if phone:
            statement = statement.where(
                _same_line(lookup_keys(phone, await region_of(session, account)))
            )
        if cursor:
            updated_at, contact_id = _read_cursor(cursor)
            statement = statement.where(
                tuple_(Contact.updated_at, Contact.id) < (updated_at, contact_id)
            )
        rows = [(contact, name) for contact, name in await session.execute(statement)]
        if len(rows) <= limit:
            return rows, None
        last = rows[limit - 1][0]
        return rows[:limit], _write_cursor(last.updated_at, last.id)

    async def get(
        self, session: AsyncSession, account: Account, contact_id: uuid.UUID
    ) -> ContactRow:
        row = (await session.execute(_contacts(account).where(Contact.id == contact_id))).first()
        if row is None:
            raise NotFound(f"No contact {contact_id}.")
        contact, integration = row
        return contact, integration

    async def lookup(
        self, session: AsyncSession, account: Account, phone: str
    ) -> Sequence[ContactRow]:
        """Who is calling from `phone`: every contact with that line, surest match first (the
        same E.164, then the same national number, then one ending the other), most recently
        updated first among equals."""
        found = await self.identify(session, account, phone)
        return [(caller.contact, caller.integration) for caller in found.callers]

    async def identify(self, session: AsyncSession, account: Account, phone: str) -> CallerId:
        """`lookup`, saying how each contact matched and how the number was read."""
        keys = lookup_keys(phone, await region_of(session, account))
        if keys.e164 is None and keys.match_key is None:
            return CallerId(keys, [])
        statement = _contacts(account).where(_same_line(keys)).limit(LOOKUP_CANDIDATES)
        ranked = [
            CallerMatch(contact, name, match)
            for contact, name in await session.execute(statement)
            if (match := _best_match(contact, keys)) is not Match.NONE
        ]
        ranked.sort(key=lambda caller: (caller.match, caller.contact.updated_at), reverse=True)
        return CallerId(keys, ranked[:LOOKUP_LIMIT])

    async def counts(self, session: AsyncSession, account: Account) -> dict[uuid.UUID, int]:
        """How many contacts each activation has synced (none: left out)."""
        statement = (
            select(Contact.activation_id, func.count())
            .where(owned_by(account, Contact))
            .group_by(Contact.activation_id)
        )
        return dict((await session.execute(statement)).all())


def _contacts(account: Account) -> Select[Contact, str]:
    return (
        select(Contact, Integration.name)
        # Joined on the account too: on a database distributed by account, the join stays
        # on the node of the account's rows.
        .join(
            Activation,
            (Activation.id == Contact.activation_id)
            & (Activation.account_id == Contact.account_id),
        )
        .join(Integration, Integration.id == Activation.integration_id)
        .where(owned_by(account, Contact))
    )


def _best_match(contact: Contact, incoming: LookupKeys) -> Match:
    stored = (LookupKeys(e164=p["e164"], national_number=p.get("national")) for p in contact.phones)
    return max((match_rank(phone, incoming) for phone in stored), default=Match.NONE)


def _same_line(keys: LookupKeys) -> ColumnElement[bool]:
    """Contacts with a phone that is this number: exactly, or written another way."""
    conditions = []
    if keys.e164:
        conditions.append(Contact.phone_e164.contains([keys.e164]))
    if keys.match_key:
        conditions.append(Contact.phone_keys.contains([keys.match_key]))
    return or_(*conditions) if conditions else false()


def _words_match(query: str) -> ColumnElement[bool]:
    # Every word typed must begin a word of the name or company: "jan do" finds "Jane Doe",
    # and accents count on neither side: "jorg" finds "Jörg", "zoë" finds "Zoe".
    words = [word for word in "".join(c if c.isalnum() else " " for c in query).split() if word]
    if not words:
        return true()
    terms = " & ".join(f"{word}:*" for word in words)
    document = func.to_tsvector(
        "simple", func.fold_accents(Contact.name + " " + func.coalesce(Contact.company, ""))
    )
    wanted = func.to_tsquery("simple", func.fold_accents(terms))
    matched: ColumnElement[bool] = document.bool_op("@@")(wanted)
    return matched


def _write_cursor(updated_at: datetime, contact_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{updated_at.isoformat()}|{contact_id}".encode()).decode()


def _read_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        moment, _, identifier = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(moment), uuid.UUID(identifier)
    except (ValueError, binascii.Error, UnicodeDecodeError) as error:
        raise InvalidInput(
            "The cursor is invalid.", [Problem("cursor", "is not a cursor from a previous answer")]
        ) from error


contact_service = ContactService()
