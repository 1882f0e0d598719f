"""The demo helpdesk's own data, and a deterministic seed of plausible records.

Helpdesk accounts (the credentials its API accepts), contacts, agents and interactions
(tickets, and the CRM's deals and calls) live in SQLite. The bridge in `helpdesk.py` serves
them over the bridge protocol while tests and the demo change them from other threads, so
every method may be called from any thread.
"""

from __future__ import annotations

import hmac
import itertools
import json
import random
import re
import sqlite3
import string
import threading
import unicodedata
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar, get_args

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberFormat
from pydantic import TypeAdapter

from bridgehub.bridge.protocol import Priority, Status

InteractionType = Literal["ticket", "deal", "call"]
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
STATUSES: tuple[Status, ...] = get_args(Status)


class UnknownContact(LookupError):
    """No contact has this id (any more): raised by every method given a contact id."""


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
            newest = db.execute("SELECT max(changed_at) FROM contacts").fetchone()[0]
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

    def delete_contact(self, contact_id: int) -> None:
        """Remove a contact with its interactions."""
        with self._transaction() as db:
            if db.execute("DELETE FROM contacts WHERE id = ?", (contact_id,)).rowcount == 0:
                raise UnknownContact(contact_id)

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


# The seed ----------------------------------------------------------------------------------


def seed(
    database: HelpdeskDatabase,
    *,
    count_contacts: int = 60,
    count_agents: int = 8,
    interactions_per_contact: int = 4,
    random_seed: int = 2024,
) -> None:
    """Fill an empty database with two helpdesk accounts (`accounts()` gives their
    credentials) and plausible, varied contacts, agents, tickets, deals and calls: the same
    ones for the same arguments."""
    if not database.is_empty():
        raise ValueError("the helpdesk database already holds data; seed an empty one")
    rng = random.Random(random_seed)  # noqa: S311  (made-up data, the same on every run)
    for subdomain in ("acme", "globex"):
        token = "".join(rng.choices(string.ascii_letters + string.digits, k=32))
        database.add_account(
            f"https://{subdomain}.helpdesk.example", f"admin@{subdomain}.example", token
        )
    for agent_id, (name, email) in zip(
        rng.sample(range(100_000, 1_000_000), count_agents), _agents(rng, count_agents), strict=True
    ):
        database.add_agent(name, email, agent_id=agent_id)
    ticket_grades = _cycle_shuffled(rng, list(itertools.product(PRIORITIES, STATUSES)))
    for _ in range(count_contacts):
        changed_at = _SEED_START + timedelta(minutes=rng.randrange(365 * 24 * 60))
        contact = database.add_contact(_contact_details(rng), changed_at=changed_at)
        for _ in range(rng.randint(0, 2 * interactions_per_contact)):
            date = changed_at - timedelta(minutes=rng.randrange(2 * 365 * 24 * 60))
            details = _interaction_details(rng, ticket_grades)
            database.add_interaction(details, contact_id=contact.id, date=date)


