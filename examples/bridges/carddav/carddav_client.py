"""The CardDAV side of the bridge: WebDAV requests to one address book, over httpx.

Three requests do all the work: PROPFIND (is this an address book, does it support
sync), the RFC 6578 sync-collection REPORT (which cards changed since a sync token) and
the RFC 6352 addressbook-multiget REPORT (those cards' vCards, a batch at a time).

Failures become what the bridge protocol says about them: a server refusing the
credentials, or a URL that is no address book, is `CredentialsRejected` (the person has
to fix what they typed); a server that cannot be reached, times out, is overloaded or
fails is `TemporarilyUnavailable`; a sync token the server has forgotten is
`CheckpointExpired`, since only a full sync can follow.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urljoin, urlsplit
from xml.etree.ElementTree import Element, SubElement, tostring

import httpx
from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from bridgehub.bridge import BridgeUnavailable, TargetRefused
from bridgehub.sdk import (
    CheckpointExpired,
    CredentialsRejected,
    TemporarilyUnavailable,
    retry_after_seconds,
)

DAV = "DAV:"
CARDDAV = "urn:ietf:params:xml:ns:carddav"
MULTI_STATUS = 207


def _tag(namespace: str, name: str) -> str:
    return f"{{{namespace}}}{name}"


class UnexpectedAnswer(RuntimeError):
    """The server answered something CardDAV does not allow; a bug on one side or the other."""


@dataclass(frozen=True)
class Member:
    """A card of the address book, as a listing names it."""

    href: str
    """As the server wrote it: sent back as is."""
    path: str
    """The decoded path, which identifies the card whichever way the server encodes it."""

    @property
    def name(self) -> str:
        """The card's resource name, unique within its address book."""
        return self.path.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Listing:
    """What changed since a sync token, and the token that stands for now."""

    sync_token: str
    changed: tuple[Member, ...]
    """Added or changed cards, ordered by path."""
    deleted: tuple[Member, ...]
    """Cards deleted since the token, ordered by path; none in a listing of every card."""


@dataclass(frozen=True)
class Card:
    member: Member
    vcard: str


class AddressBook:
    """One CardDAV address book reached with one user's credentials."""

    def __init__(self, http: httpx.AsyncClient, url: str, username: str, password: str) -> None:
        if urlsplit(url).scheme.lower() not in ("http", "https") or not urlsplit(url).hostname:
            raise CredentialsRejected("The address book URL must be an https:// URL.")
        # Collections' URLs end with a slash; without it servers redirect or answer 404.
        self.url = url if url.endswith("/") else url + "/"
        self.username = username
        self.password_digest = hashlib.sha256(password.encode()).hexdigest()
        """Tells credentials apart without keeping the password itself around."""
        self._http = http
        self._auth = httpx.BasicAuth(username, password)

    async def check(self) -> None:
        """Raise `CredentialsRejected` unless the credentials open an address book that
        supports incremental sync."""
        body = _document("propfind", [_tag(DAV, "resourcetype"), _tag(DAV, "sync-token")])
        answer = await self._request("PROPFIND", body, depth="0")
        found = _properties(answer, self.url)
        resource_type = found.find(_tag(DAV, "resourcetype"))
        if resource_type is None or resource_type.find(_tag(CARDDAV, "addressbook")) is None:
            raise CredentialsRejected(
                "This URL is not a CardDAV address book; give the URL of the address book "
                "itself (see the bridge's README for where each server shows it)."
            )
        if not (found.findtext(_tag(DAV, "sync-token")) or "").strip():
            raise CredentialsRejected(
                "This CardDAV server does not support WebDAV sync (RFC 6578), which the "
                "bridge needs to sync contacts."
            )

    async def changes(self, since: str | None) -> Listing:
        """The cards added, changed or deleted since the sync token `since`; every card
        when None. Raises `CheckpointExpired` when the server no longer knows `since`."""
        body = Element(_tag(DAV, "sync-collection"))
        SubElement(body, _tag(DAV, "sync-token")).text = since or ""
        SubElement(body, _tag(DAV, "sync-level")).text = "1"
        SubElement(SubElement(body, _tag(DAV, "prop")), _tag(DAV, "getetag"))
        answer = await self._request("REPORT", tostring(body), depth="0", token_sent=since)
        token = (answer.findtext(_tag(DAV, "sync-token")) or "").strip()
        if not token:
            raise UnexpectedAnswer("The sync-collection answer has no sync-token.")
        changed: dict[str, Member] = {}
        deleted: dict[str, Member] = {}
        for response in answer.iter(_tag(DAV, "response")):
            member = self._member(response)
            if member is None:
                continue
            # Changed cards come with their properties; a response with a status of its own
            # names a deleted card (404) or, with any other status, one the user may not read.
            status = response.findtext(_tag(DAV, "status"))
            if status is None:
                changed[member.path] = member
            elif _status_code(status) == "404":
                deleted[member.path] = member
        return Listing(token, _by_path(changed), _by_path(deleted))

    async def cards(self, members: Sequence[Member]) -> list[Card]:
        """The vCards of `members`, in their order; those deleted meanwhile left out."""
        if not members:
            return []
        body = Element(_tag(CARDDAV, "addressbook-multiget"))
        properties = SubElement(body, _tag(DAV, "prop"))
        SubElement(properties, _tag(DAV, "getetag"))
        SubElement(properties, _tag(CARDDAV, "address-data"))
        for wanted in members:
            SubElement(body, _tag(DAV, "href")).text = wanted.href
        answer = await self._request("REPORT", tostring(body), depth="0")
        vcards: dict[str, str] = {}
        for response in answer.iter(_tag(DAV, "response")):
            member = self._member(response)
            for propstat in response.iter(_tag(DAV, "propstat")):
                data = propstat.findtext(f"{_tag(DAV, 'prop')}/{_tag(CARDDAV, 'address-data')}")
                if member is not None and data and _succeeded(propstat):
                    vcards[member.path] = data
        return [Card(each, vcards[each.path]) for each in members if each.path in vcards]

    def _member(self, response: Element) -> Member | None:
        href = (response.findtext(_tag(DAV, "href")) or "").strip()
        path = unquote(urlsplit(urljoin(self.url, href)).path)
        if not href or path.endswith("/"):
            return None  # the collection itself, or one inside it: not a card
        return Member(href, path)

    async def _request(
        self, method: str, body: bytes, *, depth: str, token_sent: str | None = None
    ) -> Element:
        headers = {"Depth": depth, "Content-Type": "application/xml; charset=utf-8"}
        try:
            response = await self._http.request(
                method, self.url, content=body, headers=headers, auth=self._auth
            )
        except TargetRefused:
            raise CredentialsRejected(
                "The address book URL leads to a private or local network address, or uses "
                "plain http://, which this bridge is not allowed to reach."
            ) from None
        except (BridgeUnavailable, httpx.TransportError):
            raise TemporarilyUnavailable("The CardDAV server cannot be reached.") from None
        if response.status_code == MULTI_STATUS:
            return _xml(response.content)
        if token_sent and _refuses_sync_token(response):
            raise CheckpointExpired(
                "The CardDAV server no longer knows the sync token of this checkpoint."
            )
        raise _failure(response)


