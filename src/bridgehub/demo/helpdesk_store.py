"""The demo helpdesk's own data: its accounts, contacts, agents and interactions.

Helpdesk accounts (the credentials its API accepts), contacts, agents and interactions
(tickets, and the CRM's deals and calls) live in SQLite. The bridge in `helpdesk.py` serves
them over the bridge protocol while tests and the demo change them from other threads, so
every method may be called from any thread. `helpdesk_seed.py` fills an empty store.
"""

from __future__ import annotations

import hmac
import json
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal, NamedTuple, get_args

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat
from pydantic import TypeAdapter

from bridgehub.bridge.protocol import Priority, Status

InteractionType = Literal["ticket", "deal", "call"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
STATUSES: tuple[Status, ...] = get_args(Status)


class UnknownContact(LookupError):
    """No contact has this id (any more): raised by every method given a contact id."""


class UnknownInteraction(LookupError):
    """No interaction of the type asked for has this id."""


class ChangesForgotten(LookupError):
    """The changes asked for start before the oldest the helpdesk still remembers (see
    `forget_changes_before`)."""


@dataclass(frozen=True)
class HelpdeskAccount:
    """An account of the helpdesk, as its API recognizes it."""

    id: int
    url: str
    """Where the account lives: `https://acme.helpdesk.example`."""
    email: str
    api_token: str = field(repr=False)


@dataclass(frozen=True)
class ContactDetails:
    name: str
    company: str | None = None
    title: str | None = None
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    photo_url: str | None = None
    address: str | None = None
    websites: tuple[str, ...] = ()
    twitter: str | None = None
    country: str = "US"
    """Where the contact lives (ISO 3166 code). Phone numbers are written as dialled from
    there, so it is what reads "020 7946 0018" as a London number."""


class ChangeCursor(NamedTuple):
    """A position among the contacts sorted by their last change."""

    changed_at: datetime
    contact_id: int


@dataclass(frozen=True)
class ContactRecord:
    id: int
    changed_at: datetime
    details: ContactDetails

    @property
    def cursor(self) -> ChangeCursor:
        return ChangeCursor(self.changed_at, self.id)


@dataclass(frozen=True)
class DeletionRecord:
    """A contact deleted, and when: a change like any other, in the same order."""

    contact_id: int
    deleted_at: datetime

    @property
    def cursor(self) -> ChangeCursor:
        return ChangeCursor(self.deleted_at, self.contact_id)


Change = ContactRecord | DeletionRecord


@dataclass(frozen=True)
class AgentRecord:
    id: int
    name: str
    email: str


@dataclass(frozen=True)
class InteractionDetails:
    type: InteractionType
    subject: str
    description: str | None = None
    priority: Priority = "normal"
    status: Status = "new"


@dataclass(frozen=True)
class InteractionRecord:
    id: int
    contact_id: int | None
    date: datetime
    details: InteractionDetails


_SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    email TEXT NOT NULL,
    api_token TEXT NOT NULL,
    UNIQUE (url, email)
);
CREATE TABLE IF NOT EXISTS contacts (
    id INTEGER PRIMARY KEY,
    details TEXT NOT NULL,
    changed_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS contacts_by_change ON contacts (changed_at, id);
CREATE TABLE IF NOT EXISTS deleted_contacts (
    contact_id INTEGER PRIMARY KEY,
    deleted_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deleted_contacts_by_change ON deleted_contacts (deleted_at, contact_id);
-- One row at most: changes before `before` are forgotten.
CREATE TABLE IF NOT EXISTS forgotten_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    before TEXT NOT NULL
);
-- What a contact can be recognized by: "email:jane@example.com", "phone:+14155550142".
CREATE TABLE IF NOT EXISTS contact_handles (
    handle TEXT NOT NULL,
    contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    PRIMARY KEY (handle, contact_id)
);
CREATE TABLE IF NOT EXISTS agents (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS interactions (
    id INTEGER PRIMARY KEY,
    contact_id INTEGER REFERENCES contacts (id) ON DELETE CASCADE,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    description TEXT,
    priority TEXT NOT NULL,
    status TEXT NOT NULL,
    date TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS interactions_by_contact ON interactions (contact_id, date);
"""

_DETAILS = TypeAdapter(ContactDetails)
_DAWN = datetime.min.replace(tzinfo=UTC)
_TICK = timedelta(microseconds=1)


class HelpdeskDatabase:
    """The helpdesk's database: a file, or `":memory:"` for one that lives with the object."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        # One connection for every thread, used by one at a time: a ":memory:" database
        # exists only within the connection that made it.
        self._connection = sqlite3.connect(path, check_same_thread=False)
        self._connection.row_factory = sqlite3.Row
        self._lock = threading.Lock()
        with self._transaction() as db:
            db.execute("PRAGMA foreign_keys = ON")
            db.executescript(_SCHEMA)
            newest = db.execute(
                "SELECT max(moment) FROM (SELECT max(changed_at) AS moment FROM contacts"
                " UNION ALL SELECT max(deleted_at) FROM deleted_contacts)"
            ).fetchone()[0]
        self._last_change = _DAWN if newest is None else _moment(newest)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def is_empty(self) -> bool:
        with self._transaction() as db:
            found = db.execute(
                "SELECT EXISTS (SELECT 1 FROM accounts) OR EXISTS (SELECT 1 FROM contacts)"
                " OR EXISTS (SELECT 1 FROM agents) OR EXISTS (SELECT 1 FROM interactions)"
            ).fetchone()[0]
        return not found

    # Accounts ---------------------------------------------------------------------------

    def add_account(self, url: str, email: str, api_token: str) -> HelpdeskAccount:
        url, email = _account_url(url), email.strip().lower()
        with self._transaction() as db:
            inserted = db.execute(
                "INSERT INTO accounts (url, email, api_token) VALUES (?, ?, ?)",
                (url, email, api_token),
            )
        return HelpdeskAccount(_row_id(inserted), url, email, api_token)

    def accounts(self) -> list[HelpdeskAccount]:
        with self._transaction() as db:
            rows = db.execute("SELECT * FROM accounts ORDER BY id").fetchall()
        return [_account(row) for row in rows]

    def find_account(self, url: str, email: str, api_token: str) -> HelpdeskAccount | None:
        """The account these credentials open, if any."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM accounts WHERE url = ? AND email = ?",
                (_account_url(url), email.strip().lower()),
            ).fetchone()
        if row is None or not hmac.compare_digest(row["api_token"], api_token):
            return None
        return _account(row)

    # Contacts ---------------------------------------------------------------------------

    def add_contact(
        self, details: ContactDetails, *, changed_at: datetime | None = None
    ) -> ContactRecord:
        """Add a contact, changed now unless `changed_at` says when (a seed's history)."""
        with self._transaction() as db:
            when = self._change_time(changed_at)
            inserted = db.execute(
                "INSERT INTO contacts (details, changed_at) VALUES (?, ?)",
                (_DETAILS.dump_json(details).decode(), _text(when)),
            )
            contact = ContactRecord(_row_id(inserted), when, details)
            # SQLite may give a deleted contact's id to a new one: that id is alive again.
            db.execute("DELETE FROM deleted_contacts WHERE contact_id = ?", (contact.id,))
            _index(db, contact)
        return contact

    def update_contact(self, contact_id: int, **changes: Any) -> ContactRecord:
        """Change some of a contact's details (none: only mark it changed)."""
        with self._transaction() as db:
            current = _read_contact(db, contact_id)
            contact = ContactRecord(
                contact_id, self._change_time(None), replace(current.details, **changes)
            )
            db.execute(
                "UPDATE contacts SET details = ?, changed_at = ? WHERE id = ?",
                (
                    _DETAILS.dump_json(contact.details).decode(),
                    _text(contact.changed_at),
                    contact_id,
                ),
            )
            db.execute("DELETE FROM contact_handles WHERE contact_id = ?", (contact_id,))
            _index(db, contact)
        return contact

    def delete_contact(self, contact_id: int) -> DeletionRecord:
        """Remove a contact with its interactions, remembering when (see `changes`)."""
        with self._transaction() as db:
            if db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,)).rowcount == 0:
                raise UnknownContact(contact_id)
            deletion = DeletionRecord(contact_id, self._change_time(None))
            db.execute(
                "INSERT INTO deleted_contacts (contact_id, deleted_at) VALUES (?, ?)",
                (contact_id, _text(deletion.deleted_at)),
            )
        return deletion

    def changes(self, *, after: ChangeCursor, limit: int | None = None) -> list[Change]:
        """Contacts changed and contacts deleted after `after`, in the order they were.
        Raises `ChangesForgotten` when `after` is older than the changes remembered."""
        with self._transaction() as db:
            forgotten = _forgotten_before(db)
            if forgotten is not None and after.changed_at < forgotten:
                raise ChangesForgotten(after.changed_at)
            # One statement, so that no change slips between reading contacts and deletions.
            rows = db.execute(
                "SELECT id, changed_at AS moment, details FROM contacts"
                " WHERE (changed_at, id) > (:moment, :id)"
                " UNION ALL SELECT contact_id, deleted_at, NULL FROM deleted_contacts"
                " WHERE (deleted_at, contact_id) > (:moment, :id)"
                " ORDER BY moment, id LIMIT :limit",
                {
                    "moment": _text(after.changed_at),
                    "id": after.contact_id,
                    "limit": -1 if limit is None else limit,
                },
            ).fetchall()
        return [_change(row) for row in rows]

    def forget_changes_before(self, moment: datetime) -> None:
        """Forget the deletions before `moment`, as a service pruning its change log does:
        `changes` after an older position raises `ChangesForgotten` from then on."""
        with self._transaction() as db:
            db.execute("DELETE FROM deleted_contacts WHERE deleted_at < ?", (_text(moment),))
            db.execute(
                "INSERT INTO forgotten_changes (id, before) VALUES (1, :before)"
                " ON CONFLICT (id) DO UPDATE SET before = max(before, :before)",
                {"before": _text(moment)},
            )

    def contact(self, contact_id: int) -> ContactRecord:
        with self._transaction() as db:
            return _read_contact(db, contact_id)

    def contacts(
        self, *, after: ChangeCursor | None = None, limit: int | None = None
    ) -> list[ContactRecord]:
        """Contacts in the order they last changed, oldest change first."""
        start = after or ChangeCursor(_DAWN, 0)
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM contacts WHERE (changed_at, id) > (?, ?)"
                " ORDER BY changed_at, id LIMIT ?",
                (_text(start.changed_at), start.contact_id, -1 if limit is None else limit),
            ).fetchall()
        return [_contact(row) for row in rows]

    def contacts_with(
        self, *, emails: Collection[str] = (), phones: Collection[str] = ()
    ) -> list[ContactRecord]:
        """Contacts having any of these emails (in any case) or phone numbers (in international
        form, as "+14155550142" or "+1 415-555-0142")."""
        handles = {_email_handle(email) for email in emails} | {
            handle for phone in phones if (handle := _phone_handle(phone, None))
        }
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM contacts WHERE id IN (SELECT contact_id FROM contact_handles"
                " WHERE handle IN (SELECT value FROM json_each(?))) ORDER BY changed_at, id",
                (_json_list(handles),),
            ).fetchall()
        return [_contact(row) for row in rows]

    def _change_time(self, given: datetime | None) -> datetime:
        # Now, but always after every change recorded before, so that a checkpoint taken at
        # any change is passed by every later one, whatever the clock does.
        when = given or max(datetime.now(UTC), self._last_change + _TICK)
        self._last_change = max(self._last_change, when)
        return when

    # Agents -----------------------------------------------------------------------------

    def add_agent(self, name: str, email: str, *, agent_id: int | None = None) -> AgentRecord:
        with self._transaction() as db:
            inserted = db.execute(
                "INSERT INTO agents (id, name, email) VALUES (?, ?, ?)", (agent_id, name, email)
            )
        return AgentRecord(_row_id(inserted), name, email)

    def agents(self) -> list[AgentRecord]:
        with self._transaction() as db:
            rows = db.execute("SELECT * FROM agents ORDER BY name, id").fetchall()
        return [AgentRecord(row["id"], row["name"], row["email"]) for row in rows]

    # Interactions -----------------------------------------------------------------------

    def add_interaction(
        self,
        details: InteractionDetails,
        *,
        contact_id: int | None = None,
        date: datetime | None = None,
    ) -> InteractionRecord:
        """Record a ticket, deal or call, for a contact or for nobody in particular."""
        date = date or datetime.now(UTC)
        with self._transaction() as db:
            if contact_id is not None:
                _read_contact(db, contact_id)
            inserted = db.execute(
                "INSERT INTO interactions"
                " (contact_id, type, subject, description, priority, status, date)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    contact_id,
                    details.type,
                    details.subject,
                    details.description,
                    details.priority,
                    details.status,
                    _text(date),
                ),
            )
        return InteractionRecord(_row_id(inserted), contact_id, date, details)

    def amend_interaction(
        self, interaction_id: int, type: InteractionType, note: str
    ) -> InteractionRecord:
        """Add a paragraph to the description of the `type` interaction `interaction_id`, as
        an agent adds notes to the record of a call once it is dispositioned."""
        with self._transaction() as db:
            amended = db.execute(
                "UPDATE interactions"
                " SET description = coalesce(description || char(10) || char(10), '') || ?"
                " WHERE id = ? AND type = ? RETURNING *",
                (note, interaction_id, type),
            ).fetchone()
        if amended is None:
            raise UnknownInteraction(interaction_id)
        return _interaction(amended)

    def interaction(self, interaction_id: int) -> InteractionRecord:
        with self._transaction() as db:
            row = db.execute(
                "SELECT * FROM interactions WHERE id = ?", (interaction_id,)
            ).fetchone()
        if row is None:
            raise UnknownInteraction(interaction_id)
        return _interaction(row)

    def interactions(
        self, contact_ids: Collection[int], types: Collection[str]
    ) -> list[InteractionRecord]:
        """The contacts' interactions of these types, newest first."""
        with self._transaction() as db:
            rows = db.execute(
                "SELECT * FROM interactions"
                " WHERE contact_id IN (SELECT value FROM json_each(?))"
                " AND type IN (SELECT value FROM json_each(?))"
                " ORDER BY date DESC, id DESC",
                (_json_list(contact_ids), _json_list(types)),
            ).fetchall()
        return [_interaction(row) for row in rows]

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection, to this thread alone, committing what is done with it."""
        with self._lock, self._connection:
            yield self._connection


def _read_contact(db: sqlite3.Connection, contact_id: int) -> ContactRecord:
    row = db.execute("SELECT * FROM contacts WHERE id = ?", (contact_id,)).fetchone()
    if row is None:
        raise UnknownContact(contact_id)
    return _contact(row)


def _forgotten_before(db: sqlite3.Connection) -> datetime | None:
    row = db.execute("SELECT before FROM forgotten_changes").fetchone()
    return None if row is None else _moment(row["before"])


def _index(db: sqlite3.Connection, contact: ContactRecord) -> None:
    details = contact.details
    handles = {_email_handle(email) for email in details.emails} | {
        handle for phone in details.phones if (handle := _phone_handle(phone, details.country))
    }
    db.executemany(
        "INSERT INTO contact_handles (handle, contact_id) VALUES (?, ?)",
        [(handle, contact.id) for handle in handles],
    )


def _email_handle(email: str) -> str:
    return f"email:{email.strip().lower()}"


def _phone_handle(number: str, region: str | None) -> str | None:
    """The handle of a number dialled from `region` (None: written internationally), by its
    E.164 form; None when it cannot be read."""
    try:
        parsed = phonenumbers.parse(number, region)
    except NumberParseException:
        return None
    return f"phone:{phonenumbers.format_number(parsed, PhoneNumberFormat.E164)}"


def _account_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


def _account(row: sqlite3.Row) -> HelpdeskAccount:
    return HelpdeskAccount(row["id"], row["url"], row["email"], row["api_token"])


def _contact(row: sqlite3.Row) -> ContactRecord:
    return ContactRecord(
        row["id"], _moment(row["changed_at"]), _DETAILS.validate_json(row["details"])
    )


def _change(row: sqlite3.Row) -> Change:
    if row["details"] is None:
        return DeletionRecord(row["id"], _moment(row["moment"]))
    return ContactRecord(row["id"], _moment(row["moment"]), _DETAILS.validate_json(row["details"]))


def _interaction(row: sqlite3.Row) -> InteractionRecord:
    details = InteractionDetails(
        row["type"], row["subject"], row["description"], row["priority"], row["status"]
    )
    return InteractionRecord(row["id"], row["contact_id"], _moment(row["date"]), details)


def _row_id(cursor: sqlite3.Cursor) -> int:
    assert cursor.lastrowid is not None  # set by every INSERT
    return cursor.lastrowid


def _text(moment: datetime) -> str:
    # One fixed width in UTC, so that the text sorts as the moments do.
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _json_list(values: Collection[object]) -> str:
    # Lists travel into SQL as one JSON parameter, read back with json_each.
    return json.dumps(list(values))
