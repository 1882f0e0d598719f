"""A fake CRM bridge for the benchmarks: N deterministic contacts, made up on the fly.

    .venv/bin/python bench/crm.py --contacts 100000     # serve it alone; prints its URL

`bench/sync.py` starts it in a subprocess (so that making pages up never competes with the
hub for the hub's interpreter), and `bench/lookup.py` uses `contact()` and `phones_of()`
to load the same contacts and to ask for their numbers written another way.

Contact `i` (0 <= i < N) is a pure function of `i`: the same every run and every process,
so a second sync sees exactly the same content. Each has an id (a JSON number, as many
CRMs send them), a name, a company, sometimes a title, 1-3 e-mail addresses and 1-3
phone numbers of ten countries written in the ways CRMs hold them: E.164 (about a third),
international with spaces, dots or dashes, with `00`/`001`, `tel:` URIs, US national
writings with and without `1-`, `(0)` trunk prefixes, extensions, and a few foreign
national writings and placeholders (`n/a`) that a US account cannot read as a whole
number. Contacts come by companies of 64, and one in ten has its company's switchboard as
first phone, so some numbers repeat (about six times), as they do in real address books.

The bridge speaks section 2 of docs/bridge-protocol.md: pages of `--page-size` contacts,
opaque offsets, and a checkpoint on the last page. Asked with that checkpoint, it answers
that nothing changed (an empty page); the contacts never change.
"""

from __future__ import annotations

import argparse
import base64
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.types import Message, Receive, Scope, Send

PAGE_SIZE = 1_000
DEFAULT_CONTACTS = 1_000_000

_MASK = (1 << 64) - 1


def _mix(value: int) -> int:
    """splitmix64: a well-spread 64-bit hash of an integer."""
    z = (value + 0x9E3779B97F4A7C15) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
    return z ^ (z >> 31)


def _digits(seed: int, count: int) -> str:
    return str(_mix(seed) % 10**count).zfill(count)


# Phone numbers ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    """A kind of number of a country: how its national significant number starts and is
    grouped when written, and the country's trunk prefix (dialled before it nationally)."""

    country_code: str
    prefixes: tuple[str, ...]
    groups: tuple[int, ...]
    trunk: str


_US_AREA_CODES = (
    "212", "213", "206", "305", "312", "303", "404", "415", "469", "503", "512", "602",
    "617", "646", "702", "713", "718", "720", "773", "818", "917", "919", "971", "978",
)  # fmt: skip

_US = _Plan("1", _US_AREA_CODES, (3, 3, 4), "1")

# (plan, weight): the account is American, so half of the numbers are too.
_PLANS: tuple[tuple[_Plan, int], ...] = (
    (_US, 50),
    (_Plan("44", ("207", "208", "203"), (2, 4, 4), "0"), 5),  # London
    (_Plan("44", ("74", "75", "77", "78", "79"), (4, 6), "0"), 5),  # UK mobiles
    (_Plan("33", ("1", "2", "3", "4", "5", "6", "7"), (1, 2, 2, 2, 2), "0"), 5),
    (_Plan("49", ("30", "40", "89"), (2, 8), "0"), 3),
    (_Plan("49", ("151", "160", "170", "176"), (3, 8), "0"), 2),
    (_Plan("351", ("21", "22", "91", "93", "96"), (3, 3, 3), ""), 4),
    (_Plan("34", ("91", "93", "61", "62", "65"), (3, 3, 3), ""), 4),
    (_Plan("55", ("119", "219", "319"), (2, 5, 4), "0"), 5),
    (_Plan("91", ("98", "97", "99", "88"), (5, 5), "0"), 5),
    (_Plan("61", ("2", "3", "7", "8", "4"), (1, 4, 4), "0"), 4),
    (_Plan("81", ("3", "6"), (1, 4, 4), "0"), 3),
)
_PLAN_TABLE: tuple[_Plan, ...] = tuple(plan for plan, weight in _PLANS for _ in range(weight))


def _national(plan: _Plan, spread: int) -> str:
    prefix = plan.prefixes[(spread >> 40) % len(plan.prefixes)]
    rest = sum(plan.groups) - len(prefix)
    digits = _digits(spread, rest)
    if plan is _US:  # an exchange never starts with 0 or 1 in the North American plan
        digits = str(2 + int(digits[0]) % 8) + digits[1:]
    return prefix + digits


def _grouped(plan: _Plan, national: str, separator: str = " ") -> str:
    parts, at = [], 0
    for size in plan.groups:
        parts.append(national[at : at + size])
        at += size
    return separator.join(parts)


Writer = Callable[[_Plan, str], str]


def _e164(plan: _Plan, national: str) -> str:
    return f"+{plan.country_code}{national}"


def _spaced(plan: _Plan, national: str) -> str:
    return f"+{plan.country_code} {_grouped(plan, national)}"


def _dashed(plan: _Plan, national: str) -> str:
    return f"+{plan.country_code}-{_grouped(plan, national, '-')}"


