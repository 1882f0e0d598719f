"""Caller-ID lookup and contact search over contacts synced from a scripted bridge: numbers
stored one way are found when the call arrives written another way."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridgehub.demo.serving import serve
from tests.conftest import Tenant, seed_integration
from tests.helpdesk_fixtures import SyncNow
from tests.integrations.test_catalog_api import assert_error

# As CRMs hand them out: numeric ids, and phones written every which way.
CONTACTS: list[dict[str, Any]] = [
    {
        "id": 101,
        "name": "Jane Doe",
        "company": "Example Corp.",
        "phones": ["(415) 555-0042"],
        "emails": ["Jane@Example.com "],
    },
    {"id": 102, "name": "John Roe", "company": "Initech", "phones": ["+44 20 7946 0018"]},
    {
        "id": 103,
        "name": "Ana Silva",
        "company": "Lisboa Lda",
        "phones": ["+351 21 123 4567 ext. 2"],
    },
    {"id": 104, "name": "Maine Namesake", "phones": ["+1 207 555 0042"]},
    {"id": 105, "name": "Jane Doe (mobile)", "phones": ["+1 415.555.0042"], "title": "CTO"},
    {"id": 106, "name": "No Phone", "phones": ["n/a"]},
    {"id": 107, "name": "Jörg Ångström", "company": "Café Zoë", "phones": []},
    # Written without their country codes, so read as US numbers they are not.
    {"id": 108, "name": "Porto Desk", "phones": ["21 765 4321"]},
    {"id": 109, "name": "Berlin Desk", "phones": ["030 7654321"]},
]


@pytest.fixture(scope="module")
def scripted_bridge() -> Iterator[str]:
    async def contact_sync(request: Request) -> JSONResponse:
        await request.json()
        return JSONResponse({"contacts": CONTACTS, "synchronization_checkpoint": "c1"})

    async def auth_validation(_: Request) -> JSONResponse:
        return JSONResponse({})

    app = Starlette(
        routes=[
            Route("/contact_sync", contact_sync, methods=["POST"]),
            Route("/auth_validation", auth_validation, methods=["POST"]),
        ]
    )
    with serve(app) as url:
        yield url


@pytest.fixture
async def synced(
    client: httpx.AsyncClient, tenant: Tenant, scripted_bridge: str, sync_now: SyncNow
) -> None:
    await connect_crm(client, tenant, scripted_bridge, sync_now, "crm")


@pytest.fixture
async def synced_twice(
    client: httpx.AsyncClient, tenant: Tenant, scripted_bridge: str, sync_now: SyncNow
) -> None:
    """The same contacts in two integrations, as a CRM and a helpdesk both know a person."""
    for name in ("crm", "crm-two"):
        await connect_crm(client, tenant, scripted_bridge, sync_now, name)


async def connect_crm(
    client: httpx.AsyncClient, tenant: Tenant, scripted_bridge: str, sync_now: SyncNow, name: str
) -> None:
    """Register the scripted bridge as the integration `name`, connect it and sync."""
    document = seed_integration() | {
        "name": name,
        "authentication_type": "none",
        "auth_validation_endpoint": f"{scripted_bridge}/auth_validation",
        "contact_synchronization_endpoint": f"{scripted_bridge}/contact_sync",
    }
    del document["authentication_configuration"]
    assert (await client.post("/v1/integrations", json=document)).status_code == 201
    activation = (await tenant.client.post("/v1/activations", json={"integration": name})).json()
    run = await sync_now(activation["id"])
    assert (run["status"], run["created"]) == ("succeeded", len(CONTACTS)), run


async def lookup(tenant: Tenant, phone: str) -> list[str]:
    answer = await tenant.client.get("/v1/lookup", params={"phone": phone})
    assert answer.status_code == 200, answer.text
    return [match["external_id"] for match in answer.json()["matches"]]


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    "incoming",
    [
        "+14155550042",
        "(415) 555-0042",
        "415-555-0042",
        "+1 415.555.0042",
        "0014155550042",
        "1 415 555 0042",
        "tel:+1-415-555-0042",
    ],
)
async def test_a_us_caller_is_found_however_the_number_is_written(
    tenant: Tenant, incoming: str
) -> None:
    found = await lookup(tenant, incoming)
    assert sorted(found) == ["101", "105"]
    # The same line in another area code shares the last digits, but is not the caller.
    assert "104" not in found


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("incoming", "expected"),
    [
        ("+44 20 7946 0018", "102"),
        ("0044 20 7946 0018", "102"),
        ("+44 (0)20 7946 0018", "102"),
        ("+351 211 234 567", "103"),
        ("00351 21 123 4567", "103"),
    ],
)
async def test_callers_from_other_countries_are_found(
    tenant: Tenant, incoming: str, expected: str
) -> None:
    assert await lookup(tenant, incoming) == [expected]


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("incoming", "expected"),
    [
        ("+14155550042", [("101", "exact"), ("105", "exact")]),
        ("+351217654321", [("108", "national")]),
        ("+49307654321", [("109", "partial")]),
    ],
)
async def test_each_match_says_how_it_matched(
    tenant: Tenant, incoming: str, expected: list[tuple[str, str]]
) -> None:
    answer = (await tenant.client.get("/v1/lookup", params={"phone": incoming})).json()
    found = sorted((match["external_id"], match["match"]) for match in answer["matches"])
    assert found == expected


@pytest.mark.usefixtures("synced")
async def test_the_most_recently_updated_of_equal_matches_comes_first(tenant: Tenant) -> None:
    found = await lookup(tenant, "+14155550042")
    assert found == ["105", "101"] or found == ["101", "105"]
    answer = (await tenant.client.get("/v1/lookup", params={"phone": "+14155550042"})).json()[
        "matches"
    ]
    assert answer[0]["updated_at"] >= answer[1]["updated_at"]


@pytest.mark.usefixtures("synced")
async def test_nothing_is_found_for_unknown_or_unreadable_numbers(tenant: Tenant) -> None:
    assert await lookup(tenant, "+1 212 555 0199") == []
    assert await lookup(tenant, "anonymous") == []
    assert_error(
        await tenant.client.get("/v1/lookup", params={"phone": ""}), 422, "invalid_request"
    )


@pytest.mark.usefixtures("synced")
async def test_contacts_answer_e164_and_lower_case_emails(tenant: Tenant) -> None:
    jane = (await tenant.client.get("/v1/contacts", params={"q": "jane"})).json()["items"]
    assert {c["external_id"] for c in jane} == {"101", "105"}
    first = next(c for c in jane if c["external_id"] == "101")
    assert first["phones"] == ["+14155550042"]
    assert first["emails"] == ["jane@example.com"]
    unreadable = (await tenant.client.get("/v1/contacts", params={"q": "no phone"})).json()["items"]
    assert unreadable[0]["phones"] == ["n/a"]


@pytest.mark.usefixtures("synced")
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"q": "ini"}, {"102"}),
        ({"q": "jane cto"}, set()),
        ({"q": "lisboa"}, {"103"}),
        # Accents count on neither side.
        ({"q": "jorg angstr"}, {"107"}),
        ({"q": "JÖRG"}, {"107"}),
        ({"q": "cafe zoe"}, {"107"}),
        ({"email": "JANE@example.com"}, {"101"}),
        ({"phone": "020 7946 0018"}, {"102"}),
        ({"phone": "+44 20 7946 0018"}, {"102"}),
    ],
)
async def test_contacts_are_searched_by_words_email_and_phone(
    tenant: Tenant, filters: dict[str, str], expected: set[str]
) -> None:
    found = (await tenant.client.get("/v1/contacts", params=filters)).json()["items"]
    assert {c["external_id"] for c in found} == expected


@pytest.mark.usefixtures("synced")
async def test_a_forged_cursor_is_refused(tenant: Tenant) -> None:
    error = assert_error(
        await tenant.client.get("/v1/contacts", params={"cursor": "nope"}), 422, "invalid_request"
    )
    assert error["details"][0]["path"] == "cursor"


@pytest.mark.usefixtures("synced")
async def test_contacts_of_one_integration_are_people_of_their_own(tenant: Tenant) -> None:
    answer = (await tenant.client.get("/v1/lookup", params={"phone": "+14155550042"})).json()
    assert [person["contact_ids"] for person in answer["people"]] == [
        [match["id"]] for match in answer["matches"]
    ]
    assert {person["name"] for person in answer["people"]} == {"Jane Doe", "Jane Doe (mobile)"}


@pytest.mark.usefixtures("synced_twice")
async def test_two_integrations_holding_the_same_person_give_one_person(tenant: Tenant) -> None:
    answer = (await tenant.client.get("/v1/lookup", params={"phone": "(415) 555-0042"})).json()
    matches = answer["matches"]
    assert sorted((m["integration"], m["external_id"]) for m in matches) == [
        ("crm", "101"),
        ("crm", "105"),
        ("crm-two", "101"),
        ("crm-two", "105"),
    ]
    ids_of = {m["id"]: (m["integration"], m["external_id"]) for m in matches}
    people = answer["people"]
    assert len(people) == 2
    for person in people:
        records = [ids_of[contact_id] for contact_id in person["contact_ids"]]
        assert {external_id for _, external_id in records} == {records[0][1]}
        assert sorted(person["integrations"]) == ["crm", "crm-two"]
        assert person["integrations"] == [integration for integration, _ in records]
    assert {person["name"] for person in people} == {"Jane Doe", "Jane Doe (mobile)"}
    # Best first: the person of the best match leads, and matches stay as they were.
    assert people[0]["contact_ids"][0] == matches[0]["id"]
