"""The screen pop: who is calling, with their history from every integration, the moment a
call arrives. A softphone opens `/ui/screen-pop?phone=<caller>`; an agent can type one too.

It runs the caller-ID lookup of `GET /v1/lookup`, so a number written differently from the
stored one (`(415) 555-0042` for `+1 415 555 0042`) finds the same contact, and groups the
matches into people as its `people` do: one card per person, each system's record inside.
When several people match, the agent picks the caller: the best is open, the others a click
(or Enter) away.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from bridgehub.accounts.auth import Account
from bridgehub.contacts.people import Identity, group_people
from bridgehub.contacts.phones import LookupKeys, Match
from bridgehub.contacts.service import CallerMatch, contact_service
from bridgehub.db.session import DbSession, release_connection
from bridgehub.runtime import HubRuntime, Runtime
from bridgehub.web import nav
from bridgehub.web.auth import SignedInAccount, account_of
from bridgehub.web.pages.catalog import Badge
from bridgehub.web.pages.contacts import (
    ContactView,
    History,
    Source,
    contact_history,
    contact_view,
    integration_sources,
)
from bridgehub.web.templating import render

router = APIRouter()
nav.register("Screen pop", "screen_pop", position=40, audience="account")

MAX_PHONE_LENGTH = 64
SHOWN_HISTORIES = 5
"""The surest people get their interactions on the page at once; any others link to their
best record's contact page (a number shared by a whole switchboard must not ask every
bridge dozens of times per call)."""

_MATCHES = {
    Match.EXACT: (
        Badge("Exact match", "success"),
        "The same number, country code included.",
    ),
    Match.NATIONAL: (
        Badge("Same national number", "info"),
        "The same number, written without its country code on one side.",
    ),
    Match.SUFFIX: (
        Badge("Partial match", "warning"),
        "One number ends with the other: a prefix or country code differs, so check who it is.",
    ),
}


@dataclass(frozen=True)
class Candidate:
    contact: ContactView
    match: Badge
    match_explained: str


@dataclass(frozen=True)
class Person:
    """The records of one person in every system that matched, best first, and their
    interactions. A contact's interactions already come from every connected system (each
    bridge is asked by the contact's id, name and emails), so the person has one history,
    their best record's: one per record would repeat it and ask the bridges again."""

    name: str
    sources: list[Source]
    """The integrations holding the records, each once."""
    candidates: list[Candidate]
    history: History | None
    """None for people beyond `SHOWN_HISTORIES`."""

    @property
    def best(self) -> Candidate:
        return self.candidates[0]


@dataclass(frozen=True)
class Number:
    """The incoming number as the lookup read it."""

    written: str
    e164: str | None
    national_number: str | None


@router.get("/screen-pop", name="screen_pop")
async def screen_pop(
    request: Request,
    operator: SignedInAccount,
    session: DbSession,
    runtime: HubRuntime,
    phone: Annotated[str, Query()] = "",
) -> Response:
    phone = phone.strip()
    if not phone:
        return _page(request, phone)
    if len(phone) > MAX_PHONE_LENGTH:
        error = f"A phone number has at most {MAX_PHONE_LENGTH} characters."
        return _page(request, phone, error=error)
    account = account_of(operator)
    found = await contact_service.identify(session, account, phone)
    number = _number(phone, found.number)
    if number.e164 is None and number.national_number is None:
        error = "This is not a phone number that can be looked up: type the caller's number."
        return _page(request, phone, error=error)
    sources = await integration_sources(session)
    # Bridges are asked with the connection given back: a slow one must not hold it.
    await release_connection(session)
    candidates = [
        Candidate(contact_view(each.contact, sources[each.integration]), *_MATCHES[each.match])
        for each in found.callers
    ]
    people = _people(found.callers, candidates)
    histories = await asyncio.gather(
        *(
            _history(runtime, account, person[0].contact.id, sources)
            for person in people[:SHOWN_HISTORIES]
        )
    )
    shown = [
        Person(
            name=records[0].contact.name,
            sources=list(dict.fromkeys(each.contact.source for each in records)),
            candidates=records,
            history=histories[position] if position < len(histories) else None,
        )
        for position, records in enumerate(people)
    ]
    return _page(request, phone, number=number, people=shown)


async def _history(
    runtime: Runtime, account: Account, contact_id: uuid.UUID, sources: Mapping[str, Source]
) -> History:
    # One session each: the histories are fetched at the same time.
    async with runtime.sessionmaker() as session:
        return await contact_history(session, runtime, account, contact_id, sources)


def _people(callers: list[CallerMatch], candidates: list[Candidate]) -> list[list[Candidate]]:
    """`candidates`, made from `callers` in their order, grouped into people: best first."""
    identities = [
        Identity(each.contact.name, each.contact.emails, each.integration) for each in callers
    ]
    return [[candidates[position] for position in group] for group in group_people(identities)]


def _number(written: str, keys: LookupKeys) -> Number:
    return Number(written, keys.e164, keys.national_number)


def _page(
    request: Request,
    phone: str,
    *,
    number: Number | None = None,
    people: list[Person] | None = None,
    error: str | None = None,
) -> Response:
    context = {"phone": phone, "number": number, "people": people or [], "error": error}
    return render(request, "screen_pop/index.html", context, status_code=422 if error else 200)