_SEED_START = datetime(2024, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class _Country:
    code: str
    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    numbers: tuple[str, ...]
    """National numbers, `#` for a random digit: ranges set aside for fiction where the
    country has one."""
    addresses: tuple[str, ...]


_COUNTRIES = (
    _Country(
        "US",
        ("James", "Mary", "Aaliyah", "DeShawn", "Mei", "Carlos", "Priya", "Ethan", "Jennifer"),
        ("Smith", "Johnson", "Garcia", "Nguyen", "Patel", "Kim", "Washington", "O'Connor"),
        ("41555501##", "21255501##", "31255501##", "20655501##"),
        (
            "{n} Market St, San Francisco, CA 94103",
            "{n} W 42nd St, New York, NY 10036",
            "{n} N Michigan Ave, Chicago, IL 60611",
            "{n} Pike St, Seattle, WA 98101",
        ),
    ),
    _Country(
        "GB",
        ("Oliver", "Amelia", "Harry", "Isla", "Siobhán", "Rhys", "Aisha", "Callum"),
        ("Taylor", "Evans", "O'Brien", "Hughes", "Khan", "Wright", "MacLeod", "Ashworth"),
        ("2079460###", "1614960###", "7700900###"),
        (
            "{n} Baker Street, London NW1 6XE",
            "{n} Deansgate, Manchester M3 4LQ",
            "Flat {n}, 12 Rose Street, Edinburgh EH2 2PR",
        ),
    ),
    _Country(
        "PT",
        ("João", "Inês", "Tiago", "Beatriz", "Duarte", "Leonor", "Gonçalo", "Mariana"),
        ("Silva", "Santos", "Ferreira", "Conceição", "Magalhães", "Sousa", "Araújo"),
        ("211234###", "222345###", "912345###"),
        (
            "Rua Augusta {n}, 1100-053 Lisboa",
            "Avenida dos Aliados {n}, 4000-064 Porto",
            "Rua Ferreira Borges {n}, 3000-180 Coimbra",
        ),
    ),
    _Country(
        "DE",
        ("Lukas", "Anna", "Jürgen", "Sophie", "Maximilian", "Lea", "Jörg", "Hannah"),
        ("Müller", "Schmidt", "Schneider", "Weiß", "Köhler", "Becker", "Groß", "Hoffmann"),
        ("3023125###", "4066969###", "15228817###"),
        (
            "Torstraße {n}, 10119 Berlin",
            "Maximilianstraße {n}, 80539 München",
            "Jungfernstieg {n}, 20354 Hamburg",
        ),
    ),
    _Country(
        "FR",
        ("Camille", "Louis", "Chloé", "Hugo", "Léa", "Théo", "Manon", "François"),
        ("Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Girard", "Rousseau", "Fontaine"),
        ("19900####", "63998####"),
        (
            "{n} rue de Rivoli, 75001 Paris",
            "{n} cours Mirabeau, 13100 Aix-en-Provence",
            "{n} quai Saint-Antoine, 69002 Lyon",
        ),
    ),
    _Country(
        "BR",
        ("Gabriel", "Ana Clara", "Rafael", "Júlia", "Thiago", "Larissa", "Matheus", "Fernanda"),
        ("Oliveira", "Souza", "Lima", "Carvalho", "Gomes", "Ribeiro", "Nascimento"),
        ("1191234####", "2198765####", "1132104###"),
        (
            "Avenida Paulista, {n} - Bela Vista, São Paulo - SP, 01310-100",
            "Rua Visconde de Pirajá, {n} - Ipanema, Rio de Janeiro - RJ, 22410-002",
        ),
    ),
    _Country(
        "AU",
        ("Jack", "Charlotte", "William", "Olivia", "Noah", "Mia", "Lachlan", "Ruby"),
        ("Brown", "Wilson", "Thompson", "Walker", "White", "Anderson", "Kelly"),
        ("25550####", "491570###"),
        ("{n} George St, Sydney NSW 2000", "{n} Collins St, Melbourne VIC 3000"),
    ),
)

_COMPANIES = (
    ("Northwind Traders", "northwind.example"),
    ("Contoso Ltd.", "contoso.example"),
    ("Fabrikam, Inc.", "fabrikam.example"),
    ("Tailspin Toys", "tailspintoys.example"),
    ("Wide World Importers", "wideworldimporters.example"),
    ("Adventure Works Cycles", "adventure-works.example"),
    ("Blue Yonder Airlines", "blueyonderairlines.example"),
    ("Alpine Ski House", "alpineskihouse.example"),
    ("Woodgrove Bank", "woodgrovebank.example"),
    ("Fourth Coffee", "fourthcoffee.example"),
    ("Müller & Söhne GmbH", "mueller-soehne.example"),
    ("Padaria Lusitana, Lda.", "padarialusitana.example"),
    ("Boulangerie Dupont SARL", "boulangerie-dupont.example"),
    ("Café do Ponto Ltda.", "cafedoponto.example"),
    ("Kookaburra Logistics Pty Ltd", "kookaburra-logistics.example"),
)

_TITLES = (
    "Chief Technology Officer",
    "Head of Customer Support",
    "IT Manager",
    "Procurement Lead",
    "Office Manager",
    "VP Sales",
    "Operations Director",
    "Software Engineer",
    "Account Executive",
    "Founder & CEO",
    "Finance Controller",
    "Support Team Lead",
)

_MAIL_PROVIDERS = ("mail.example", "inbox.example", "post.example")

_TICKETS = (
    ("Printer on fire", "It is still burning. Please advise before the sprinklers go off."),
    (
        "Cannot log in after password reset",
        "The reset link works, but the new password is refused.",
    ),
    (
        "Invoice shows the wrong VAT number",
        "Our VAT number changed in March; the last invoice has the old one.",
    ),
    ("Refund for a duplicate charge", "We were charged twice for the annual plan on the same day."),
    ("Export to CSV times out", "Exporting more than 10,000 rows fails after a minute."),
    ("Add two seats to our plan", "Two new colleagues start on Monday."),
    ("Webhook deliveries failing with 502", "Since yesterday no webhook reaches our endpoint."),
    ("Feature request: dark mode", "Our night shift would love it."),
    ("Calls drop after 30 seconds", "Only on outbound calls to mobile numbers."),
    ("Change of billing address", "We moved offices; the new address is in the attached letter."),
    ("Two-factor codes arrive late", "SMS codes take several minutes, so they expire."),
    ("Où est ma facture ?", "Je ne trouve pas la facture de février dans mon espace client."),
    ("Fatura em duplicado", "Recebemos a mesma fatura duas vezes este mês."),
)

_DEALS = (
    ("Annual renewal", "Renewal of the current plan; the customer asks for a multi-year price."),
    ("Upgrade to the Enterprise plan", "Needs single sign-on and audit logs."),
    ("Pilot for the support team", "Thirty-day pilot with 15 seats."),
    ("Add-on: call recording", "Compliance team asked for recordings kept for a year."),
    ("Expansion to the Lisbon office", "A second site with 40 agents."),
)
_DEAL_PRIORITIES: tuple[Priority, ...] = ("low", "normal", "high")
_DEAL_STATUSES: tuple[Status, ...] = ("open", "pending", "solved", "closed")

_CALLS = (
    ("Inbound call", "Asked about the price of extra seats."),
    ("Follow-up call", "Walked through the onboarding checklist."),
    ("Missed call returned", "Wanted to confirm the meeting on Thursday."),
    ("Outbound call", "Left a voicemail about the renewal."),
)


def _contact_details(rng: random.Random) -> ContactDetails:
    country = rng.choice(_COUNTRIES)
    first, last = rng.choice(country.first_names), rng.choice(country.last_names)
    employed = rng.random() < 0.75
    company, domain = rng.choice(_COMPANIES) if employed else (None, None)
    return ContactDetails(
        name=f"{first} {last}",
        company=company,
        title=rng.choice(_TITLES) if employed and rng.random() < 0.8 else None,
        emails=_emails(rng, first, last, domain),
        phones=_phones(rng, country),
        photo_url=_photo_url(first, last) if rng.random() < 0.5 else None,
        address=rng.choice(country.addresses).format(n=rng.randint(1, 250))
        if rng.random() < 0.7
        else None,
        websites=_websites(rng, domain),
        twitter=_twitter(rng, first, last),
        country=country.code,
    )


def _photo_url(first: str, last: str) -> str:
    return f"https://avatars.helpdesk.example/{_slug(first)}-{_slug(last)}.png"


def _emails(rng: random.Random, first: str, last: str, domain: str | None) -> tuple[str, ...]:
    first, last = _slug(first), _slug(last)
    local = rng.choice(
        (f"{first}.{last}", f"{first[0]}{last}", first, f"{first}_{last}", f"{last}.{first}")
    )
    personal = f"{first}.{last}{rng.randint(1, 99)}@{rng.choice(_MAIL_PROVIDERS)}"
    roll = rng.random()
    if roll < 0.05:
        return ()
    if domain is None or roll < 0.2:
        return (personal,)
    if roll < 0.4:
        return (f"{local}@{domain}", personal)
    return (f"{local}@{domain}",)


def _websites(rng: random.Random, domain: str | None) -> tuple[str, ...]:
    if domain is None or rng.random() < 0.3:
        return ()
    return rng.choice(
        (
            (f"https://www.{domain}",),
            (f"www.{domain}",),
            (domain,),
            (f"https://{domain}", f"https://shop.{domain}/"),
        )
    )


def _twitter(rng: random.Random, first: str, last: str) -> str | None:
    if rng.random() < 0.5:
        return None
    first, last = _slug(first), _slug(last)
    return rng.choice(
        (f"@{first}{last}", f"{first}_{last}", f"{first[0]}{last}{rng.randint(1, 99)}")
    )


def _phones(rng: random.Random, country: _Country) -> tuple[str, ...]:
    count = rng.choices((0, 1, 2, 3), weights=(1, 6, 3, 1))[0]
    # Some people keep a number from another country: it is then written as dialled from home.
    homes = [rng.choice(_COUNTRIES) if rng.random() < 0.2 else country for _ in range(count)]
    return tuple(_phone(rng, home, writer=country.code) for home in homes)


_PhoneStyle = Callable[[PhoneNumber], str]


def _phone(rng: random.Random, home: _Country, *, writer: str) -> str:
    digits = "".join(
        str(rng.randrange(10)) if char == "#" else char for char in rng.choice(home.numbers)
    )
    number = phonenumbers.parse(digits, home.code)
    styles = _domestic_styles(number) if home.code == writer else _foreign_styles(writer)
    return rng.choice(styles)(number)


def _international(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)  # +44 20 7946 0018


def _e164(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)  # +442079460018


def _national(number: PhoneNumber) -> str:
    return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)  # (415) 555-0142