def _document(root: str, properties: Sequence[str]) -> bytes:
    element = Element(_tag(DAV, root))
    prop = SubElement(element, _tag(DAV, "prop"))
    for name in properties:
        SubElement(prop, name)
    return tostring(element)


def _properties(answer: Element, url: str) -> Element:
    """The properties the server found for the PROPFIND's own resource."""
    for response in answer.iter(_tag(DAV, "response")):
        for propstat in response.iter(_tag(DAV, "propstat")):
            found = propstat.find(_tag(DAV, "prop"))
            if found is not None and _succeeded(propstat):
                return found
    raise CredentialsRejected(f"The server at {urlsplit(url).hostname} is not a CardDAV server.")


def _succeeded(propstat: Element) -> bool:
    return _status_code(propstat.findtext(_tag(DAV, "status")) or "") == "200"


def _status_code(status_line: str) -> str:
    """The code of a WebDAV status line (`HTTP/1.1 404 Not Found`); "" when there is none."""
    parts = status_line.split()
    return parts[1] if len(parts) >= 2 else ""


def _by_path(members: dict[str, Member]) -> tuple[Member, ...]:
    return tuple(sorted(members.values(), key=lambda each: each.path))


def _xml(content: bytes) -> Element:
    try:
        root: Element = ElementTree.fromstring(content)
    except (ElementTree.ParseError, DefusedXmlException):
        raise UnexpectedAnswer("The server's multi-status answer is not valid XML.") from None
    if root.tag != _tag(DAV, "multistatus"):
        raise UnexpectedAnswer("The server's multi-status answer is not a DAV:multistatus.")
    return root


def _refuses_sync_token(response: httpx.Response) -> bool:
    # RFC 6578 says 403 or 409 with the precondition; some servers send it with 400.
    if response.status_code not in (400, 403, 409, 412):
        return False
    try:
        error = ElementTree.fromstring(response.content)
    except (ElementTree.ParseError, DefusedXmlException):
        return False
    return error.find(f".//{_tag(DAV, 'valid-sync-token')}") is not None


def _failure(response: httpx.Response) -> Exception:
    status = response.status_code
    if status == 401:
        return CredentialsRejected("The CardDAV server refused this username and password.")
    if status == 403:
        return CredentialsRejected("The CardDAV server does not let this user read this URL.")
    if 300 <= status < 400:
        location = response.headers.get("Location")
        elsewhere = f" to {location}" if location else " elsewhere"
        return CredentialsRejected(
            f"The server redirects this URL{elsewhere}: give the address book's own URL."
        )
    if status in (404, 405, 410, 501):
        return CredentialsRejected(
            f"There is no CardDAV address book at this URL (the server answered {status})."
        )
    if status == 429 or status >= 500:
        return TemporarilyUnavailable(
            f"The CardDAV server is unavailable (it answered {status}).",
            retry_after=retry_after_seconds(response.headers.get("Retry-After")),
        )
    return UnexpectedAnswer(f"The CardDAV server answered {status}.")