def _dotted(plan: _Plan, national: str) -> str:
    return f"+{plan.country_code} {_grouped(plan, national, '.')}"


def _idd(plan: _Plan, national: str) -> str:
    return f"00{plan.country_code} {_grouped(plan, national)}"


def _tel(plan: _Plan, national: str) -> str:
    return f"tel:+{plan.country_code}-{_grouped(plan, national, '-')}"


def _trunk_in_brackets(plan: _Plan, national: str) -> str:
    if not plan.trunk or plan is _US:
        return _spaced(plan, national)
    return f"+{plan.country_code} ({plan.trunk}){_grouped(plan, national)}"


def _national_writing(plan: _Plan, national: str) -> str:
    """As written in its own country: read in a US account, a foreign one has no E.164."""
    if plan is _US:
        return f"({national[:3]}) {national[3:6]}-{national[6:]}"
    return plan.trunk + _grouped(plan, national)


def _with_extension(plan: _Plan, national: str) -> str:
    return f"{_spaced(plan, national)} ext. {int(national[-2:]) + 10}"


def _us_dashes(plan: _Plan, national: str) -> str:
    if plan is not _US:
        return _spaced(plan, national)
    return f"{national[:3]}-{national[3:6]}-{national[6:]}"


def _us_one_dashes(plan: _Plan, national: str) -> str:
    if plan is not _US:
        return _dashed(plan, national)
    return f"1-{national[:3]}-{national[3:6]}-{national[6:]}"


def _us_brackets(plan: _Plan, national: str) -> str:
    if plan is not _US:
        return _idd(plan, national)
    return f"+1 ({national[:3]}) {national[3:6]}-{national[6:]}"


# (writer, weight)
_WRITERS: tuple[tuple[Writer, int], ...] = (
    (_e164, 34),
    (_spaced, 14),
    (_dashed, 4),
    (_dotted, 4),
    (_idd, 5),
    (_tel, 3),
    (_trunk_in_brackets, 3),
    (_national_writing, 12),
    (_with_extension, 3),
    (_us_dashes, 8),
    (_us_one_dashes, 4),
    (_us_brackets, 6),
)
_WRITER_TABLE: tuple[Writer, ...] = tuple(w for w, weight in _WRITERS for _ in range(weight))

_PLACEHOLDERS = ("n/a", "-", "0000000000", "unknown")


def _number(seed: int) -> tuple[_Plan, str, int]:
    spread = _mix(seed)
    plan = _PLAN_TABLE[spread % len(_PLAN_TABLE)]
    return plan, _national(plan, spread), spread


def phone_number(seed: int) -> tuple[str, str]:
    """A number made from `seed`: (its E.164, how it is written)."""
    plan, national, spread = _number(seed)
    writer = _WRITER_TABLE[(spread >> 20) % len(_WRITER_TABLE)]
    return _e164(plan, national), writer(plan, national)


_ALL_WRITERS: tuple[Writer, ...] = tuple(w for w, _ in _WRITERS)


def rewritten(seed: int, variant: int) -> str:
    """The number of `seed` written in the `variant`-th way (any, modulo the count)."""
    plan, national, _ = _number(seed)
    return _ALL_WRITERS[variant % len(_ALL_WRITERS)](plan, national)


def phone_seeds(i: int) -> list[int]:
    """The seeds of contact `i`'s numbers (see `phone_number`), in its order."""
    h = _mix(i)
    count = 1 + (h >> 8) % 3
    seeds = [(i << 2) + k + 1 for k in range(count)]
    if (h >> 16) % 10 == 0:  # the company's switchboard first
        seeds[0] = -1 - _company_index(i)
    return seeds


def phones_of(i: int) -> list[str]:
    h = _mix(i)
    written = [phone_number(seed)[1] for seed in phone_seeds(i)]
    if (h >> 24) % 100 == 0:
        written.append(_PLACEHOLDERS[(h >> 32) % len(_PLACEHOLDERS)])
    return written


# Contacts --------------------------------------------------------------------------------

_FIRST = (
    "Jane", "John", "Ana", "João", "Maria", "Li", "Wei", "Fatima", "Olivia", "Liam", "Emma",
    "Noah", "Sophie", "Lukas", "Chloé", "Hugo", "Aarav", "Priya", "Yuki", "Haruto", "Lucas",
    "Gabriel", "Isabella", "Mateo", "Zoë", "Søren", "Ingrid", "Omar", "Amelia", "Jack",
    "Charlotte", "Ethan", "Mia", "Leon", "Elena", "Diego", "Sara", "Tomás", "Nora", "Ali",
)  # fmt: skip
_LAST = (
    "Doe", "Roe", "Silva", "Santos", "Smith", "Johnson", "Müller", "Schmidt", "Martin",
    "Bernard", "García", "Fernández", "Kumar", "Sharma", "Sato", "Suzuki", "Wang", "Li",
    "Brown", "Taylor", "Wilson", "Dubois", "Rossi", "Costa", "Pereira", "Nakamura",
    "O'Brien", "Kowalski", "Novak", "Jensen", "Andersen", "Lopez", "Gonzalez", "Lee", "Kim",
)  # fmt: skip
_COMPANY_WORDS = (
    "Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Hooli", "Vandelay",
    "Soylent", "Tyrell", "Cyberdyne", "Aperture", "Wonka", "Gringotts", "Oscorp", "Massive",
    "Dynamic", "Northwind", "Contoso", "Fabrikam",
)  # fmt: skip
_COMPANY_KINDS = ("Corp.", "Inc.", "Ltd", "GmbH", "S.A.", "Lda", "LLC", "Group", "Labs", "KK")
_TITLES = ("CTO", "CEO", "Buyer", "Head of Support", "Account Manager", "Engineer", "Director")
_PEOPLE_PER_COMPANY = 64
"""Contacts come in blocks of one company each, so that a switchboard is shared by a few
contacts (about six) whatever N is."""


