"""The demo bridge (demo-helpdesk and demo-crm) served on loopback with its OAuth 2.0
provider, and the broken variants' proxy in front of it."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client

from bridgehub.demo.helpdesk import CRM, HELPDESK
from bridgehub.demo.serving import serve
from bridgehub.demo.stack import DemoStack, demo_stack
from tests.conformance.bridges import Proxy, by_name, write
from tests.conftest import HUB_URL
from tests.demo.consent import click_allow


@pytest.fixture(scope="package")
def stack() -> Iterator[DemoStack]:
    with demo_stack(HUB_URL) as running:
        yield running


@pytest.fixture(scope="package")
def served_proxy(stack: DemoStack) -> Iterator[Proxy]:
    proxy = Proxy(stack.bridge_url)
    with serve(proxy.app()) as url:
        proxy.url = url
        yield proxy


@pytest.fixture
def proxy(served_proxy: Proxy) -> Iterator[Proxy]:
    yield served_proxy
    served_proxy.breakage = None


@pytest.fixture(scope="package")
def documents(stack: DemoStack) -> dict[str, dict[str, Any]]:
    """The demo's configurations by name (`demo-helpdesk`, `demo-helpdesk/create_ticket`)."""
    return by_name(stack.documents)


@pytest.fixture(scope="package")
def crm_token(stack: DemoStack) -> dict[str, Any]:
    """A token answer for demo-crm, from its OAuth 2.0 provider, as a person would get."""
    crm = by_name(stack.documents)[CRM]["oauth2_configuration"]
    verifier = secrets.token_urlsafe(48)

    async def authorize() -> dict[str, Any]:
        async with AsyncOAuth2Client(
            crm["client_id"],
            crm["client_secret"],
            scope=" ".join(crm["scopes"]),
            redirect_uri=f"{HUB_URL}/oauth/callback",
            code_challenge_method="S256",
        ) as client:
            url, _ = client.create_authorization_url(crm["authorize_url"], code_verifier=verifier)
            redirect = await click_allow(url)
            assert "code" in parse_qs(urlsplit(redirect).query)
            token: dict[str, Any] = await client.fetch_token(
                crm["token_url"], authorization_response=redirect, code_verifier=verifier
            )
            return token

    return asyncio.run(authorize())


@pytest.fixture
def helpdesk_files(
    tmp_path: Path, stack: DemoStack, documents: dict[str, dict[str, Any]]
) -> tuple[Path, Path]:
    """The demo helpdesk's configuration and test credentials, as files."""
    return (
        write(tmp_path, "helpdesk.json", documents[HELPDESK]),
        write(tmp_path, "creds.json", {"fields": stack.helpdesk_auth}),
    )
