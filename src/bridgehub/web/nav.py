"""The navigation: each page module registers its own entry, so the nav lists exactly
the pages that exist.

Positions order the entries within their menu. The planned ones:
main menu: Dashboard 10, Catalog 20, Contacts 30, Screen pop 40, Automations 50,
Activity 60, Webhooks 70; admin menu: Catalog management 10, Accounts 20.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from bridgehub.web.service import Operator

Audience = Literal["everyone", "account", "admin"]
"""Who sees the entry: anyone signed in, account sessions only, or the admin (whose
entries form the admin menu)."""


@dataclass(frozen=True)
class NavEntry:
    label: str
    route_name: str
    """The name of the page's route (`@router.get(..., name=...)`)."""
    position: int
    audience: Audience


_entries: dict[str, NavEntry] = {}


def register(label: str, route_name: str, *, position: int, audience: Audience) -> None:
    """Add a page to the nav. Registering a route twice keeps the latest entry."""
    _entries[route_name] = NavEntry(label, route_name, position, audience)


def main_menu(operator: Operator) -> list[NavEntry]:
    wanted = {"everyone"} if operator.is_admin else {"everyone", "account"}
    return _sorted(entry for entry in _entries.values() if entry.audience in wanted)


def admin_menu(operator: Operator) -> list[NavEntry]:
    if not operator.is_admin:
        return []
    return _sorted(entry for entry in _entries.values() if entry.audience == "admin")


def home_route(operator: Operator) -> str | None:
    """Where a signed-in person lands: the first entry of their menus."""
    entries = main_menu(operator) + admin_menu(operator)
    return entries[0].route_name if entries else None


def _sorted(entries: Iterable[NavEntry]) -> list[NavEntry]:
    return sorted(entries, key=lambda entry: (entry.position, entry.label))
