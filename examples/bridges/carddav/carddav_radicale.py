"""A real Radicale CardDAV server for the bridge's tests, the vCards they put in it, and the
bridge served with a transport that records what it asks the server.

Radicale runs as its own process on 127.0.0.1 with a temporary storage folder and an
htpasswd file; the address book is filled and changed over CardDAV (PUT), as a phone or a
desktop client would.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

import httpx
from carddav_bridge import CardDavBridge, Settings
from carddav_client import CARDDAV, DAV
from defusedxml import ElementTree

from bridgehub.bridge import GuardedTransport, NetworkPolicy
from bridgehub.demo.serving import serve
from bridgehub.sdk import Contact

USER = "jane"
PASSWORD = "app-password-1234"  # noqa: S105 (the test server's own user)
ADDRESS_BOOK = f"/{USER}/contacts/"
STARTUP_SECONDS = 30.0


@dataclass(frozen=True)
class Radicale:
    url: str
    storage: Path

    @property
    def addressbook_url(self) -> str:
        return self.url + ADDRESS_BOOK

    @property
    def fields(self) -> dict[str, str]:
        """What a person types to connect the address book."""
        return {"addressbook_url": self.addressbook_url, "username": USER, "password": PASSWORD}

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, auth=(USER, PASSWORD), timeout=30)

    def fill(self, cards: Sequence[SampleCard]) -> None:
        """Make the address book hold exactly `cards` (one PUT of the whole collection)."""
        content = "".join(card.vcard() for card in cards)
        with self.client() as http:
            answer = http.put(ADDRESS_BOOK, content=content, headers=_VCARD)
            assert answer.status_code in (201, 204), answer.text

    def put(self, card: SampleCard) -> None:
        """Add or replace one card, as a CardDAV client does."""
        with self.client() as http:
            answer = http.put(card.href, content=card.vcard(), headers=_VCARD)
            assert answer.status_code in (201, 204), answer.text

    def delete(self, card: SampleCard) -> None:
        with self.client() as http:
            assert http.delete(card.href).status_code in (200, 204)

    def forget_sync_tokens(self) -> None:
        """Drop every sync token the server remembers, as it does with old ones."""
        for token in self.storage.rglob(".Radicale.cache/sync-token/*"):
            token.unlink()


_VCARD = {"Content-Type": "text/vcard; charset=utf-8"}


@contextmanager
def run_radicale(folder: Path) -> Iterator[Radicale]:
    """Radicale serving from `folder` (storage, configuration, users) until the block ends."""
    storage = folder / "storage"
    users = folder / "users"
    users.write_text(f"{USER}:{PASSWORD}\n", encoding="utf-8")
    port = _free_port()
    config = folder / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n"
        f"[auth]\ntype = htpasswd\nhtpasswd_filename = {users}\nhtpasswd_encryption = plain\n"
        f"[storage]\nfilesystem_folder = {storage}\n"
        "[rights]\ntype = owner_only\n"
        "[logging]\nlevel = warning\n",
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "radicale", "--config", str(config)]
    log = (folder / "radicale.log").open("w")
    server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)  # noqa: S603 (fixed command)
    try:
        _wait_until_listening(server, port, folder / "radicale.log")
        yield Radicale(f"http://127.0.0.1:{port}", storage)
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_until_listening(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"Radicale stopped: {log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"Radicale did not start within {STARTUP_SECONDS:g} s")


# The vCards ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SampleCard:
    """A vCard to store, and the contact the bridge should make of it."""

    uid: str
    name: str
    """FN; empty for a card named only by N or ORG."""
    family: str = ""
    given: str = ""
    version: str = "3.0"
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    organization: str = ""
    title: str = ""
    photo: str = ""
    """PHOTO as a URI, as written."""
    street: str = ""
    city: str = ""
    code: str = ""
    country: str = ""
    urls: tuple[str, ...] = ()
    extra_lines: tuple[str, ...] = field(default=())

    @property
    def href(self) -> str:
        return f"{ADDRESS_BOOK}{self.uid}.vcf"

    def vcard(self) -> str:
        lines = ["BEGIN:VCARD", f"VERSION:{self.version}", f"UID:{self.uid}"]
        # vCard requires FN, but some clients leave it empty and rely on N or ORG.
        lines.append(f"FN:{_escaped(self.name)}")
        lines.append(f"N:{_escaped(self.family)};{_escaped(self.given)};;;")
        lines += [f"EMAIL;TYPE=INTERNET:{email}" for email in self.emails]
        lines += [self._tel(phone) for phone in self.phones]
        if self.organization:
            lines.append(f"ORG:{_escaped(self.organization)};Customer care")
        if self.title:
            lines.append(f"TITLE:{_escaped(self.title)}")
        if self.photo:
            lines.append(
                f"PHOTO;VALUE=uri:{self.photo}" if self.version == "3.0" else f"PHOTO:{self.photo}"
            )
        if self.street or self.city:
            parts = ("", "", self.street, self.city, "", self.code, self.country)
            lines.append("ADR;TYPE=WORK:" + ";".join(map(_escaped, parts)))
        lines += [f"URL:{url}" for url in self.urls]
        lines += self.extra_lines
        lines.append("END:VCARD")
        return "\r\n".join(lines) + "\r\n"

    def _tel(self, phone: str) -> str:
        if self.version == "4.0":
            return f"TEL;VALUE=uri;TYPE=cell:tel:{phone.replace(' ', '-')}"
        return f"TEL;TYPE=CELL:{phone}"

    def expected(self) -> Contact:
        """The contact the bridge should answer for this card."""
        name = self.name or " ".join(each for each in (self.given, self.family) if each)
        phones = tuple(p.replace(" ", "-") if self.version == "4.0" else p for p in self.phones)
        address_parts = (self.street, self.city, self.code, self.country)
        return Contact(
            id=f"{self.uid}.vcf",
            name=name or self.organization or next(iter(self.emails + phones), ""),
            company=self.organization or None,
            title=self.title or None,
            emails=self.emails,
            phones=phones,
            photo_url=self.photo if self.photo.startswith(("http://", "https://")) else None,
            address=", ".join(each for each in address_parts if each) or None,
            websites=self.urls,
        )


def _escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;").replace("\n", "\\n")


GIVEN = ("Zoë", "José", "Łukasz", "Ana", "Wei", "Søren", "Aïcha", "Noah", "Мария", "美咲", "Seán")
FAMILY = ("Ålander", "Muñoz", "Żółć", "Lima", "Chen", "Ørsted", "Benali", "O'Brien", "Иванова")
COMPANIES = ("Acme, Inc.", "Globex", "Initech; Ltd", "Umbrella GmbH", "Hooli")
TITLES = ("Support lead", "CTO", "Account manager", "Café owner")
CITIES = (("Springfield", "62701", "USA"), ("São Paulo", "01310-100", "Brasil"))


def sample_cards(count: int, seed: int = 7) -> list[SampleCard]:
    """`count` varied cards: unicode names, several phones and emails, vCard 3.0 and 4.0,
    fields missing, and a few made to test one rule each (the first ones)."""
    rng = random.Random(seed)  # noqa: S311 (reproducible test data, nothing secret)
    special = [
        SampleCard("photo-card", "Photo Person", photo="https://images.example/p/1.jpg"),
        SampleCard(
            "script-photo",
            "Script Photo",
            photo="javascript:alert(1)",
            urls=("https://ok.example/",),
            extra_lines=("URL:javascript:alert(2)",),
        ),
        SampleCard(
            "inline-photo",
            "Inline Photo",
            extra_lines=("PHOTO;ENCODING=b;TYPE=JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD/2w==",),
        ),
        SampleCard("n-only", "", family="Nakamura", given="Hiro"),
        SampleCard("org-only", "", organization="Lonely Org", emails=("desk@lonely.example",)),
        SampleCard("bare", "Just A Name"),
    ]
    cards = list(special)
    for index in range(count - len(special)):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        city, code, country = rng.choice(CITIES)
        slug = f"{index:04d}"
        has_address = rng.random() < 0.5
        cards.append(
            SampleCard(
                uid=f"contact-{slug}",
                name=f"{given} {family} {slug}",
                family=family,
                given=given,
                version=rng.choice(("3.0", "4.0")),
                emails=tuple(f"p{slug}.{n}@mail{n}.example" for n in range(rng.randint(0, 3))),
                phones=tuple(f"+1 415 555 {slug[-3:]}{n}" for n in range(rng.randint(0, 3))),
                organization=rng.choice(("", *COMPANIES)),
                title=rng.choice(("", *TITLES)),
                street=f"{index + 1} Main Street" if has_address else "",
                city=city if has_address else "",
                code=code if has_address else "",
                country=country if has_address else "",
                urls=tuple(f"https://site{n}.example/{slug}" for n in range(rng.randint(0, 2))),
            )
        )
    return cards


def edited(card: SampleCard, mark: str) -> SampleCard:
    """`card` with a new title and one more phone, as a person editing it would leave it."""
    return replace(card, title=f"Edited {mark}", phones=(*card.phones, "+44 20 7946 0018"))


# What the bridge asks the server -------------------------------------------------------


@dataclass(frozen=True)
class Sent:
    method: str
    body: bytes


class RecordingTransport(httpx.AsyncBaseTransport):
    """Passes every request on to `inner`, keeping its method and body."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(Sent(request.method, await request.aread()))
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()

    def reports(self, name: str) -> list[Element]:
        """The bodies of the REPORT requests called `name` (in the DAV: or CardDAV
        namespace), read as XML."""
        bodies = (
            ElementTree.fromstring(each.body) for each in self.sent if each.method == "REPORT"
        )
        return [body for body in bodies if body.tag in (f"{{{DAV}}}{name}", f"{{{CARDDAV}}}{name}")]

    def fetched_cards(self) -> list[str]:
        """The hrefs the addressbook-multiget requests asked for, in order."""
        return [
            href.text or ""
            for report in self.reports("addressbook-multiget")
            for href in report.iter(f"{{{DAV}}}href")
        ]