def _international_dotted(number: PhoneNumber) -> str:
    code, rest = _international(number).split(" ", 1)
    return f"{code} {_SEPARATORS.sub('.', rest)}"  # +1 415.555.0142


def _national_dashed(number: PhoneNumber) -> str:
    return _SEPARATORS.sub("-", _national(number).replace("(", "").replace(")", ""))


def _national_dotted(number: PhoneNumber) -> str:
    return _SEPARATORS.sub(".", _national(number).replace("(", "").replace(")", ""))


def _trunk_prefix_in_parentheses(number: PhoneNumber) -> str:
    code, _ = _international(number).split(" ", 1)
    return f"{code} (0){_national(number)[1:]}"  # +44 (0)20 7946 0018


def _dialled_from(writer: str, number: PhoneNumber) -> str:
    return phonenumbers.format_out_of_country_calling_number(number, writer)  # 00 1 415-555-0142


def _dialled_from_compact(writer: str, number: PhoneNumber) -> str:
    return re.sub(r"\D", "", _dialled_from(writer, number))  # 0014155550142


_SEPARATORS = re.compile(r"[ -]+")


def _domestic_styles(number: PhoneNumber) -> list[_PhoneStyle]:
    styles: list[_PhoneStyle] = [
        _international,
        _e164,
        _national,
        _international_dotted,
        _national_dashed,
        _national_dotted,
    ]
    # "+44 (0)20 ..." only where numbers are dialled at home with a leading 0.
    if _national(number).startswith("0"):
        styles.append(_trunk_prefix_in_parentheses)
    return styles


