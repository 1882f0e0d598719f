"""Grouping a lookup's matches into people: by a shared email or name across integrations,
transitively, every match in exactly one person, people in the order of their best match."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bridgehub.contacts.people import Identity, group_people, normalize_name


def test_the_same_person_in_two_integrations_is_one_person() -> None:
    found = [
        Identity("Ada Lovelace", ["ada@engines.example"], "crm"),
        Identity("Grace Hopper", [], "crm"),
        Identity("A. Lovelace", [" ADA@Engines.example"], "helpdesk"),
        Identity("grace  HOPPER", [], "helpdesk"),
    ]
    assert group_people(found) == [[0, 2], [1, 3]]


def test_links_are_transitive_across_email_and_name() -> None:
    found = [
        Identity("Ada Lovelace", ["ada@engines.example"], "crm"),
        Identity("Countess of Lovelace", ["ada@engines.example"], "helpdesk"),
        Identity("Countess of Lovelace", [], "billing"),
    ]
    assert group_people(found) == [[0, 1, 2]]


def test_one_integration_holding_two_namesakes_keeps_them_apart() -> None:
    found = [Identity("John Smith", [], "crm"), Identity("John Smith", [], "crm")]
    assert group_people(found) == [[0], [1]]
    # A record of another system with that name makes them one person.
    assert group_people([*found, Identity("john smith", [], "helpdesk")]) == [[0, 1, 2]]


def test_empty_names_and_unreadable_emails_link_nobody() -> None:
    found = [Identity("", ["n/a"], "crm"), Identity(" ", ["n/a"], "helpdesk")]
    assert group_people(found) == [[0], [1]]


def test_names_compare_without_case_accents_or_extra_spaces() -> None:
    assert normalize_name("  José   ÁLVAREZ ") == normalize_name("jose alvarez") == "jose alvarez"
    assert normalize_name("Straße") == normalize_name("STRASSE")


NAMES = st.sampled_from(["Ada", "ada ", "Grace", "Alan", "Zoë", "zoe", ""])
EMAILS = st.lists(st.sampled_from(["a@x.example", "A@X.example", "g@x.example", "junk"]))
INTEGRATIONS = st.sampled_from(["crm", "helpdesk", "billing"])
IDENTITIES = st.lists(st.builds(Identity, NAMES, EMAILS, INTEGRATIONS), max_size=12)


def _linked(first: Identity, second: Identity) -> bool:
    """The direct link the grouping promises, written out plainly."""
    same_name = normalize_name(first.name) != "" and (
        normalize_name(first.name) == normalize_name(second.name)
    )
    emails = {email.lower() for email in first.emails if "@" in email}
    shared_email = any(email.lower() in emails for email in second.emails)
    return first.integration != second.integration and (same_name or shared_email)


@given(IDENTITIES)
def test_every_match_is_in_exactly_one_person_best_first(found: list[Identity]) -> None:
    people = group_people(found)
    assert sorted(position for person in people for position in person) == list(range(len(found)))
    assert all(person == sorted(person) for person in people)
    assert [person[0] for person in people] == sorted(person[0] for person in people)


@given(IDENTITIES)
def test_linked_matches_are_one_person_and_people_are_connected(found: list[Identity]) -> None:
    person_of = {
        position: number for number, person in enumerate(group_people(found)) for position in person
    }
    links = {
        (first, second)
        for first in range(len(found))
        for second in range(len(found))
        if _linked(found[first], found[second])
    }
    assert all(person_of[first] == person_of[second] for first, second in links)
    # Nobody is in a person without a chain of links to its other members.
    reached = {position: {position} for position in range(len(found))}
    for _ in found:
        for first, second in links:
            reached[first] |= reached[second]
    assert all(
        reached[position] == {other for other in person_of if person_of[other] == number}
        for position, number in person_of.items()
    )
