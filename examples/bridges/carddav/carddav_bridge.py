"""A bridge serving the contacts of any CardDAV address book (Nextcloud, Fastmail, iCloud,
Radicale...), built with `bridgehub.sdk`.

Serve it with `uvicorn carddav_bridge:app`, generate its configuration with
`bridgehub bridge-config carddav_bridge:bridge --base-url URL`; README.md says more.

A sync run lists what changed since the checkpoint's WebDAV sync token (RFC 6578
sync-collection; everything on a first run), then fetches the vCards a page at a time
(addressbook-multiget). Each offset holds the run's starting token, the token the listing
answered and the last card handed out; the last page's checkpoint is that answered token,
so anything changed while the run went on comes again next time rather than never. The
run's first page names the cards the listing says were deleted; a token the server has
forgotten, or a checkpoint of another address book, answers 410 so that the hub syncs in
full.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from carddav_client import AddressBook, Member
from carddav_vcard import read_contacts
from pydantic import BaseModel
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse
from starlette.routing import Mount, Route

from bridgehub.bridge import GuardedTransport, NetworkPolicy
from bridgehub.sdk import (
    AuthField,
    AuthValidationRequest,
    Bridge,
    CheckpointExpired,
    ContactsPage,
    ContactSyncRequest,
    CredentialsRejected,
    StateCodec,
)

NAME = "carddav"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8091"
LOGO = Path(__file__).with_name("carddav_logo.svg")
LISTINGS_KEPT = 16
"""Listings kept between the pages of a run, so that a run lists its changes once."""


@dataclass(frozen=True)
class Settings:
    public_url: str = DEFAULT_PUBLIC_URL
    """Where the hub and people's browsers reach this bridge (its logo lives there)."""
    page_size: int = 100
    """Cards per page, fetched by one addressbook-multiget."""
    secret: str | None = None
    """Signs offsets and checkpoints; keep it the same across restarts."""
    allow_private_networks: bool = False
    """Reach address books on loopback or private networks, also over plain http://."""
    timeout_seconds: float = 30.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        """`CARDDAV_PUBLIC_URL`, `CARDDAV_PAGE_SIZE`, `CARDDAV_BRIDGE_SECRET`,
        `CARDDAV_ALLOW_PRIVATE_NETWORKS` (true/false), `CARDDAV_TIMEOUT_SECONDS`."""
        page_size = environ.get("CARDDAV_PAGE_SIZE", str(cls.page_size))
        if not page_size.isdecimal() or not 1 <= int(page_size) <= 1000:
            raise ValueError(
                f"CARDDAV_PAGE_SIZE must be a whole number from 1 to 1000; found {page_size!r}."
            )
        timeout = environ.get("CARDDAV_TIMEOUT_SECONDS", str(cls.timeout_seconds))
        try:
            timeout_seconds = float(timeout)
        except ValueError:
            timeout_seconds = -1.0
        if not 0 < timeout_seconds <= 600:
            raise ValueError(
                f"CARDDAV_TIMEOUT_SECONDS must be seconds from 0 to 600; found {timeout!r}."
            )
        allow = environ.get("CARDDAV_ALLOW_PRIVATE_NETWORKS", "false").strip().lower()
        if allow not in ("true", "false"):
            raise ValueError(
                f"CARDDAV_ALLOW_PRIVATE_NETWORKS must be true or false; found {allow!r}."
            )
        return cls(
            public_url=environ.get("CARDDAV_PUBLIC_URL", DEFAULT_PUBLIC_URL).rstrip("/"),
            page_size=int(page_size),
            secret=environ.get("CARDDAV_BRIDGE_SECRET") or None,
            allow_private_networks=allow == "true",
            timeout_seconds=timeout_seconds,
        )


class Checkpoint(BaseModel):
    """Where the last complete run left the address book."""

    addressbook_url: str
    sync_token: str


class Offset(BaseModel):
    """Where a run is: the changes since `since` (None: every card), listed when the
    address book was at `until`, handed out up to the card at path `after`."""

    since: str | None
    until: str
    after: str


class _Listings:
    """The last few listings, by address book, credentials and tokens."""

    def __init__(self) -> None:
        self._kept: OrderedDict[str, tuple[Member, ...]] = OrderedDict()

    def get(self, key: str) -> tuple[Member, ...] | None:
        found = self._kept.get(key)
        if found is not None:
            self._kept.move_to_end(key)
        return found

    def put(self, key: str, members: tuple[Member, ...]) -> None:
        self._kept[key] = members
        self._kept.move_to_end(key)
        while len(self._kept) > LISTINGS_KEPT:
            self._kept.popitem(last=False)