def _foreign_styles(writer: str) -> list[_PhoneStyle]:
    return [
        _international,
        _e164,
        partial(_dialled_from, writer),
        partial(_dialled_from_compact, writer),
    ]


def _agents(rng: random.Random, count: int) -> Iterator[tuple[str, str]]:
    taken: set[str] = set()
    while len(taken) < count:
        country = rng.choice(_COUNTRIES)
        first, last = rng.choice(country.first_names), rng.choice(country.last_names)
        email = f"{_slug(first)}.{_slug(last)}@support.helpdesk.example"
        if email not in taken:
            taken.add(email)
            yield f"{first} {last}", email


def _interaction_details(
    rng: random.Random, ticket_grades: Iterator[tuple[Priority, Status]]
) -> InteractionDetails:
    kind = rng.choices(("ticket", "deal", "call"), weights=(3, 1, 2))[0]
    if kind == "ticket":
        priority, status = next(ticket_grades)
        return InteractionDetails("ticket", *rng.choice(_TICKETS), priority, status)
    if kind == "deal":
        subject, description = rng.choice(_DEALS)
        return InteractionDetails(
            "deal",
            subject,
            description,
            rng.choice(_DEAL_PRIORITIES),
            rng.choice(_DEAL_STATUSES),
        )
    subject, description = rng.choice(_CALLS)
    minutes = rng.randint(1, 25)
    return InteractionDetails("call", f"{subject} ({minutes} min)", description, "none", "closed")


Item = TypeVar("Item")


def _cycle_shuffled(rng: random.Random, items: list[Item]) -> Iterator[Item]:
    """Every item once in a random order, again and again: all of them show up early."""
    rng.shuffle(items)
    return itertools.cycle(items)


def _slug(name: str) -> str:
    """A name as it goes into an email address: "Gonçalo" becomes "goncalo"."""
    # NFKD splits "ç" into "c" and a cedilla, which the ASCII encoding then drops; "ß" has
    # no such split.
    spelled = unicodedata.normalize("NFKD", name.replace("ß", "ss"))
    ascii_only = spelled.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", ascii_only.lower())
