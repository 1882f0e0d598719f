"""Input templates of automations: `{{contact.name}}` and nothing else.

Deliberately not a template language: a template can only name a value of the event's
data, so it can neither run code nor reach anything outside that data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

VARIABLES: dict[str, tuple[str, ...]] = {
    "contact": ("id", "external_id", "name", "company", "title", "email", "phone", "integration"),
    "call": ("from", "to", "agent_email", "duration_seconds"),
    "agent": ("name", "email", "external_id"),
    "event": ("id", "type", "occurred_at"),
}
"""What templates may use, for documentation and forms as well as for checking."""

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_NAME = re.compile(r"^\s*([a-z_]+)\.([a-z_]+)\s*$")

Values = Mapping[str, Mapping[str, str]]


def problems(template: str) -> list[str]:
    """What is wrong with a template, in words; empty when it is usable."""
    found = []
    for match in _PLACEHOLDER.finditer(template):
        name = _NAME.match(match.group(1))
        if name is None or name.group(2) not in VARIABLES.get(name.group(1), ()):
            found.append(
                f"{{{{{match.group(1).strip()}}}}} is not a variable; use one of {available()}"
            )
    leftover = _PLACEHOLDER.sub("", template)
    if "{{" in leftover or "}}" in leftover:
        found.append("has unbalanced braces")
    return found


def render(template: str, values: Values) -> str:
    """The template with each variable replaced by its value (empty when unknown)."""

    def value(match: re.Match[str]) -> str:
        name = _NAME.match(match.group(1))
        if name is None:
            return ""
        return values.get(name.group(1), {}).get(name.group(2), "")

    return _PLACEHOLDER.sub(value, template)


def available() -> str:
    return ", ".join(
        f"{{{{{group}.{field}}}}}" for group, fields in VARIABLES.items() for field in fields
    )
