"""vCards (3.0 and 4.0, as CardDAV servers store them) read into the protocol's contacts."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

import vobject
from vobject.base import ContentLine, ParseError

from bridgehub.sdk import Contact

log = logging.getLogger("carddav.vcard")

WEB_SCHEMES = ("http", "https")
UNNAMED = "Unnamed contact"
_HOST_LIKE = re.compile(r"^[\w-]+(\.[\w-]+)+(:\d+)?(/\S*)?$")
"""A web address written without its scheme, as address books often keep them."""


class _WithoutCardText(logging.Filter):
    """vobject logs each line it skips with the line's text, which is personal data."""

    def filter(self, record: logging.LogRecord) -> bool:
        if str(record.msg).startswith("Skipped line"):
            record.msg, record.args = "Skipped an unreadable vCard line", ()
        return True


logging.getLogger("vobject.base").addFilter(_WithoutCardText())


class UnreadableCard(ValueError):
    """The text is not a vCard vobject can read."""


def read_contact(contact_id: str, text: str) -> Contact:
    """The contact a vCard describes. Raises `UnreadableCard` when it is no vCard."""
    card = _parse(text)
    emails = _unique(_without_prefix(value, "mailto:") for value in _texts(card, "email"))
    phones = _unique(_phone(value) for value in _texts(card, "tel"))
    organization = _organization(card)
    return Contact(
        id=contact_id,
        name=_name(card) or organization or next(iter(emails + phones), UNNAMED),
        company=organization,
        title=next(iter(_texts(card, "title")), None),
        emails=emails,
        phones=phones,
        photo_url=next((url for url in _photo_urls(card) if _is_web_url(url)), None),
        address=next((text for text in map(_address, _lines(card, "adr")) if text), None),
        websites=_unique(url for url in map(_website, _texts(card, "url")) if url),
    )


def _parse(text: str) -> Any:
    try:
        # Quoted-printable and unreadable lines come from old phones' exports: the rest of
        # such a card is still worth having.
        card = vobject.readOne(text, ignoreUnreadable=True, allowQP=True)
    except (ParseError, ValueError, UnicodeError, StopIteration) as error:
        # Only the kind of problem: vobject's messages quote the card's lines.
        raise UnreadableCard(type(error).__name__) from None
    if getattr(card, "name", None) != "VCARD":
        raise UnreadableCard("the resource holds no VCARD")
    return card


def _lines(card: Any, name: str) -> list[ContentLine]:
    """The card's properties called `name`, preferred ones first (vCard 3 TYPE=pref,
    vCard 4 PREF=1)."""
    found: list[ContentLine] = card.contents.get(name, [])
    return sorted(found, key=lambda line: not _is_preferred(line))


def _is_preferred(line: ContentLine) -> bool:
    types = [str(each).lower() for each in line.params.get("TYPE", [])]
    return "pref" in types or "1" in line.params.get("PREF", [])


def _texts(card: Any, name: str) -> list[str]:
    values = (line.value for line in _lines(card, name))
    return [text for text in (_text(value) for value in values) if text]


def _text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(text for text in map(_text, value) if text)
    return value.strip() if isinstance(value, str) else ""


def _name(card: Any) -> str:
    formatted = next(iter(_texts(card, "fn")), "")
    if formatted:
        return formatted
    for line in _lines(card, "n"):
        parts = (line.value.prefix, line.value.given, line.value.additional, line.value.family)
        composed = " ".join(text for text in map(_text, parts) if text)
        if composed:
            return composed
    return ""


def _organization(card: Any) -> str | None:
    for line in _lines(card, "org"):
        # ORG is the organization's name followed by its units: the name is the company.
        units = line.value if isinstance(line.value, list) else [line.value]
        name = _text(units[0]) if units else ""
        if name:
            return name
    return None


def _phone(value: str) -> str:
    # vCard 4 may write TEL as a tel: URI with parameters (`tel:+1-555-0100;ext=12`).
    if value.lower().startswith("tel:"):
        return value[len("tel:") :].split(";", 1)[0].strip()
    return value


def _photo_urls(card: Any) -> Iterable[str]:
    # Inline photos (vCard 3 ENCODING=b, vCard 4 data: URIs) are bytes, not addresses.
    return (line.value.strip() for line in _lines(card, "photo") if isinstance(line.value, str))


def _website(value: str) -> str | None:
    if _is_web_url(value):
        return value
    if _HOST_LIKE.match(value):
        return f"https://{value}"
    return None


def _is_web_url(value: str) -> bool:
    if any(character.isspace() or not character.isprintable() for character in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme.lower() in WEB_SCHEMES and bool(parts.hostname)


def _address(line: ContentLine) -> str:
    address = line.value
    if not hasattr(address, "street"):
        return _text(address)
    region = " ".join(text for text in (_text(address.region), _text(address.code)) if text)
    parts = (address.box, address.extended, address.street, address.city, region, address.country)
    # Street lines may hold line breaks; the protocol's address is one line.
    return ", ".join(" ".join(_text(part).split()) for part in parts if _text(part))


def _without_prefix(value: str, prefix: str) -> str:
    return value[len(prefix) :].strip() if value.lower().startswith(prefix) else value


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    """Each value once (compared without case), in order, blanks left out."""
    seen: set[str] = set()
    kept: list[str] = []
    for value in values:
        if value and value.casefold() not in seen:
            seen.add(value.casefold())
            kept.append(value)
    return tuple(kept)


def read_contacts(cards: Sequence[tuple[str, str]]) -> list[Contact]:
    """The contacts of `(id, vCard text)` pairs; a card that cannot be read is logged, by
    its id only (its text is personal data), and left out."""
    contacts: list[Contact] = []
    for contact_id, text in cards:
        try:
            contacts.append(read_contact(contact_id, text))
        except UnreadableCard as error:
            log.warning("Left out the vCard %s, which cannot be read: %s", contact_id, error)
    return contacts
