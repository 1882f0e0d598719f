"""Contacts: the account's contacts from every integration, searched by name, email or
phone; a contact's details and its interactions from every integration at once.

Everything a bridge delivers is someone else's text: URLs become links only when they are
http(s) (see `web_link`), and e-mail and phone links are built here, never taken as given.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from bridgehub.accounts.auth import Account
from bridgehub.activations.models import Activation, ActivationStatus
from bridgehub.activations.service import activation_service
from bridgehub.contacts.models import Contact
from bridgehub.contacts.service import contact_service
from bridgehub.db.session import DbSession
from bridgehub.integrations.service import integration_service
from bridgehub.interactions.schemas import InteractionRead, InteractionsAnswer
from bridgehub.interactions.service import interaction_service
from bridgehub.runtime import HubRuntime, Runtime
from bridgehub.syncs.models import SyncKind
from bridgehub.syncs.service import offers, sync_service
from bridgehub.web import nav
from bridgehub.web.auth import SignedInAccount, account_of
from bridgehub.web.pages.catalog import Badge
from bridgehub.web.templating import Flash, image_url, render, see_other

router = APIRouter()
nav.register("Contacts", "contacts", position=30, audience="account")

PAGE_SIZE = 25
MAX_SEARCH_LENGTH = 200

_PHONE_WRITING = re.compile(r"(?:tel:)?\+?[0-9 ().\-/]+")
_MIN_PHONE_DIGITS = 4
_TWITTER_HANDLE = re.compile(r"@?([A-Za-z0-9_]{1,15})")
_STATUS_TONES = {
    "new": "info",
    "open": "warning",
    "pending": "neutral",
    "solved": "success",
    "closed": "neutral",
}
_PRIORITY_TONES = {"low": "neutral", "normal": "neutral", "high": "warning", "urgent": "danger"}


@dataclass(frozen=True)
class Source:
    """The integration a record came from, as the catalog presents it."""

    name: str
    display_name: str
    icon_url: str | None
    """Only an http(s) URL."""


@dataclass(frozen=True)
class Link:
    text: str
    href: str | None
    """None when the text is not a link a page may carry (`javascript:`, `data:` ...)."""


@dataclass(frozen=True)
class Phone:
    written: str
    """As the integration holds it."""
    e164: str | None


@dataclass(frozen=True)
class ContactView:
    id: uuid.UUID
    name: str
    company: str | None
    title: str | None
    source: Source
    emails: list[Link]
    phones: list[Phone]
    photo_url: str | None
    address: str | None
    websites: list[Link]
    twitter: Link | None
    updated_at: datetime


@dataclass(frozen=True)
class InteractionView:
    source: Source
    type: str
    subject: str
    description: str | None
    date: datetime | None
    link: str | None
    status: Badge
    priority: Badge | None


@dataclass(frozen=True)
class Failure:
    source: Source
    reason: str


@dataclass(frozen=True)
class History:
    """A contact's interactions from every integration, newest first, with the
    integrations that failed to answer and the items left out for breaking the protocol."""

    items: list[InteractionView]
    failures: list[Failure]
    dropped: list[Failure]


@dataclass(frozen=True)
class Search:
    """What the search box held, as the filters the contact store takes."""

    text: str
    query: str | None = None
    email: str | None = None
    phone: str | None = None

    @property
    def kind(self) -> str:
        return "email" if self.email else "phone number" if self.phone else "name or company"


@router.get("/contacts", name="contacts")
async def contacts(
    request: Request,
    operator: SignedInAccount,
    session: DbSession,
    search: Annotated[str, Query()] = "",
    cursor: Annotated[str | None, Query()] = None,
) -> Response:
    account = account_of(operator)
    if len(search) > MAX_SEARCH_LENGTH:
        error = f"Search for at most {MAX_SEARCH_LENGTH} characters."
        return _contacts_page(request, Search(search), error=error, status_code=422)
    wanted = search_for(search)
    rows, next_cursor = await contact_service.list(
        session,
        account,
        query=wanted.query,
        email=wanted.email,
        phone=wanted.phone,
        limit=PAGE_SIZE,
        cursor=cursor or None,
    )
    sources = await integration_sources(session)
    found = [contact_view(contact, sources[name]) for contact, name in rows]
    syncing = [] if found or wanted.text or cursor else await _syncing_activations(session, account)
    return _contacts_page(
        request,
        wanted,
        found=found,
        next_cursor=next_cursor,
        paged=bool(cursor),
        syncing=[sources[a.integration.name].display_name for a in syncing],
    )


@router.post("/contacts/sync", name="sync_contacts")
async def sync_contacts(
    request: Request, operator: SignedInAccount, session: DbSession
) -> Response:
    syncing = await _syncing_activations(session, account_of(operator))
    for activation in syncing:
        await sync_service.request(session, activation, SyncKind.CONTACTS, trigger="manual")
    back = request.app.url_path_for("contacts")
    if not syncing:
        message = "No active integration delivers contacts: connect one from the catalog first."
        return see_other(request, back, Flash("error", message))
    names = ", ".join(each.integration.configuration["display_name"] for each in syncing)
    message = f"Contacts are syncing from {names}. Reload this page in a moment to see them."
    return see_other(request, back, Flash("success", message))


@router.get("/contacts/{contact_id}", name="contact")
async def contact(
    request: Request,
    contact_id: uuid.UUID,
    operator: SignedInAccount,
    session: DbSession,
    runtime: HubRuntime,
) -> Response:
    account = account_of(operator)
    found, integration = await contact_service.get(session, account, contact_id)
    sources = await integration_sources(session)
    history = await contact_history(session, runtime, account, contact_id, sources)
    context = {"contact": contact_view(found, sources[integration]), "history": history}
    return render(request, "contacts/contact.html", context)


def search_for(text: str) -> Search:
    """Read the search box: an address with `@` is an email, digits written like a phone
    number are one, anything else is the first letters of words of a name or company."""
    text = text.strip()
    if not text:
        return Search(text)
    if "@" in text:
        return Search(text, email=text)
    digits = sum(character.isdigit() for character in text)
    if _PHONE_WRITING.fullmatch(text) and digits >= _MIN_PHONE_DIGITS:
        return Search(text, phone=text)
    return Search(text, query=text)


async def integration_sources(session: AsyncSession) -> Mapping[str, Source]:
    """Every integration of the catalog by name, as records name where they came from."""
    return {
        integration.name: _source(integration.name, integration.configuration)
        for integration in await integration_service.list(session)
    }


async def contact_history(
    session: AsyncSession,
    runtime: Runtime,
    account: Account,
    contact_id: uuid.UUID,
    sources: Mapping[str, Source],
) -> History:
    """The contact's interactions from every integration (this commits `session`, which
    must not be held while the bridges answer)."""
    answer = await interaction_service.for_contact(session, runtime, account, contact_id)
    return history_view(answer, sources)


def history_view(answer: InteractionsAnswer, sources: Mapping[str, Source]) -> History:
    def source(name: str) -> Source:
        return sources.get(name) or Source(name, name, None)

    return History(
        items=[_interaction_view(item, source(item.integration)) for item in answer.items],
        failures=[Failure(source(error.integration), error.message) for error in answer.errors],
        dropped=[Failure(source(item.integration), item.reason) for item in answer.dropped],
    )


def contact_view(contact: Contact, source: Source) -> ContactView:
    return ContactView(
        id=contact.id,
        name=contact.name,
        company=contact.company,
        title=contact.title,
        source=source,
        emails=[Link(email, "mailto:" + quote(email, safe="@")) for email in contact.emails],
        phones=[Phone(phone["raw"], phone["e164"]) for phone in contact.phones],
        photo_url=image_url(contact.photo_url),
        address=contact.address,
        websites=[Link(website, web_link(website)) for website in contact.websites],
        twitter=_twitter(contact.twitter) if contact.twitter else None,
        updated_at=contact.updated_at,
    )


def web_link(written: str) -> str | None:
    """Where a link to a website written by a person may point: an http(s) URL as written,
    a bare address (`www.acme.example`) over https, anything else nowhere."""
    text = written.strip()
    try:
        bare = not urlsplit(text).scheme and not text.startswith("/") and " " not in text
    except ValueError:
        return None
    return image_url(f"https://{text}" if bare else text)


def _twitter(written: str) -> Link:
    handle = _TWITTER_HANDLE.fullmatch(written.strip())
    if handle:
        return Link(f"@{handle.group(1)}", f"https://twitter.com/{handle.group(1)}")
    return Link(written, image_url(written))


def _interaction_view(item: InteractionRead, source: Source) -> InteractionView:
    priority = None
    if item.priority in _PRIORITY_TONES:
        priority = Badge(f"{item.priority.capitalize()} priority", _PRIORITY_TONES[item.priority])
    icon = image_url(item.icon_url) or source.icon_url
    return InteractionView(
        source=Source(source.name, source.display_name, icon),
        type=item.type,
        subject=item.subject,
        description=item.description,
        date=item.date,
        link=image_url(item.url),
        status=Badge(item.status.capitalize(), _STATUS_TONES.get(item.status, "neutral")),
        priority=priority,
    )


def _source(name: str, configuration: Mapping[str, Any]) -> Source:
    icon = image_url(configuration.get("icon_url")) or image_url(configuration.get("logo_url"))
    return Source(name, str(configuration.get("display_name") or name), icon)


async def _syncing_activations(session: AsyncSession, account: Account) -> list[Activation]:
    """The account's active activations whose integration delivers contacts."""
    return [
        activation
        for activation in await activation_service.list(session, account)
        if activation.status == ActivationStatus.ACTIVE
        and offers(activation.integration, SyncKind.CONTACTS)
    ]


def _contacts_page(
    request: Request,
    search: Search,
    *,
    found: list[ContactView] | None = None,
    next_cursor: str | None = None,
    paged: bool = False,
    syncing: list[str] | None = None,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    context = {
        "search": search,
        "contacts": found or [],
        "next_cursor": next_cursor,
        "paged": paged,
        "syncing": syncing or [],
        "error": error,
    }
    return render(request, "contacts/index.html", context, status_code=status_code)
