"""The fault suite's hub: its own database and settings with short deadlines, so that each
fault ends in a second or two; and the faulty bridge, activated for the tenant."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from bridgehub.app import create_app
from bridgehub.db import migrate
from bridgehub.settings import Settings
from tests.conftest import ADMIN_KEY, HUB_URL, NewDatabase, Tenant
from tests.faults.bridge import (
    ACTION,
    AUTH_VALIDATION,
    CONTACT_SYNC,
    INTERACTIONS,
    FaultyBridge,
    gzip_bomb,
    serve_faulty_bridge,
)

PROVIDER = "faulty"
ACTION_NAME = f"{PROVIDER}/create_ticket"

# Deadlines short enough for the suite to wait each fault out in a few seconds.
CALL_DEADLINE = 1.0
LONGEST_PAUSE = 0.2
INTERACTIONS_DEADLINE = 1.0
EXECUTION_ATTEMPTS = 5  # the default: more than a job is retried when it breaks


@pytest.fixture(scope="session")
def fault_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        home=tmp_path_factory.mktemp("fault-home"),
        admin_key=SecretStr(ADMIN_KEY),
        public_url=HUB_URL,
        allow_private_networks=True,
        allow_http=True,
        workers=0,
        bridge_timeout_seconds=CALL_DEADLINE,
        max_retry_after_seconds=LONGEST_PAUSE,
        interactions_timeout_seconds=INTERACTIONS_DEADLINE,
        execution_retry_seconds=0.05,
        execution_max_attempts=EXECUTION_ATTEMPTS,
    )


@pytest.fixture(scope="session")
async def hub(fault_settings: Settings, new_database: NewDatabase) -> AsyncIterator[FastAPI]:
    """A hub of its own (the shared one keeps the suite's ordinary deadlines), which the
    shared fixtures (`client`, `tenant`, `run_jobs`) use in this folder."""
    url = new_database("bridgehub_faults")
    migrate.upgrade(url)
    app = create_app(fault_settings, database=url)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture(scope="session")
def faulty_bridge() -> Iterator[FaultyBridge]:
    gzip_bomb()  # made ahead, so that no test's memory figure counts making it
    with serve_faulty_bridge() as bridge:
        yield bridge


@pytest.fixture
def bridge(faulty_bridge: FaultyBridge) -> Iterator[FaultyBridge]:
    """The faulty bridge, healthy at the start of each test."""
    faulty_bridge.faults.clear()
    faulty_bridge.requests.clear()
    yield faulty_bridge
    faulty_bridge.faults.clear()


def integration(bridge: FaultyBridge) -> dict[str, Any]:
    return {
        "name": PROVIDER,
        "display_name": "Faulty",
        "description": "A bridge that misbehaves on purpose.",
        "logo_url": "https://faulty.example/logo.png",
        "icon_url": "https://faulty.example/icon.png",
        "authentication_type": "custom",
        "authentication_configuration": [
            {
                "api_token": {
                    "source": "input",
                    "display": "API token",
                    "mandatory": True,
                    "type": "input",
                    "store": True,
                }
            }
        ],
        "auth_validation_endpoint": bridge.endpoint(AUTH_VALIDATION),
        "contact_synchronization_endpoint": bridge.endpoint(CONTACT_SYNC),
        "interaction_retrieval_endpoint": bridge.endpoint(INTERACTIONS),
        "interaction_types": ["ticket"],
    }


def action(bridge: FaultyBridge) -> dict[str, Any]:
    return {
        "provider": PROVIDER,
        "name": "create_ticket",
        "display": "create a ticket",
        "description": "create a ticket",
        "endpoint": bridge.endpoint(ACTION),
        "inputs": [{"key": "subject", "name": "Subject", "mandatory": True}],
    }


@pytest.fixture
async def registered(client: httpx.AsyncClient, bridge: FaultyBridge) -> FaultyBridge:
    """The faulty bridge's integration and action, in the catalog."""
    for path, document in (
        ("/v1/integrations", integration(bridge)),
        ("/v1/actions", action(bridge)),
    ):
        created = await client.post(path, json=document)
        assert created.status_code == 201, created.text
    return bridge


async def activate(tenant: Tenant) -> httpx.Response:
    return await tenant.client.post(
        "/v1/activations", json={"integration": PROVIDER, "auth": {"api_token": "t0ken-f4ulty"}}
    )


@pytest.fixture
async def activated(tenant: Tenant, registered: FaultyBridge) -> str:
    """The tenant's activation of the faulty bridge (made while it is healthy); its id."""
    created = await activate(tenant)
    assert created.status_code == 201, created.text
    activation_id: str = created.json()["id"]
    return activation_id
