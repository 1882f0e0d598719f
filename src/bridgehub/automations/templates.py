"""Input templates of automations: `{{contact.name}}` and nothing else.

Deliberately not a template language: a template can only name a value of the event's
data, or what earlier executions of the same call logged
(`{{call.logged.<integration>.external_id}}`), so it can neither run code nor reach
anything outside that data.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from bridgehub.executions.models import Part

VARIABLES: dict[str, tuple[str, ...]] = {
    "contact": ("id", "external_id", "name", "company", "title", "email", "phone", "integration"),
    "call": (
        "id",
        "from",
        "to",
        "agent_email",
        "duration_seconds",
        "recording_url",
        "disposition",
        "notes",
    ),
    "agent": ("name", "email", "external_id"),
    "event": ("id", "type", "occurred_at"),
}
"""What templates may use, for documentation and forms as well as for checking."""

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}")
_NAME = re.compile(r"^\s*([a-z_]+)\.([a-z_]+)\s*$")
LOGGED = "{{call.logged.<integration>.external_id}}"
"""What an earlier execution of the call answered, by the integration it ran in."""
_LOGGED = re.compile(r"^\s*call\.logged\.([a-z0-9][a-z0-9_-]*)\.external_id\s*$")

Values = Mapping[str, Mapping[str, str]]


def problems(template: str) -> list[str]:
    """What is wrong with a template, in words; empty when it is usable."""
    found = []
    for match in _PLACEHOLDER.finditer(template):
        name = _NAME.match(match.group(1))
        known = name is not None and name.group(2) in VARIABLES.get(name.group(1), ())
        if not known and _LOGGED.match(match.group(1)) is None:
            found.append(
                f"{{{{{match.group(1).strip()}}}}} is not a variable; use one of {available()}"
            )
    leftover = _PLACEHOLDER.sub("", template)
    if "{{" in leftover or "}}" in leftover:
        found.append("has unbalanced braces")
    return found


def render(template: str, values: Values) -> str:
    """The template with each variable replaced by its value (empty when unknown), and
    what the call logged left empty."""
    return "".join(part for part in parts(template, values) if isinstance(part, str))


def parts(template: str, values: Values) -> list[Part]:
    """The template with each variable replaced by its value (empty when unknown), cut
    where it names what the call logged: that is only known when the action runs."""
    found: list[Part] = []
    end = 0
    for match in _PLACEHOLDER.finditer(template):
        found.append(template[end : match.start()])
        logged = _LOGGED.match(match.group(1))
        if logged is None:
            found.append(_value(match.group(1), values))
        else:
            found.append({"logged": logged.group(1)})
        end = match.end()
    found.append(template[end:])
    return [part for part in found if part != ""]


def logged_in(template: str) -> set[str]:
    """The integrations whose logged values the template names."""
    found = (_LOGGED.match(match.group(1)) for match in _PLACEHOLDER.finditer(template))
    return {logged.group(1) for logged in found if logged is not None}


def _value(placeholder: str, values: Values) -> str:
    name = _NAME.match(placeholder)
    if name is None:
        return ""
    return values.get(name.group(1), {}).get(name.group(2), "")


def available() -> str:
    variables = [
        f"{{{{{group}.{field}}}}}" for group, fields in VARIABLES.items() for field in fields
    ]
    return ", ".join([*variables, LOGGED])
