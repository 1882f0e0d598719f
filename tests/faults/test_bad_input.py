"""Input the hub cannot store or read is refused with an error naming where it is, and
changes nothing: NUL characters and lone surrogates anywhere a request carries text,
instants outside datetime's range once in UTC, JSON nested beyond what the parser follows."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from bridgehub.web.auth import SESSION_COOKIE, SIGN_IN_COOKIE
from bridgehub.web.service import csrf_token
from tests.conftest import ADMIN_KEY, Tenant, seed_integration
from tests.integrations.test_catalog_api import assert_error

ACTION = "demo-helpdesk/create_ticket"


def raw_json(document: Any) -> dict[str, Any]:
    """Request arguments sending `document` as JSON with every non-ASCII character escaped,
    as any JSON encoder may: the way a lone surrogate travels."""
    return {
        "content": json.dumps(document).encode(),
        "headers": {"Content-Type": "application/json"},
    }


def refused_at(response: httpx.Response, *paths: str) -> None:
    error = assert_error(response, 422, "invalid_request")
    assert [detail["path"] for detail in error["details"]] == list(paths), error


async def test_a_nul_in_a_body_field_is_refused_with_its_path(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/accounts", json={"name": "nul\u0000name"})
    refused_at(response, "name")
    assert (await client.get("/v1/accounts")).json()["items"] == []


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/v1/contacts?email=a%00@b", "email"),
        ("/v1/agents?email=%00", "email"),
    ],
)
async def test_a_nul_in_a_query_parameter_is_refused_with_its_name(
    tenant: Tenant, url: str, path: str
) -> None:
    refused_at(await tenant.client.get(url), path)


@pytest.mark.parametrize(
    ("url", "paths"),
    [("/v1/integrations/a%00b", ["name"]), ("/v1/actions/a%00b/c", ["provider"])],
)
async def test_a_nul_in_a_path_parameter_is_refused_with_its_name(
    client: httpx.AsyncClient, url: str, paths: list[str]
) -> None:
    refused_at(await client.get(url), *paths)


async def test_a_lone_surrogate_in_an_integration_is_refused(client: httpx.AsyncClient) -> None:
    document = seed_integration() | {"description": "\udc80"}
    refused_at(await client.post("/v1/integrations", **raw_json(document)), "description")
    assert (await client.get("/v1/integrations")).json()["items"] == []


async def test_a_nul_in_an_event_id_is_refused(tenant: Tenant) -> None:
    event = {"id": "evt\u0000", "type": "call.missed", "call": {"from": "+14155550142"}}
    refused_at(await tenant.client.post("/v1/events", json=event), "id")


@pytest.mark.parametrize("occurred_at", ["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00"])
async def test_an_instant_beyond_the_utc_range_is_refused(tenant: Tenant, occurred_at: str) -> None:
    event = {"id": "evt-far", "type": "call.missed", "occurred_at": occurred_at}
    refused_at(await tenant.client.post("/v1/events", json=event), "occurred_at")
    again = await tenant.client.post("/v1/events", json=event | {"occurred_at": None})
    assert again.status_code == 202, again.text
    assert again.json()["duplicate"] is False


@pytest.mark.usefixtures("connected")
async def test_a_nul_in_execution_data_is_refused(tenant: Tenant) -> None:
    data = {"subject": "Missed\u0000call", "description": "x"}
    response = await tenant.client.post("/v1/executions", json={"action": ACTION, "data": data})
    refused_at(response, "data.subject")
    assert (await tenant.client.get("/v1/executions")).json()["items"] == []


@pytest.mark.usefixtures("connected")
async def test_a_nul_in_automation_inputs_is_refused(tenant: Tenant) -> None:
    automation = {
        "trigger": "call.missed",
        "action": ACTION,
        "inputs": {"subject": "x", "description": "\u0000"},
    }
    refused_at(await tenant.client.post("/v1/automations", json=automation), "inputs.description")
    assert (await tenant.client.get("/v1/automations")).json()["items"] == []


async def test_a_nul_in_the_ui_automation_form_is_refused(client: httpx.AsyncClient) -> None:
    await client.get("/ui/sign-in")
    signed_in = await client.post(
        "/ui/sign-in",
        data={"key": ADMIN_KEY, "csrf_token": client.cookies[SIGN_IN_COOKIE]},
    )
    assert signed_in.status_code == 303, signed_in.text
    form = {
        "csrf_token": csrf_token(client.cookies[SESSION_COOKIE]),
        "trigger": "call.missed",
        "action": ACTION,
        "input.subject": "a\u0000b",
    }
    page = await client.post("/ui/automations", data=form)
    assert page.status_code == 422, page.text
    assert "text that cannot be stored" in page.text


async def test_json_nested_beyond_the_parser_is_refused_as_unreadable(
    client: httpx.AsyncClient,
) -> None:
    deep = "[" * 100_000 + "]" * 100_000
    response = await client.post(
        "/v1/integrations", content=deep, headers={"Content-Type": "application/json"}
    )
    assert "nests too deeply" in assert_error(response, 422, "invalid_json")["message"]
    elsewhere = await client.post(
        "/v1/accounts", content=deep, headers={"Content-Type": "application/json"}
    )
    assert elsewhere.status_code == 400, elsewhere.text


async def test_a_nul_deep_in_json_the_parser_reads_is_refused_at_its_path(
    client: httpx.AsyncClient,
) -> None:
    depth = 900
    deep = '{"name": ' + "[" * depth + '"\\u0000"' + "]" * depth + "}"
    response = await client.post(
        "/v1/accounts", content=deep, headers={"Content-Type": "application/json"}
    )
    refused_at(response, "name" + "[0]" * depth)
