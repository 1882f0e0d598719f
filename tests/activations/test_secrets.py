"""Secrets stay secret: real flows run, then logs, every answer and the database's plain
text are searched for each credential value, token and client secret that was used."""

from __future__ import annotations

import io
import logging
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from tests.activations.conftest import (
    SteeredBridge,
    authorize,
    custom_integration,
    distinctive,
    oauth2_integration,
)
from tests.conftest import Tenant


@pytest.fixture
def answers(client: httpx.AsyncClient, tenant: Tenant) -> list[str]:
    """Every answer body the hub gives to the admin and the tenant during the test."""
    seen: list[str] = []

    async def keep(response: httpx.Response) -> None:
        await response.aread()
        seen.append(f"{response.headers}\n{response.text}")

    for http in (client, tenant.client):
        http.event_hooks["response"].append(keep)
    return seen


async def database_text(hub: FastAPI) -> str:
    async with hub.state.runtime.sessionmaker() as session:
        tables = await session.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        )
        rows: list[str] = []
        for table in tables.all():
            result = await session.execute(text(f"SELECT row_to_json(t)::text FROM {table} t"))  # noqa: S608
            rows.extend(row[0] for row in result)
        return "\n".join(rows)


async def test_no_secret_reaches_logs_answers_or_the_database(
    client: httpx.AsyncClient,
    tenant: Tenant,
    bridge: SteeredBridge,
    bridge_url: str,
    provider_url: str,
    hub: FastAPI,
    captured_logs: io.StringIO,
    answers: list[str],
    stored_tokens: Any,
) -> None:
    email = distinctive("agent") + "@acme.example"  # public: answered, but sealed at rest
    secrets = {
        "wrong token": distinctive("wrong-token"),
        "one-time value": distinctive("otp"),
        "client secret": distinctive("client-secret"),
    }
    # Custom credentials: refused first, then accepted, checked and changed.
    good_token = "zendesk-api-token-9b1c"
    await client.post("/v1/integrations", json=custom_integration(bridge_url))
    auth = {"account": "acme", "email": email, "token": secrets["wrong token"]}
    refused = await tenant.client.post(
        "/v1/activations", json={"integration": "zendesk", "auth": auth}
    )
    assert refused.status_code == 422
    auth |= {"token": good_token, "otp": secrets["one-time value"]}
    created = await tenant.client.post(
        "/v1/activations", json={"integration": "zendesk", "auth": auth}
    )
    assert created.status_code == 201, created.text
    activation = created.json()["id"]
    bridge.answer = (500, {"message": f"upstream said no to {good_token}"})
    assert (await tenant.client.post(f"/v1/activations/{activation}/check")).status_code == 502
    bridge.answer = None
    await tenant.client.get(f"/v1/activations/{activation}")
    await tenant.client.get("/v1/activations")

    # OAuth 2.0 with a client secret in the catalog: connect, refresh, list.
    crm = oauth2_integration(bridge_url, provider_url)
    await client.post("/v1/integrations", json=crm)
    await client.put(
        "/v1/integrations/crm",
        json=crm
        | {
            "oauth2_configuration": crm["oauth2_configuration"]
            | {"client_secret": secrets["client secret"]}
        },
    )
    await client.put("/v1/integrations/crm", json=crm)  # back to the secret the provider knows
    started = await tenant.client.post("/v1/activations", json={"integration": "crm"})
    page = await authorize(tenant, started.json()["authorize_url"])
    assert page.status_code == 200, page.text
    crm_activation = started.json()["id"]
    tokens = await stored_tokens(crm_activation)
    bridge.providers[0].expire_access_tokens()
    assert (await tenant.client.post(f"/v1/activations/{crm_activation}/check")).status_code == 200
    refreshed = await stored_tokens(crm_activation)
    await client.get("/v1/integrations/crm")

    secrets |= {
        "access token": tokens["access_token"],
        "refresh token": tokens["refresh_token"],
        "refreshed access token": refreshed["access_token"],
        "rotated refresh token": refreshed["refresh_token"],
        "catalog client secret": crm["oauth2_configuration"]["client_secret"],
        "api token": good_token,
    }
    logs = captured_logs.getvalue()
    assert "activation created" in logs, (
        "the flows above must have been logged for this test to mean anything"
    )
    stored = await database_text(hub)
    for name, value in secrets.items():
        assert value not in logs, f"the {name} reached the logs"
        assert all(value not in answer for answer in answers), f"the {name} reached an answer"
        assert value not in stored, f"the {name} rests in plain text in the database"
    assert email not in stored, "the email rests in plain text in the database"


def test_secret_query_parameters_are_scrubbed_from_access_logs(captured_logs: io.StringIO) -> None:
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d',
        "127.0.0.1",
        "GET",
        "/oauth/callback?code=c0de-123&state=st4te-456",
        "1.1",
        200,
    )
    line = captured_logs.getvalue()
    assert "/oauth/callback?code=[redacted]&state=[redacted]" in line
    assert "c0de-123" not in line
    assert "st4te-456" not in line
