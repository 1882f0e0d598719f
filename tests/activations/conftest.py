"""Pieces for activation tests: a bridge whose auth validation the tests steer, the local
OAuth 2.0 provider, and integrations pointing at both, all over real HTTP on 127.0.0.1."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridgehub.activations.credentials import unseal
from bridgehub.activations.models import Activation
from bridgehub.demo.oauth_provider import OAuthClient, OAuthProvider, ProviderConfig
from bridgehub.demo.serving import serve
from tests.conftest import HUB_URL, Tenant, seed_integration

CLIENT_SECRET = "provider-client-secret-7f3a"
GOOD_TOKEN = "zendesk-api-token-9b1c"


@dataclass
class SteeredBridge:
    """Auth validation that accepts GOOD_TOKEN (or a valid OAuth 2.0 access token) and
    records every request; `answer` forces the next answers instead."""

    providers: list[OAuthProvider]
    received: list[dict[str, Any]] = field(default_factory=list)
    answer: tuple[int, Any] | None = None

    @property
    def app(self) -> Starlette:
        return Starlette(
            routes=[Route("/auth_validation", self._auth_validation, methods=["POST"])]
        )

    async def _auth_validation(self, request: Request) -> Response:
        body = await request.json()
        self.received.append(body)
        if self.answer is not None:
            status, content = self.answer
            return (
                JSONResponse(content, status)
                if content is not None
                else Response(status_code=status)
            )
        auth = body["auth"]
        if "code" in auth:
            # Exchanging the code itself, as the reference's `code` field with store false allows.
            return JSONResponse(
                {"access_token": f"bridge-exchanged-{auth['code']}", "account_id": "acct-7"}
            )
        if "access_token" in auth:
            token = auth["access_token"]
            valid = token.startswith("bridge-exchanged-") or any(
                provider.is_valid_access_token(token) for provider in self.providers
            )
        else:
            valid = auth.get("token") == GOOD_TOKEN
        if not valid:
            return JSONResponse({"message": "bad credentials"}, 401)
        return JSONResponse({"account_id": "acct-42", "not_a_field": "ignored"})


def local_provider(*, rotate_refresh_tokens: bool) -> OAuthProvider:
    hub_client = OAuthClient(
        "hub", (f"{HUB_URL}/oauth/callback",), ("tickets",), client_secret=CLIENT_SECRET
    )
    return OAuthProvider(
        ProviderConfig(
            clients=[hub_client],
            auto_approve=True,
            rotate_refresh_tokens=rotate_refresh_tokens,
            token_extras={"instance_url": "https://acme.crm.example"},
        )
    )


@pytest.fixture(scope="session")
def provider() -> OAuthProvider:
    return local_provider(rotate_refresh_tokens=True)


@pytest.fixture
def provider_without_rotation(steered_bridge: SteeredBridge) -> Iterator[tuple[OAuthProvider, str]]:
    """A provider that omits `refresh_token` from refresh answers; the bridge trusts it too."""
    provider = local_provider(rotate_refresh_tokens=False)
    steered_bridge.providers.append(provider)
    with serve(provider.app) as url:
        yield provider, url
    steered_bridge.providers.remove(provider)


@pytest.fixture(scope="session")
def provider_url(provider: OAuthProvider) -> Iterator[str]:
    with serve(provider.app) as url:
        yield url


@pytest.fixture(scope="session")
def steered_bridge(provider: OAuthProvider) -> SteeredBridge:
    return SteeredBridge([provider])


@pytest.fixture(scope="session")
def bridge_url(steered_bridge: SteeredBridge) -> Iterator[str]:
    with serve(steered_bridge.app) as url:
        yield url


@pytest.fixture(autouse=True)
def bridge(steered_bridge: SteeredBridge) -> Iterator[SteeredBridge]:
    """The steered bridge, forgetting what it received and was told after each test."""
    yield steered_bridge
    steered_bridge.received.clear()
    steered_bridge.answer = None


def auth_field(source: str = "input", kind: str = "input", **extra: Any) -> dict[str, Any]:
    return {
        "source": source,
        "display": "A field",
        "mandatory": True,
        "type": kind,
        "store": True,
        **extra,
    }


def custom_integration(bridge_url: str, **changes: Any) -> dict[str, Any]:
    """The reference's Zendesk example pointed at the steered bridge, with a default field,
    a field the bridge fills in, and one kept only for the request that carries it."""
    document = seed_integration() | {"auth_validation_endpoint": f"{bridge_url}/auth_validation"}
    document["authentication_configuration"] += [
        {"region": auth_field("default", default="eu", mandatory=False)},
        {"account_id": auth_field("auth_validation", mandatory=False)},
        {"otp": auth_field(mandatory=False, store=False)},
    ]
    return document | changes


def oauth2_integration(bridge_url: str, provider_url: str, **oauth2: Any) -> dict[str, Any]:
    return seed_integration() | {
        "name": "crm",
        "display_name": "Demo CRM",
        "authentication_type": "oauth2",
        "auth_validation_endpoint": f"{bridge_url}/auth_validation",
        "interaction_types": ["deal"],
        "authentication_configuration": [
            {"instance_url": auth_field(kind="oauth", mandatory=False)},
            {"account_id": auth_field("auth_validation", mandatory=False)},
        ],
        "oauth2_configuration": {
            "authorize_url": f"{provider_url}/authorize",
            "token_url": f"{provider_url}/token",
            "client_id": "hub",
            "client_secret": CLIENT_SECRET,
            "scopes": ["tickets"],
            "pkce": True,
            **oauth2,
        },
    }


@pytest.fixture
async def zendesk(client: httpx.AsyncClient, bridge_url: str) -> dict[str, Any]:
    document = custom_integration(bridge_url)
    assert (await client.post("/v1/integrations", json=document)).status_code == 201
    return document


@pytest.fixture
async def crm(client: httpx.AsyncClient, bridge_url: str, provider_url: str) -> dict[str, Any]:
    document = oauth2_integration(bridge_url, provider_url)
    assert (await client.post("/v1/integrations", json=document)).status_code == 201
    return document


async def authorize(tenant: Tenant, authorize_url: str, **callback_changes: str) -> httpx.Response:
    """Play the person's browser: visit the provider, follow it back to the hub's callback."""
    async with httpx.AsyncClient() as browser:
        consent = await browser.get(authorize_url)
    assert consent.status_code == 302, consent.text
    location = urlsplit(consent.headers["location"])
    query = {key: values[0] for key, values in parse_qs(location.query).items()} | callback_changes
    return await tenant.client.get("/oauth/callback", params=query, headers={"Authorization": ""})


async def connect_crm(tenant: Tenant) -> dict[str, Any]:
    created = await tenant.client.post("/v1/activations", json={"integration": "crm"})
    assert created.status_code == 201, created.text
    page = await authorize(tenant, created.json()["authorize_url"])
    assert page.status_code == 200, page.text
    activation: dict[str, Any] = (
        await tenant.client.get(f"/v1/activations/{created.json()['id']}")
    ).json()
    return activation


@pytest.fixture
def stored_tokens(hub: FastAPI) -> Callable[[str], Awaitable[dict[str, str]]]:
    """The OAuth 2.0 tokens an activation holds, opened with the hub's own vault."""

    async def tokens(activation_id: str) -> dict[str, str]:
        runtime = hub.state.runtime
        async with runtime.sessionmaker() as session:
            activation = await session.get_one(Activation, uuid.UUID(activation_id))
            return unseal(runtime.vault, activation.id, activation.sealed_credentials).tokens

    return tokens


def distinctive(label: str) -> str:
    """A value that cannot appear anywhere by chance, to search logs and answers for."""
    return f"{label}-{secrets.token_hex(8)}"
