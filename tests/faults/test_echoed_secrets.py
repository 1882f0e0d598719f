"""A bridge that echoes the credentials it was sent in a successful action answer: the hub
stores and serves that answer without them, as it already does for refusals and pages."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bridgehub.demo.serving import serve
from tests.conftest import TableRows, Tenant, seed_action, seed_integration
from tests.helpdesk_fixtures import RunJobs

API_TOKEN = "echoed-api-token-5d1e9a"


async def _auth_validation(_: Request) -> JSONResponse:
    return JSONResponse({})


async def _create_ticket(request: Request) -> JSONResponse:
    token = (await request.json())["auth"]["token"]
    return JSONResponse(
        {
            "message": f"Created with token {token}",
            "external_id": token,
            "contact_external_url": f"https://desk.example/tickets?key={token}",
        }
    )


@pytest.fixture(scope="module")
def echoing_bridge() -> Iterator[str]:
    app = Starlette(
        routes=[
            Route("/auth_validation", _auth_validation, methods=["POST"]),
            Route("/actions/create_ticket", _create_ticket, methods=["POST"]),
        ]
    )
    with serve(app) as url:
        yield url


async def test_credentials_echoed_in_an_action_answer_are_neither_stored_nor_served(
    client: httpx.AsyncClient,
    tenant: Tenant,
    echoing_bridge: str,
    run_jobs: RunJobs,
    database_rows: TableRows,
) -> None:
    integration = seed_integration() | {
        "auth_validation_endpoint": f"{echoing_bridge}/auth_validation"
    }
    action = seed_action() | {"endpoint": f"{echoing_bridge}/actions/create_ticket"}
    assert (await client.post("/v1/integrations", json=integration)).status_code == 201
    assert (await client.post("/v1/actions", json=action)).status_code == 201
    auth = {"account": "acme", "email": "a@acme.example", "token": API_TOKEN}
    activated = await tenant.client.post(
        "/v1/activations", json={"integration": "zendesk", "auth": auth}
    )
    assert activated.status_code == 201, activated.text
    queued = await tenant.client.post(
        "/v1/executions",
        json={"action": "zendesk/create_ticket", "data": {"subject": "s", "description": "d"}},
    )
    assert queued.status_code == 202, queued.text
    await run_jobs()

    one = await tenant.client.get(f"/v1/executions/{queued.json()['id']}")
    assert one.json()["status"] == "succeeded", one.text
    assert one.json()["response"]["message"].startswith("Created with token ")
    listed = await tenant.client.get("/v1/executions")
    for answer in (one, listed):
        assert API_TOKEN not in answer.text
    assert API_TOKEN not in json.dumps(await database_rows("executions"))