class CardDavBridge:
    """The bridge's behaviour; `bridge` is what the SDK serves, `app` adds its logo."""

    def __init__(
        self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        """`transport` carries the requests to CardDAV servers; by default one that refuses
        private networks unless the settings allow them."""
        self.settings = settings
        policy = NetworkPolicy(
            allow_private_networks=settings.allow_private_networks,
            allow_http=settings.allow_private_networks,
        )
        self._transport = transport or GuardedTransport(policy)
        self._http: httpx.AsyncClient | None = None
        self._listings = _Listings()
        self._offsets = StateCodec(Offset, secret=settings.secret, purpose="carddav/offset")
        self._checkpoints = StateCodec(
            Checkpoint, secret=settings.secret, purpose="carddav/checkpoint"
        )
        self.bridge: Bridge = Bridge(
            name=NAME,
            display_name="CardDAV contacts",
            description=(
                "Contacts from any CardDAV address book (Nextcloud, Fastmail, iCloud, "
                "Radicale...), kept in sync incrementally."
            ),
            logo_url=f"{settings.public_url}/logo.svg",
            icon_url=f"{settings.public_url}/logo.svg",
            authentication_type="custom",
            authentication_fields=[
                AuthField(
                    "addressbook_url",
                    "Address book URL",
                    help="The CardDAV URL of the address book itself, e.g. "
                    "https://cloud.example.com/remote.php/dav/addressbooks/users/jane/contacts/",
                ),
                AuthField("username", "Username"),
                AuthField(
                    "password",
                    "Password",
                    help="An app password where the server offers them (Nextcloud, Fastmail, "
                    "iCloud), not your main password.",
                ),
            ],
            lifespan=self._lifespan,
        )
        self.bridge.auth_validation(self._validate)
        self.bridge.contacts(self._contacts)
        self.app: Starlette = Starlette(
            routes=[Route("/logo.svg", _logo), Mount("/", self.bridge)], lifespan=self._lifespan
        )

    @asynccontextmanager
    async def _lifespan(self, _: Starlette) -> AsyncIterator[None]:
        timeout = httpx.Timeout(self.settings.timeout_seconds)
        headers = {"User-Agent": "bridgehub-carddav-bridge"}
        async with httpx.AsyncClient(
            transport=self._transport, timeout=timeout, headers=headers
        ) as http:
            self._http = http
            try:
                yield
            finally:
                self._http = None

    # The endpoints ----------------------------------------------------------------------

    async def _validate(self, request: AuthValidationRequest) -> None:
        await self._address_book(request.auth).check()

    async def _contacts(self, request: ContactSyncRequest) -> ContactsPage:
        book = self._address_book(request.auth)
        meta = request.meta
        if meta.offset is not None:
            offset = self._offsets.decode(meta.offset, field="meta.offset")
            members = await self._listing_of_run(book, offset)
            remaining = [each for each in members if each.path > offset.after]
            return await self._page(book, remaining, offset.since, offset.until)
        checkpoint = self._checkpoints.decode_optional(
            meta.synchronization_checkpoint, field="meta.synchronization_checkpoint"
        )
        if checkpoint is not None and checkpoint.addressbook_url != book.url:
            # The person changed the URL: the hub holds another book's cards, which only a
            # full sync removes.
            raise CheckpointExpired("The checkpoint is of another address book.")
        since = checkpoint.sync_token if checkpoint else None
        listing = await book.changes(since)
        self._listings.put(self._key(book, since, listing.sync_token), listing.changed)
        # Deletions go with the first page: pages are stored one by one, and a run that
        # fails half-way is resumed from its offset or repeated from its first page.
        deleted = [each.name for each in listing.deleted]
        return await self._page(book, listing.changed, since, listing.sync_token, deleted)

    # Runs -------------------------------------------------------------------------------

    async def _listing_of_run(self, book: AddressBook, offset: Offset) -> Sequence[Member]:
        kept = self._listings.get(self._key(book, offset.since, offset.until))
        if kept is not None:
            return kept
        # Another process served the run's first page, or this one restarted: listing again
        # since the same token gives the same cards and any changed meanwhile, in path order.
        listing = await book.changes(offset.since)
        self._listings.put(self._key(book, offset.since, offset.until), listing.changed)
        return listing.changed

    async def _page(
        self,
        book: AddressBook,
        members: Sequence[Member],
        since: str | None,
        until: str,
        deleted: Sequence[str] = (),
    ) -> ContactsPage:
        batch = members[: self.settings.page_size]
        cards = await book.cards(batch)
        contacts = read_contacts([(card.member.name, card.vcard) for card in cards])
        if len(members) > len(batch):
            offset = Offset(since=since, until=until, after=batch[-1].path)
            return ContactsPage(
                contacts=contacts,
                deleted_contacts=deleted,
                next_offset=self._offsets.encode(offset),
            )
        checkpoint = Checkpoint(addressbook_url=book.url, sync_token=until)
        return ContactsPage(
            contacts=contacts,
            deleted_contacts=deleted,
            synchronization_checkpoint=self._checkpoints.encode(checkpoint),
        )

    # Helpers ----------------------------------------------------------------------------

    def _address_book(self, auth: Mapping[str, Any]) -> AddressBook:
        if self._http is None:
            raise RuntimeError("The CardDAV bridge serves requests only while it runs.")
        values = [auth.get(name) for name in ("addressbook_url", "username", "password")]
        url, username, password = (each.strip() if isinstance(each, str) else "" for each in values)
        if not (url and username and password):
            raise CredentialsRejected("The address book URL, username and password are required.")
        return AddressBook(self._http, url, username, password)

    @staticmethod
    def _key(book: AddressBook, since: str | None, until: str) -> str:
        # A digest, so that the credentials are not kept in the clear as keys.
        parts = (book.url, book.username, book.password_digest, since or "", until)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()


async def _logo(_: Request) -> FileResponse:
    return FileResponse(LOGO, media_type="image/svg+xml")


carddav = CardDavBridge(Settings.from_environment())
bridge: Bridge = carddav.bridge
"""The SDK bridge, for `bridgehub bridge-config carddav_bridge:bridge`."""
app: Starlette = carddav.app
"""The bridge and its logo, for `uvicorn carddav_bridge:app`."""
