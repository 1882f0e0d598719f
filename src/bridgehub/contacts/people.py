"""One person across systems: the contacts a caller-ID lookup found, grouped into the people
they are. Two contacts from different integrations are one person when they share an email
address or have the same name; the grouping is transitive (a CRM record sharing an email
with a helpdesk record that has the name of another CRM record makes all three one person).

Names are compared case-folded, with accents dropped and runs of spaces collapsed: systems
that cannot store "José" keep "Jose", and "Ada  Lovelace" is "ada lovelace". Contacts of the
same integration are not linked to each other directly: one system holding two "John Smith"
records means two people, unless a record of another system joins them.

Only the matches of one lookup are grouped, so this stays a few dozen items in memory.
"""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bridgehub.contacts.phones import normalize_email


@dataclass(frozen=True)
class Identity:
    """What the grouping reads of a contact."""

    name: str
    emails: Sequence[str]
    integration: str


def group_people(identities: Sequence[Identity]) -> list[list[int]]:
    """The positions of `identities` grouped into people: every position in exactly one
    group, each group in ascending order, groups ordered by their first position (so with
    identities ranked best first, the people are too)."""
    parents = list(range(len(identities)))

    def root(position: int) -> int:
        while parents[position] != position:
            # Path halving keeps the chains short without recursion.
            parents[position] = parents[parents[position]]
            position = parents[position]
        return position

    for holders in _holders_by_key(identities).values():
        if len({identities[position].integration for position in holders}) > 1:
            first = root(holders[0])
            for position in holders[1:]:
                # The smaller root wins, so a group's root is its best-ranked member.
                first, other = sorted((first, root(position)))
                parents[other] = first
    groups: dict[int, list[int]] = defaultdict(list)
    for position in range(len(identities)):
        groups[root(position)].append(position)
    return sorted(groups.values(), key=lambda group: group[0])


def normalize_name(name: str) -> str:
    """A name as people are told apart: case-folded, accents dropped, spaces collapsed."""
    decomposed = unicodedata.normalize("NFKD", name)
    letters = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(letters.casefold().split())


def _holders_by_key(identities: Sequence[Identity]) -> dict[tuple[str, str], list[int]]:
    holders: dict[tuple[str, str], list[int]] = defaultdict(list)
    for position, identity in enumerate(identities):
        for key in _keys(identity):
            holders[key].append(position)
    return holders


def _keys(identity: Identity) -> Iterable[tuple[str, str]]:
    """The values that make two contacts one person; an empty name links nobody."""
    if name := normalize_name(identity.name):
        yield ("name", name)
    emails = {email for raw in identity.emails if (email := normalize_email(raw))}
    yield from (("email", email) for email in emails)
