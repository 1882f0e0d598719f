"""URLs the hub could never call are refused when an integration is registered, naming the
field, rather than failing at the first call; and an OAuth 2.0 token_url stored before that
rule existed fails the callback with a page saying why, never a server error."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bridgehub.demo.serving import serve
from tests.activations.conftest import local_provider, oauth2_integration
from tests.conftest import HubSql, Tenant, seed_integration
from tests.integrations.test_catalog_api import assert_error

UNREADABLE_HOSTS = ["http://0177.0.0.1:8080/oauth/token", "http://\u246027.0.0.1/oauth/token"]
METADATA = [
    "http://169.254.169.254/latest",
    "http://[fd00:ec2::254]/latest",
    "http://2852039166/latest",  # 169.254.169.254 as one number, which resolvers read
    "http://0xa9fea9fe/latest",
]


def refused_at(response: httpx.Response, path: str, said: str) -> None:
    error = assert_error(response, 422, "invalid_configuration")
    assert [detail["path"] for detail in error["details"]] == [path], error
    assert said in error["details"][0]["message"]


@pytest.mark.parametrize("url", [*METADATA, "http://0177.0.0.1/", "https://\u00cf/"])
async def test_an_endpoint_that_can_never_be_called_is_refused_at_registration(
    client: httpx.AsyncClient, url: str
) -> None:
    document = seed_integration() | {"contact_synchronization_endpoint": url}
    response = await client.post("/v1/integrations", json=document)
    refused_at(response, "contact_synchronization_endpoint", "")
    assert (await client.get("/v1/integrations")).json()["items"] == []


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/contacts", "http://10.0.0.7/contacts"])
async def test_a_private_endpoint_is_accepted_at_registration(
    client: httpx.AsyncClient, url: str
) -> None:
    # Whether it may be called depends on BRIDGEHUB_ALLOW_PRIVATE_NETWORKS at call time.
    document = seed_integration() | {"contact_synchronization_endpoint": url}
    assert (await client.post("/v1/integrations", json=document)).status_code == 201


@pytest.mark.parametrize("field", ["token_url", "authorize_url"])
@pytest.mark.parametrize("url", UNREADABLE_HOSTS)
async def test_an_oauth_url_the_parser_rejects_is_refused_at_registration(
    client: httpx.AsyncClient, field: str, url: str
) -> None:
    document = oauth2_integration("http://127.0.0.1:9", "http://127.0.0.1:9")
    document["oauth2_configuration"][field] = url
    response = await client.post("/v1/integrations", json=document)
    refused_at(response, f"oauth2_configuration.{field}", "")


@pytest.mark.parametrize("url", UNREADABLE_HOSTS)
async def test_a_stored_token_url_the_parser_rejects_fails_the_callback_cleanly(
    client: httpx.AsyncClient, tenant: Tenant, hub_sql: HubSql, url: str
) -> None:
    provider = local_provider(rotate_refresh_tokens=False)
    with serve(provider.app) as provider_url:
        document = oauth2_integration("http://127.0.0.1:9", provider_url)
        assert (await client.post("/v1/integrations", json=document)).status_code == 201
        # Stored as registration accepted it before it read URLs as the HTTP client does.
        path = "'{oauth2_configuration,token_url}'"
        statement = f"UPDATE integrations SET configuration = jsonb_set(configuration::jsonb, {path}, '\"{url}\"')::json"  # noqa: S608, E501
        await hub_sql(f"{statement} WHERE name = 'crm'")
        created = await tenant.client.post("/v1/activations", json={"integration": "crm"})
        assert created.status_code == 201, created.text
        async with httpx.AsyncClient() as browser:
            consent = await browser.get(created.json()["authorize_url"])
    query = {k: v[0] for k, v in parse_qs(urlsplit(consent.headers["location"]).query).items()}
    page = await tenant.client.get("/oauth/callback", params=query)
    assert page.status_code < 500, page.text
    assert "the token_url cannot be called" in page.text