# The bridge served -----------------------------------------------------------------------


@dataclass
class Served:
    url: str
    recorder: RecordingTransport

    def post(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return httpx.post(self.url + path, json=body, timeout=60)

    def sync(self, auth: dict[str, str], checkpoint: str | None = None) -> Run:
        """A whole contact sync run, from `checkpoint`, as the hub makes it."""
        contacts: list[Contact] = []
        deleted: list[str] = []
        pages = 0
        offset: str | None = None
        while True:
            meta = {"synchronization_checkpoint": checkpoint, "offset": offset}
            answer = self.post("/contact_sync", {"auth": auth, "meta": meta})
            assert answer.status_code == 200, answer.text
            page = answer.json()
            pages += 1
            contacts += [Contact.model_validate(each) for each in page["contacts"]]
            deleted += page.get("deleted_contacts", [])
            offset = page.get("next_offset")
            if offset is None:
                return Run(contacts, page["synchronization_checkpoint"], pages, deleted)


@dataclass(frozen=True)
class Run:
    contacts: list[Contact]
    checkpoint: str
    pages: int
    deleted: list[str]
    """The ids of `deleted_contacts`, every page's."""

    def by_id(self) -> dict[str, Contact]:
        found = {contact.id: contact for contact in self.contacts}
        assert len(found) == len(self.contacts), "a contact came twice"
        return found


@contextmanager
def serving_bridge(settings: Settings) -> Iterator[Served]:
    """The bridge served by uvicorn on 127.0.0.1, recording what it asks CardDAV servers;
    where `settings` allow private networks, plain HTTP is allowed too (Radicale here
    speaks it on 127.0.0.1)."""
    allowed = settings.allow_private_networks
    policy = NetworkPolicy(allow_private_networks=allowed, allow_http=allowed)
    recorder = RecordingTransport(GuardedTransport(policy))
    with serve(CardDavBridge(settings, recorder).app) as url:
        yield Served(url, recorder)
