"""Input templates of automations: `{{contact.name}}`, with fallbacks, and nothing else.

Deliberately not a template language: a template can only name a value of the event's
data, or what earlier executions of the same call logged
(`{{call.logged.<integration>.external_id}}`), so it can neither run code nor reach
anything outside that data.

A placeholder may list alternatives separated by `|`: the first that is not empty is
used, and a quoted text may end the list for when all of them are, as in
`{{contact.name|call.from|"an unknown caller"}}`.
"""

from __future__ import annotations

import difflib
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
_NAME = re.compile(r"^([a-z_]+)\.([a-z_]+)$")
_LITERAL = re.compile(r'^"([^"]*)"$')
_LOGGED_FORM = "call.logged.<integration>.external_id"
"""What an earlier execution of the call answered, by the integration it ran in."""
_LOGGED = re.compile(r"^call\.logged\.([a-z0-9][a-z0-9_-]*)\.external_id$")
_KNOWN = [f"{group}.{field}" for group, fields in VARIABLES.items() for field in fields]

Values = Mapping[str, Mapping[str, str]]


def problems(template: str) -> list[str]:
    """What is wrong with a template, in words; empty when it is usable."""
    found = [
        problem
        for match in _PLACEHOLDER.finditer(template)
        for problem in _placeholder_problems(match.group(1))
    ]
    leftover = _PLACEHOLDER.sub("", template)
    if "{{" in leftover or "}}" in leftover:
        found.append("has unbalanced braces")
    return found


def _placeholder_problems(placeholder: str) -> list[str]:
    alternatives = _alternatives(placeholder)
    written = f"{{{{{placeholder.strip()}}}}}"
    if not placeholder.strip():
        return [f"{written} names no variable"]
    if any(not each for each in alternatives):
        return [f"{written} has an empty alternative; separate variables with a single |"]
    found = []
    for position, each in enumerate(alternatives):
        if _LITERAL.match(each):
            if position < len(alternatives) - 1:
                found.append(f"{written}: a quoted text can only be the last alternative")
        elif _LOGGED.match(each):
            if len(alternatives) > 1:
                found.append(f"{written}: what the call logged takes no alternatives")
        elif not _known(each):
            found.append(_unknown(each))
    return found


def _known(name: str) -> bool:
    parts = _NAME.match(name)
    return parts is not None and parts.group(2) in VARIABLES.get(parts.group(1), ())


def _unknown(name: str) -> str:
    """Why `name` is no variable, with the closest one when it looks like a misspelling."""
    if name.startswith("call.logged"):
        return f"{{{{{name}}}}} is not a variable; write {{{{{_LOGGED_FORM}}}}}"
    group, _, field = name.partition(".")
    # Within a group the field alone is compared: the group's name would make its every
    # field look close.
    if group in VARIABLES:
        closest = [f"{group}.{each}" for each in difflib.get_close_matches(field, VARIABLES[group])]
    else:
        closest = difflib.get_close_matches(name, _KNOWN)
    if closest:
        return f"{{{{{name}}}}} is not a variable; did you mean {{{{{closest[0]}}}}}?"
    if group in VARIABLES:
        return f"{{{{{name}}}}} is not a variable; {group} has {', '.join(VARIABLES[group])}"
    groups = ", ".join(f"{each}." for each in VARIABLES)
    return f"{{{{{name}}}}} is not a variable; variables begin with {groups} or call.logged."


def _alternatives(placeholder: str) -> list[str]:
    """The alternatives of a placeholder, split at each `|` outside quotes."""
    found, current, quoted = [], "", False
    for character in placeholder:
        if character == '"':
            quoted = not quoted
        if character == "|" and not quoted:
            found.append(current.strip())
            current = ""
        else:
            current += character
    found.append(current.strip())
    return found


def render(template: str, values: Values) -> str:
    """The template with each placeholder replaced by its value (empty when unknown), and
    what the call logged left empty."""
    return "".join(part for part in parts(template, values) if isinstance(part, str))


def parts(template: str, values: Values) -> list[Part]:
    """The template with each placeholder replaced by its value (empty when unknown), cut
    where it names what the call logged: that is only known when the action runs."""
    found: list[Part] = []
    end = 0
    for match in _PLACEHOLDER.finditer(template):
        found.append(template[end : match.start()])
        logged = _LOGGED.match(match.group(1).strip())
        if logged is None:
            found.append(_value(match.group(1), values))
        else:
            found.append({"logged": logged.group(1)})
        end = match.end()
    found.append(template[end:])
    return [part for part in found if part != ""]


def logged_in(template: str) -> set[str]:
    """The integrations whose logged values the template names."""
    found = (_LOGGED.match(match.group(1).strip()) for match in _PLACEHOLDER.finditer(template))
    return {logged.group(1) for logged in found if logged is not None}


def has_placeholders(template: str) -> bool:
    return _PLACEHOLDER.search(template) is not None


def _value(placeholder: str, values: Values) -> str:
    """The first alternative that is not empty: a variable's value, or the quoted text."""
    for each in _alternatives(placeholder):
        literal = _LITERAL.match(each)
        if literal is not None:
            return literal.group(1)
        name = _NAME.match(each)
        value = values.get(name.group(1), {}).get(name.group(2), "") if name else ""
        if value.strip():
            return value
    return ""