def _company_index(i: int) -> int:
    return i // _PEOPLE_PER_COMPANY


def _company(index: int) -> tuple[str, str]:
    h = _mix(-index)
    word = _COMPANY_WORDS[h % len(_COMPANY_WORDS)]
    kind = _COMPANY_KINDS[(h >> 8) % len(_COMPANY_KINDS)]
    domain = f"{word.lower()}{index}.example"
    return f"{word} {kind}", domain


def contact(i: int) -> dict[str, Any]:
    """Contact number `i`, as the bridge sends it."""
    h = _mix(i)
    first = _FIRST[h % len(_FIRST)]
    last = _LAST[(h >> 6) % len(_LAST)]
    company, domain = _company(_company_index(i))
    local = f"{first}.{last}".lower().replace("'", "")
    emails = [f"{local}.{i}@{domain}"]
    if (h >> 12) % 3 == 0:
        emails.append(f"{first[0]}{last}{i}@mail.example".upper())  # typed in capitals
    if (h >> 14) % 7 == 0:
        emails.append(f" {local}{i}@home.example ")
    item: dict[str, Any] = {
        "id": i + 1,
        "name": f"{first} {last}",
        "company": company,
        "emails": emails,
        "phones": phones_of(i),
    }
    if (h >> 18) % 2 == 0:
        item["title"] = _TITLES[(h >> 20) % len(_TITLES)]
    if (h >> 28) % 10 == 0:
        item["websites"] = [f"https://www.{domain}"]
    return item


def contacts(start: int, stop: int) -> list[dict[str, Any]]:
    return [contact(i) for i in range(start, stop)]


# The bridge ------------------------------------------------------------------------------


def _offset(start: int) -> str:
    return base64.urlsafe_b64encode(f"after:{start}".encode()).decode().rstrip("=")


def _start(offset: str) -> int:
    padded = offset + "=" * (-len(offset) % 4)
    return int(base64.urlsafe_b64decode(padded).decode().removeprefix("after:"))


def _checkpoint(count: int) -> str:
    return f"seq-{count}"


def contact_page(count: int, page_size: int, meta: dict[str, Any]) -> dict[str, Any]:
    """The answer to a contact synchronization request with `meta`."""
    checkpoint = meta.get("synchronization_checkpoint")
    offset = meta.get("offset")
    if offset is not None:
        start = _start(offset)
    elif checkpoint is not None:  # contacts changed since then: they never change
        start = int(str(checkpoint).removeprefix("seq-"))
    else:
        start = 0
    stop = min(start + page_size, count)
    page: dict[str, Any] = {"contacts": contacts(start, stop)}
    if stop < count:
        page["next_offset"] = _offset(stop)
    else:
        page["synchronization_checkpoint"] = _checkpoint(count)
    return page


class Bridge:
    """A bare ASGI app (no framework: it should cost next to nothing besides its pages)."""

    def __init__(self, count: int, page_size: int = PAGE_SIZE) -> None:
        self.count = count
        self.page_size = page_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = await _body(receive)
        if scope["path"] == "/contact_sync" and scope["method"] == "POST":
            meta = (json.loads(body or b"{}").get("meta")) or {}
            await _json(send, 200, contact_page(self.count, self.page_size, meta))
        elif scope["path"] == "/auth_validation" and scope["method"] == "POST":
            await _json(send, 200, {})
        else:
            await _json(send, 404, {"message": "not found"})


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    more = True
    while more:
        message: Message = await receive()
        chunks.append(message.get("body", b""))
        more = message.get("more_body", False)
    return b"".join(chunks)


async def _json(send: Send, status: int, document: Any) -> None:
    content = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(content))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": content})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=DEFAULT_CONTACTS)
    parser.add_argument("--page-size", type=int, default=PAGE_SIZE)
    options = parser.parse_args(argv)
    from bridgehub.demo.serving import serve

    with serve(Bridge(options.contacts, options.page_size)) as url:
        print(url, flush=True)
        # Serves until its standard input closes (the benchmark that started it ended).
        sys.stdin.read()


if __name__ == "__main__":
    main()
