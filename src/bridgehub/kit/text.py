"""Text the hub can store. PostgreSQL text cannot hold the NUL character, and a lone UTF-16
surrogate (`"\\udc80"`, which JSON's escapes can spell) is no character at all and cannot be
encoded: either would fail deep in a query, as a server error, after the request was
validated. So every string a request carries (path, query, JSON body, form) is checked once,
before any endpoint runs, and refused with the place it was found."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import Request

from bridgehub.kit.errors import InvalidInput, Problem
from bridgehub.kit.paths import format_path

Location = tuple[str | int, ...]


def unstorable(text: str) -> str | None:
    """Why `text` cannot be stored, or None when it can."""
    if "\x00" in text:
        return "must not contain the NUL character (U+0000)"
    if any("\ud800" <= character <= "\udfff" for character in text):
        return "must not contain a lone UTF-16 surrogate (U+D800 to U+DFFF)"
    return None


def json_problems(document: Any) -> Iterator[Problem]:
    """A problem for each string in a JSON document, key or value, that cannot be stored,
    in the document's order.

    Walked with a stack of its own, not by recursion: a document as deep as the JSON parser
    accepts would otherwise exhaust the interpreter's stack here."""
    # (where, what, whether it is a key); children are pushed last first, to pop in order.
    pending: list[tuple[Location, Any, bool]] = [((), document, False)]
    while pending:
        location, value, is_key = pending.pop()
        if isinstance(value, str):
            reason = unstorable(value)
            if reason is not None:
                yield Problem(format_path(location), f"a key {reason}" if is_key else reason)
        elif isinstance(value, list):
            children = [((*location, index), item, False) for index, item in enumerate(value)]
            pending.extend(reversed(children))
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                pending.extend((((*location, key), item, False), ((*location, key), key, True)))


def _pairs_problems(pairs: Iterable[tuple[str, Any]]) -> Iterator[Problem]:
    for name, value in pairs:
        if not isinstance(value, str):
            continue  # an uploaded file: its bytes are the endpoint's to judge
        reason = unstorable(name) or unstorable(value)
        if reason is not None:
            yield Problem(name, reason)


async def _body_problems(request: Request) -> list[Problem]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return list(_pairs_problems((await request.form()).multi_items()))
    body = await request.body()
    # Raw JSON text can carry neither (control characters are refused in JSON strings and
    # UTF-8 cannot encode a surrogate): only a \u escape can, so only such bodies are read.
    if b"\\u" not in body:
        return []
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return []  # not JSON: the endpoint's own reading says how
    return list(json_problems(document))


async def refuse_unstorable_text(request: Request) -> None:
    """A dependency of every route: InvalidInput naming each path parameter, query parameter
    or body field whose text the hub could not store."""
    problems = [
        *_pairs_problems(request.path_params.items()),
        *_pairs_problems(request.query_params.multi_items()),
        *await _body_problems(request),
    ]
    if problems:
        raise InvalidInput("The request holds text that cannot be stored.", problems)
