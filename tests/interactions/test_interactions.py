"""A contact's interactions from several bridges at once, over real HTTP: merged newest
first, bad items dropped, failing and slow bridges reported while the others still show."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridgehub.demo.serving import serve
from tests.conftest import Tenant, as_account, create_account, seed_integration
from tests.helpdesk_fixtures import Helpdesk, SyncNow, all_contacts
from tests.integrations.test_catalog_api import assert_error


@dataclass
class OtherSystem:
    """A second system (a CRM) whose interaction endpoint the tests steer."""

    answer: Any = field(default_factory=list)
    status: int = 200
    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)

    @property
    def app(self) -> Starlette:
        async def interactions(request: Request) -> Response:
            self.received.append(await request.json())
            await asyncio.sleep(self.delay)
            return JSONResponse(self.answer, self.status)

        async def auth_validation(_: Request) -> Response:
            return Response(status_code=204)

        return Starlette(
            routes=[
                Route("/interactions", interactions, methods=["POST"]),
                Route("/auth_validation", auth_validation, methods=["POST"]),
            ]
        )


@pytest.fixture(scope="module")
def crm_system() -> Iterator[tuple[OtherSystem, str]]:
    system = OtherSystem()
    with serve(system.app) as url:
        yield system, url


@pytest.fixture
def crm(crm_system: tuple[OtherSystem, str]) -> Iterator[OtherSystem]:
    system, _ = crm_system
    yield system
    system.answer, system.status, system.delay = [], 200, 0.0
    system.received.clear()


@pytest.fixture
async def both_connected(
    client: httpx.AsyncClient,
    tenant: Tenant,
    connected: str,
    sync_now: SyncNow,
    crm_system: tuple[OtherSystem, str],
) -> dict[str, Any]:
    """The helpdesk synced and a CRM (deals, calls) connected; answers one synced contact."""
    _, url = crm_system
    document = seed_integration() | {
        "name": "crm",
        "display_name": "CRM",
        "icon_url": "https://crm.example/icon.png",
        "authentication_type": "none",
        "auth_validation_endpoint": f"{url}/auth_validation",
        "interaction_retrieval_endpoint": f"{url}/interactions",
        "interaction_types": ["deal", "call"],
    }
    del document["authentication_configuration"]
    assert (await client.post("/v1/integrations", json=document)).status_code == 201
    created = await tenant.client.post(
        "/v1/activations", json={"integration": "crm", "interaction_types": ["deal"]}
    )
    assert created.status_code == 201, created.text
    await sync_now(connected)
    return next(c for c in await all_contacts(tenant) if c["external_id"] == "1")


def deal(identifier: Any, date: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": identifier,
        "subject": f"Deal {identifier}",
        "date": date,
        "type": "deal",
        "priority": "high",
        "status": "open",
        "url": f"https://crm.example/deals/{identifier}",
    } | changes


async def interactions(tenant: Tenant, contact: dict[str, Any]) -> dict[str, Any]:
    response = await tenant.client.get(f"/v1/contacts/{contact['id']}/interactions")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_interactions_of_every_system_are_merged_newest_first(
    client: httpx.AsyncClient,
    tenant: Tenant,
    both_connected: dict[str, Any],
    crm: OtherSystem,
    helpdesk: Helpdesk,
) -> None:
    crm.answer = [deal(7, "2031-01-01T10:00:00Z"), deal(8, "2000-01-01T10:00:00Z")]
    answer = await interactions(tenant, both_connected)
    assert answer["errors"] == []
    dates = [item["date"] for item in answer["items"]]
    assert dates == sorted(dates, reverse=True)
    assert answer["items"][0] | {"date": None} == {
        "integration": "crm",
        "icon_url": "https://crm.example/icon.png",
        "id": "7",
        "subject": "Deal 7",
        "description": None,
        "date": None,
        "url": "https://crm.example/deals/7",
        "type": "deal",
        "priority": "high",
        "status": "open",
    }
    tickets = [item for item in answer["items"] if item["integration"] == "demo-helpdesk"]
    assert tickets
    assert {item["type"] for item in tickets} == {"ticket"}
    assert {item["icon_url"] for item in tickets} == {
        "https://helpdesk.example/icon.png"
    } or tickets

    # The helpdesk knows the contact by its id; the CRM, which did not sync it, by the rest.
    asked_helpdesk = helpdesk.bridge.received("/helpdesk/interactions")[-1].json()
    assert asked_helpdesk["data"]["contact_external_id"] == "1"
    asked_crm = crm.received[-1]
    assert "contact_external_id" not in asked_crm["data"]
    assert asked_crm["data"]["contact_name"] == both_connected["name"]
    assert asked_crm["meta"] == {"interaction_types": ["deal"]}


async def test_items_against_the_protocol_are_dropped_and_reported(
    tenant: Tenant, both_connected: dict[str, Any], crm: OtherSystem
) -> None:
    crm.answer = [
        deal(1, "2030-01-01T00:00:00Z"),
        deal(2, "2030-01-01T00:00:00Z", priority="critical"),
        deal(3, "2030-01-01T00:00:00Z", type="call"),  # a type the account did not choose
        {"subject": "no id"},
    ]
    answer = await interactions(tenant, both_connected)
    assert [item["id"] for item in answer["items"] if item["integration"] == "crm"] == ["1"]
    dropped = {(d["id"], d["reason"].split(":")[0]) for d in answer["dropped"]}
    assert {d[0] for d in dropped} == {"2", "3", None}
    assert answer["errors"] == []


@pytest.mark.parametrize(
    ("status", "delay", "answer", "message"),
    [
        (500, 0.0, {"message": "down"}, "500"),
        (200, 0.0, {"not": "an array"}, "array"),
        (200, 1.5, [], "did not answer within 1 s"),
    ],
)
async def test_a_failing_bridge_is_named_while_the_others_still_show(
    tenant: Tenant,
    both_connected: dict[str, Any],
    crm: OtherSystem,
    status: int,
    delay: float,
    answer: Any,
    message: str,
) -> None:
    crm.status, crm.delay, crm.answer = status, delay, answer
    result = await interactions(tenant, both_connected)
    assert [error["integration"] for error in result["errors"]] == ["crm"]
    assert message in result["errors"][0]["message"]
    assert {item["integration"] for item in result["items"]} == {"demo-helpdesk"}


async def test_repeated_opens_of_a_contact_are_answered_from_the_cache(
    tenant: Tenant, both_connected: dict[str, Any], crm: OtherSystem
) -> None:
    crm.answer = [deal(1, "2030-01-01T00:00:00Z")]
    first = await interactions(tenant, both_connected)
    crm.answer = [deal(2, "2030-01-01T00:00:00Z")]
    again = await interactions(tenant, both_connected)
    assert again == first
    assert len(crm.received) == 1


async def test_another_account_cannot_read_a_contact_s_interactions(
    client: httpx.AsyncClient, both_connected: dict[str, Any]
) -> None:
    _, key = await create_account(client, "Globex")
    response = await client.get(
        f"/v1/contacts/{both_connected['id']}/interactions", headers=as_account(key)
    )
    assert_error(response, 404, "not_found")


async def test_a_lookup_with_one_match_prefetches_the_interactions(
    tenant: Tenant, both_connected: dict[str, Any], crm: OtherSystem
) -> None:
    crm.answer = [deal(1, "2030-01-01T00:00:00Z")]
    contact, matches = None, []
    for candidate in await all_contacts(tenant):
        if candidate["phones"]:
            lookup = await tenant.client.get("/v1/lookup", params={"phone": candidate["phones"][0]})
            contact, matches = candidate, lookup.json()["matches"]
            if len(matches) == 1:
                break
    assert contact is not None
    assert len(matches) == 1
    assert len(crm.received) == 1  # asked while the lookup answered
    crm.answer = []
    shown = await interactions(tenant, contact)
    assert [item["id"] for item in shown["items"] if item["integration"] == "crm"] == ["1"]
