"""Paths that point into a JSON document, written the way people read them."""

from __future__ import annotations

import re
from collections.abc import Iterable

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(location: Iterable[str | int]) -> str:
    """Render `("authentication_configuration", 1, "email", "mandatory")` as
    `authentication_configuration[1].email.mandatory`.

    Keys that would be ambiguous after a dot (spaces, dots, brackets) are quoted:
    `authentication_configuration[0]["api key"]`.
    """
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            path += f".{part}" if path else part
        else:
            path += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return path


def describe_value(value: object) -> str:
    """A short description of a JSON value for error messages: `"yes" (a string)`."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{'true' if value else 'false'} (a boolean)"
    if isinstance(value, int | float):
        return f"{value} (a number)"
    if isinstance(value, str):
        shown = value if len(value) <= 60 else value[:57] + "..."
        return f'"{shown}" (a string)'
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "a value JSON cannot hold"
