"""A deterministic seed of plausible records for the demo helpdesk's store.

Two accounts, then agents and contacts from several countries (names, companies, addresses,
and phone numbers written as people there write them), each contact with its tickets, deals
and calls: the same records for the same arguments.
"""

from __future__ import annotations

import itertools
import random
import re
import string
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TypeVar

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberFormat

from bridgehub.bridge.protocol import Priority, Status
from bridgehub.demo.helpdesk_store import (
    PRIORITIES,
    STATUSES,
    ContactDetails,
    HelpdeskDatabase,
    InteractionDetails,
)


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
    _add_accounts(database, rng)
    _add_agents(database, rng, count_agents)
    ticket_grades = _cycle_shuffled(rng, list(itertools.product(PRIORITIES, STATUSES)))
    for _ in range(count_contacts):
        _add_contact(database, rng, ticket_grades, interactions_per_contact)


def _add_accounts(database: HelpdeskDatabase, rng: random.Random) -> None:
    for subdomain in ("acme", "globex"):
        token = "".join(rng.choices(string.ascii_letters + string.digits, k=32))
        database.add_account(
            f"https://{subdomain}.helpdesk.example", f"admin@{subdomain}.example", token
        )


def _add_agents(database: HelpdeskDatabase, rng: random.Random, count: int) -> None:
    for agent_id, (name, email) in zip(
        rng.sample(range(100_000, 1_000_000), count), _agents(rng, count), strict=True
    ):
        database.add_agent(name, email, agent_id=agent_id)


def _add_contact(
    database: HelpdeskDatabase,
    rng: random.Random,
    ticket_grades: Iterator[tuple[Priority, Status]],
    interactions_per_contact: int,
) -> None:
    """One contact, changed some time in the seed's year, with its past interactions."""
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
