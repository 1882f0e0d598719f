"""A hub with the default network policy refuses bridges on private addresses and plain
HTTP, before any request leaves; the tests' own hub allows them explicitly."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from bridgehub.app import create_app
from bridgehub.settings import Settings
from tests.activations.conftest import GOOD_TOKEN, SteeredBridge, custom_integration
from tests.conftest import ADMIN_KEY, HUB_URL, as_account, create_account
from tests.integrations.test_catalog_api import assert_error


@pytest.fixture
async def strict_hub(settings: Settings, database_url: str) -> AsyncIterator[httpx.AsyncClient]:
    """The hub as it runs by default: no private networks, no plain HTTP."""
    strict = settings.model_copy(update={"allow_private_networks": False, "allow_http": False})
    app = create_app(strict, database=database_url)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        async with httpx.AsyncClient(
            transport=transport, base_url=HUB_URL, headers=headers
        ) as http:
            yield http


@pytest.mark.parametrize(
    ("bridge_host", "reason"),
    [
        ("127.0.0.1", "loopback address; set BRIDGEHUB_ALLOW_PRIVATE_NETWORKS"),
        ("localhost", "loopback address; set BRIDGEHUB_ALLOW_PRIVATE_NETWORKS"),
        ("[::1]", "loopback address; set BRIDGEHUB_ALLOW_PRIVATE_NETWORKS"),
        ("10.0.0.1", "private address; set BRIDGEHUB_ALLOW_PRIVATE_NETWORKS"),
        # A cloud metadata address is refused at registration already (tests/faults/test_urls.py);
        # a host name resolving to one is refused at call time (tests/bridge/test_guard.py).
    ],
)
async def test_bridges_on_private_addresses_are_refused(
    client: httpx.AsyncClient,
    strict_hub: httpx.AsyncClient,
    bridge: SteeredBridge,
    bridge_url: str,
    bridge_host: str,
    reason: str,
) -> None:
    port = httpx.URL(bridge_url).port
    await client.post("/v1/integrations", json=custom_integration(f"https://{bridge_host}:{port}"))
    _, key = await create_account(client)
    auth = {"account": "acme", "email": "a@acme.example", "token": GOOD_TOKEN}
    response = await strict_hub.post(
        "/v1/activations", json={"integration": "zendesk", "auth": auth}, headers=as_account(key)
    )
    assert reason in assert_error(response, 502, "bridge_error")["message"]
    assert bridge.received == []


async def test_plain_http_is_refused(
    client: httpx.AsyncClient, strict_hub: httpx.AsyncClient, bridge: SteeredBridge, bridge_url: str
) -> None:
    await client.post("/v1/integrations", json=custom_integration(bridge_url))
    _, key = await create_account(client)
    auth = {"account": "acme", "email": "a@acme.example", "token": GOOD_TOKEN}
    response = await strict_hub.post(
        "/v1/activations", json={"integration": "zendesk", "auth": auth}, headers=as_account(key)
    )
    assert "BRIDGEHUB_ALLOW_HTTP" in assert_error(response, 502, "bridge_error")["message"]
    assert bridge.received == []
