"""Activating integrations over real HTTP: none, custom and OAuth 2.0, against a steered
bridge and the local OAuth 2.0 provider."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from bridgehub.demo.oauth_provider import OAuthProvider
from tests.activations.conftest import (
    GOOD_TOKEN,
    SteeredBridge,
    auth_field,
    authorize,
    connect_crm,
    custom_integration,
    oauth2_integration,
)
from tests.conftest import TableRows, Tenant, as_account, create_account, seed_integration
from tests.integrations.test_catalog_api import assert_error

GOOD_AUTH = {"account": "acme", "email": "agent@acme.example", "token": GOOD_TOKEN}


async def activate(tenant: Tenant, **body: Any) -> httpx.Response:
    return await tenant.client.post("/v1/activations", json={"integration": "zendesk", **body})


# --- none ---------------------------------------------------------------------------------


async def test_an_integration_without_authentication_is_active_at_once(
    client: httpx.AsyncClient, tenant: Tenant, bridge: SteeredBridge, bridge_url: str
) -> None:
    document = seed_integration() | {
        "authentication_type": "none",
        "auth_validation_endpoint": f"{bridge_url}/auth_validation",
    }
    del document["authentication_configuration"]
    bridge.answer = (204, None)
    await client.post("/v1/integrations", json=document)
    response = await activate(tenant)
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "active"
    assert response.json()["auth"] == {}
    assert bridge.received == [{"auth": {}}]


# --- custom -------------------------------------------------------------------------------


@pytest.mark.usefixtures("zendesk")
async def test_custom_credentials_are_formatted_validated_and_kept(
    tenant: Tenant, bridge: SteeredBridge
) -> None:
    response = await activate(
        tenant, auth=GOOD_AUTH | {"otp": "123456"}, interaction_types=["ticket"]
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["status"] == "active"
    assert body["integration"] == "zendesk"
    assert body["interaction_types"] == ["ticket"]
    # The bridge got the formatted account, the default, and the value kept for one request.
    assert bridge.received == [
        {
            "auth": {
                "account": "https://acme.zendesk.com",
                "email": "agent@acme.example",
                "token": GOOD_TOKEN,
                "region": "eu",
                "otp": "123456",
            }
        }
    ]
    # Answers show the public values only (formatted, default, an email); `otp` was never kept.
    assert body["auth"] == {
        "account": "https://acme.zendesk.com",
        "email": "agent@acme.example",
        "token": "********",
        "region": "eu",
        "account_id": "********",
    }

    # Later calls carry what auth validation added, and not the one-request value.
    bridge.received.clear()
    checked = await tenant.client.post(f"/v1/activations/{body['id']}/check")
    assert checked.status_code == 200, checked.text
    assert bridge.received[0]["auth"] == {
        "account": "https://acme.zendesk.com",
        "email": "agent@acme.example",
        "token": GOOD_TOKEN,
        "region": "eu",
        "account_id": "acct-42",
    }


@pytest.mark.usefixtures("zendesk")
async def test_a_pasted_url_is_not_formatted_twice(tenant: Tenant, bridge: SteeredBridge) -> None:
    response = await activate(tenant, auth=GOOD_AUTH | {"account": "https://acme.zendesk.com"})
    assert response.status_code == 201
    assert bridge.received[0]["auth"]["account"] == "https://acme.zendesk.com"


@pytest.mark.usefixtures("zendesk")
async def test_every_missing_mandatory_field_is_named(
    tenant: Tenant, bridge: SteeredBridge
) -> None:
    response = await activate(tenant, auth={"account": "acme", "email": "  "})
    error = assert_error(response, 422, "invalid_credentials")
    assert [(d["path"], d["message"]) for d in error["details"]] == [
        ("auth.email", '"Agent Email" is required'),
        ("auth.token", '"API Token" is required'),
    ]
    assert bridge.received == []


@pytest.mark.usefixtures("zendesk")
@pytest.mark.parametrize(
    ("auth", "path", "message"),
    [
        ({"tokn": "x"}, "auth.tokn", "is not a field of zendesk"),
        ({"region": "us"}, "auth.region", "has a fixed default"),
        ({"account_id": "x"}, "auth.account_id", "is filled by the bridge's auth validation"),
        ({"token": 42}, "auth.token", "must be a string"),
    ],
)
async def test_values_a_person_cannot_give_are_refused(
    tenant: Tenant, auth: dict[str, Any], path: str, message: str
) -> None:
    error = assert_error(await activate(tenant, auth=GOOD_AUTH | auth), 422, "invalid_credentials")
    assert [d["path"] for d in error["details"]] == [path]
    assert message in error["details"][0]["message"]


@pytest.mark.usefixtures("zendesk")
async def test_rejected_credentials_store_nothing(
    tenant: Tenant, bridge: SteeredBridge, database_rows: TableRows
) -> None:
    response = await activate(tenant, auth=GOOD_AUTH | {"token": "wrong"})
    error = assert_error(response, 422, "credentials_rejected")
    # What the bridge said is what the person needs to know.
    assert error["message"] == "Zendesk refused these credentials: bad credentials."
    assert (await tenant.client.get("/v1/activations")).json() == {"items": []}
    assert await database_rows("activations") == []


@pytest.mark.usefixtures("zendesk")
@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ((500, {"message": "boom"}), "500"),
        ((200, ["not", "an", "object"]), "object"),
        ((404, None), "404"),
    ],
)
async def test_a_broken_bridge_is_a_bad_gateway(
    tenant: Tenant,
    bridge: SteeredBridge,
    database_rows: TableRows,
    answer: tuple[int, Any],
    reason: str,
) -> None:
    bridge.answer = answer
    error = assert_error(await activate(tenant, auth=GOOD_AUTH), 502, "bridge_error")
    assert "could not validate the credentials" in error["message"]
    assert reason in error["message"]
    assert await database_rows("activations") == []


async def test_an_unreachable_bridge_is_a_bad_gateway(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await client.post("/v1/integrations", json=custom_integration("http://127.0.0.1:9"))
    assert_error(await activate(tenant, auth=GOOD_AUTH), 502, "bridge_error")


@pytest.mark.usefixtures("zendesk")
async def test_an_integration_is_connected_once_per_account(tenant: Tenant) -> None:
    assert (await activate(tenant, auth=GOOD_AUTH)).status_code == 201
    assert_error(await activate(tenant, auth=GOOD_AUTH), 409, "conflict")


@pytest.mark.usefixtures("zendesk")
async def test_concurrent_activations_create_one(tenant: Tenant) -> None:
    answers = await asyncio.gather(*(activate(tenant, auth=GOOD_AUTH) for _ in range(5)))
    assert sorted(a.status_code for a in answers) == [201, 409, 409, 409, 409]


@pytest.mark.usefixtures("zendesk")
async def test_interaction_types_must_be_offered(tenant: Tenant) -> None:
    response = await activate(tenant, auth=GOOD_AUTH, interaction_types=["ticket", "deal"])
    error = assert_error(response, 422, "invalid_request")
    assert error["details"] == [
        {
            "path": "interaction_types[1]",
            "message": '"deal" is not offered by zendesk; offered: ticket',
        }
    ]


async def test_an_unknown_integration_is_named(tenant: Tenant) -> None:
    error = assert_error(await activate(tenant), 422, "invalid_request")
    assert error["details"] == [
        {"path": "integration", "message": 'no integration named "zendesk" is registered'}
    ]


@pytest.mark.usefixtures("zendesk")
async def test_changing_credentials_validates_them_again(
    tenant: Tenant, bridge: SteeredBridge
) -> None:
    activation_id = (await activate(tenant, auth=GOOD_AUTH)).json()["id"]
    wrong = await tenant.client.patch(
        f"/v1/activations/{activation_id}", json={"auth": {"token": "wrong"}}
    )
    assert_error(wrong, 422, "credentials_rejected")
    bridge.received.clear()
    assert (await tenant.client.post(f"/v1/activations/{activation_id}/check")).status_code == 200
    assert bridge.received[0]["auth"]["token"] == GOOD_TOKEN

    changed = await tenant.client.patch(
        f"/v1/activations/{activation_id}",
        json={
            "auth": {"email": "lead@acme.example"},
            "sync_interval_minutes": 60,
            "interaction_types": [],
        },
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["sync_interval_minutes"] == 60
    assert changed.json()["interaction_types"] == []
    assert bridge.received[-1]["auth"]["email"] == "lead@acme.example"
    assert bridge.received[-1]["auth"]["token"] == GOOD_TOKEN


@pytest.mark.usefixtures("zendesk")
async def test_disabling_and_enabling(tenant: Tenant) -> None:
    activation_id = (await activate(tenant, auth=GOOD_AUTH)).json()["id"]
    path = f"/v1/activations/{activation_id}"
    assert (await tenant.client.patch(path, json={"status": "disabled"})).json()[
        "status"
    ] == "disabled"
    assert_error(await tenant.client.post(f"{path}/check"), 409, "conflict")
    assert (await tenant.client.patch(path, json={"status": "active"})).json()["status"] == "active"
    refused = await tenant.client.patch(path, json={"status": "pending_authorization"})
    assert_error(refused, 422, "invalid_request")


@pytest.mark.usefixtures("zendesk")
async def test_rejected_stored_credentials_need_a_person(
    tenant: Tenant, bridge: SteeredBridge
) -> None:
    activation_id = (await activate(tenant, auth=GOOD_AUTH)).json()["id"]
    bridge.answer = (401, {"message": "revoked"})
    assert_error(
        await tenant.client.post(f"/v1/activations/{activation_id}/check"),
        422,
        "credentials_rejected",
    )
    activation = (await tenant.client.get(f"/v1/activations/{activation_id}")).json()
    assert activation["status"] == "needs_reauthorization"
    bridge.answer = None
    fixed = await tenant.client.patch(
        f"/v1/activations/{activation_id}", json={"auth": {"token": GOOD_TOKEN}}
    )
    assert fixed.json()["status"] == "active"


@pytest.mark.usefixtures("zendesk")
async def test_deleting_an_activation(tenant: Tenant, database_rows: TableRows) -> None:
    activation_id = (await activate(tenant, auth=GOOD_AUTH)).json()["id"]
    assert (await tenant.client.delete(f"/v1/activations/{activation_id}")).status_code == 204
    assert_error(await tenant.client.get(f"/v1/activations/{activation_id}"), 404, "not_found")
    assert await database_rows("activations") == []


@pytest.mark.usefixtures("zendesk")
async def test_deleting_a_connected_integration_needs_force(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    await activate(tenant, auth=GOOD_AUTH)
    assert (
        "connected by 1 account"
        in assert_error(await client.delete("/v1/integrations/zendesk"), 409, "conflict")["message"]
    )
    assert (await client.delete("/v1/integrations/zendesk?force=true")).status_code == 204
    assert (await tenant.client.get("/v1/activations")).json() == {"items": []}


# --- tenancy ------------------------------------------------------------------------------


@pytest.mark.usefixtures("zendesk")
async def test_another_account_cannot_see_or_touch_an_activation(
    client: httpx.AsyncClient, tenant: Tenant
) -> None:
    activation_id = (await activate(tenant, auth=GOOD_AUTH)).json()["id"]
    _, other_key = await create_account(client, "Globex")
    other = as_account(other_key)
    assert (await client.get("/v1/activations", headers=other)).json() == {"items": []}
    path = f"/v1/activations/{activation_id}"
    for method, suffix in [
        ("GET", ""),
        ("PATCH", ""),
        ("DELETE", ""),
        ("POST", "/check"),
        ("POST", "/reconnect"),
    ]:
        response = await client.request(method, path + suffix, headers=other, json={})
        assert_error(response, 404, "not_found")
    assert (await tenant.client.get(path)).status_code == 200


async def test_activations_need_an_account_key(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/activations"), 403, "forbidden")
    assert_error(
        await client.get("/v1/activations", headers={"Authorization": ""}), 401, "unauthorized"
    )


# --- OAuth 2.0 ------------------------------------------------------------------------------


@pytest.mark.usefixtures("crm")
async def test_the_oauth2_code_flow_connects(
    tenant: Tenant, bridge: SteeredBridge, provider: OAuthProvider, provider_url: str
) -> None:
    created = await tenant.client.post("/v1/activations", json={"integration": "crm"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["status"] == "pending_authorization"
    target = urlsplit(body["authorize_url"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider_url}/authorize"
    assert query["client_id"] == ["hub"]
    assert query["redirect_uri"] == ["http://hub.test/oauth/callback"]
    assert query["code_challenge_method"] == ["S256"]
    assert query["scope"] == ["tickets"]

    page = await authorize(tenant, body["authorize_url"])
    assert page.status_code == 200
    assert "Demo CRM is connected" in page.text
    activation = (await tenant.client.get(f"/v1/activations/{body['id']}")).json()
    assert activation["status"] == "active"
    assert activation["token_expires_at"] is not None
    assert activation["auth"] == {"instance_url": "********", "account_id": "********"}
    sent = bridge.received[-1]["auth"]
    assert provider.is_valid_access_token(sent["access_token"])
    assert sent["instance_url"] == "https://acme.crm.example"


@pytest.mark.usefixtures("crm")
async def test_a_state_works_once(tenant: Tenant) -> None:
    created = (await tenant.client.post("/v1/activations", json={"integration": "crm"})).json()
    async with httpx.AsyncClient() as browser:
        redirect = (await browser.get(created["authorize_url"])).headers["location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(redirect).query).items()}
    first = await tenant.client.get("/oauth/callback", params=query)
    assert first.status_code == 200
    replay = await tenant.client.get("/oauth/callback", params=query)
    assert replay.status_code == 400
    assert "already used" in replay.text


@pytest.mark.usefixtures("crm")
async def test_unknown_and_expired_states_are_refused(
    tenant: Tenant, hub_sql: Callable[[str], Awaitable[None]]
) -> None:
    unknown = await tenant.client.get("/oauth/callback", params={"state": "forged", "code": "x"})
    assert unknown.status_code == 400
    assert "unknown" in unknown.text
    created = (await tenant.client.post("/v1/activations", json={"integration": "crm"})).json()
    await hub_sql("UPDATE oauth_authorizations SET expires_at = now() - interval '1 second'")
    expired = await authorize(tenant, created["authorize_url"])
    assert expired.status_code == 400
    assert "expired" in expired.text
    assert (await tenant.client.get(f"/v1/activations/{created['id']}")).json()[
        "status"
    ] == "pending_authorization"


@pytest.mark.usefixtures("crm")
async def test_a_denied_authorization_leaves_the_activation_pending(tenant: Tenant) -> None:
    created = (await tenant.client.post("/v1/activations", json={"integration": "crm"})).json()
    page = await authorize(tenant, created["authorize_url"], error="access_denied", code="")
    assert page.status_code == 400
    assert "access_denied" in page.text
    activation = (await tenant.client.get(f"/v1/activations/{created['id']}")).json()
    assert activation["status"] == "pending_authorization"
    assert "access_denied" in activation["status_reason"]


async def test_the_bridge_may_exchange_the_code_itself(
    client: httpx.AsyncClient,
    tenant: Tenant,
    bridge: SteeredBridge,
    bridge_url: str,
    provider_url: str,
) -> None:
    document = oauth2_integration(bridge_url, provider_url)
    document["oauth2_configuration"] = {
        key: document["oauth2_configuration"][key]
        for key in ("authorize_url", "client_id", "scopes")
    }
    document["authentication_configuration"] = [
        {"code": auth_field(kind="oauth", store=False)},
        {"access_token": auth_field("auth_validation")},
        {"account_id": auth_field("auth_validation", mandatory=False)},
    ]
    assert (await client.post("/v1/integrations", json=document)).status_code == 201
    created = (await tenant.client.post("/v1/activations", json={"integration": "crm"})).json()
    page = await authorize(tenant, created["authorize_url"])
    assert page.status_code == 200, page.text
    code = bridge.received[0]["auth"]["code"]
    bridge.received.clear()
    assert (await tenant.client.post(f"/v1/activations/{created['id']}/check")).status_code == 200
    # The code went to the bridge once; what the bridge answered is what travels now.
    assert bridge.received[0]["auth"] == {
        "access_token": f"bridge-exchanged-{code}",
        "account_id": "acct-7",
    }


# --- tokens ---------------------------------------------------------------------------------


@pytest.mark.usefixtures("crm")
async def test_a_token_about_to_expire_is_refreshed_first(
    tenant: Tenant,
    bridge: SteeredBridge,
    provider: OAuthProvider,
    hub_sql: Callable[[str], Awaitable[None]],
) -> None:
    activation = await connect_crm(tenant)
    refreshes = provider.token_requests.get("refresh_token", 0)
    await hub_sql("UPDATE activations SET token_expires_at = now() + interval '10 seconds'")
    bridge.received.clear()
    assert (
        await tenant.client.post(f"/v1/activations/{activation['id']}/check")
    ).status_code == 200
    assert provider.token_requests["refresh_token"] == refreshes + 1
    # No request went out with the old token: the refresh came first.
    assert len(bridge.received) == 1
    assert provider.is_valid_access_token(bridge.received[0]["auth"]["access_token"])


@pytest.mark.usefixtures("crm")
async def test_twenty_concurrent_401s_cause_one_refresh(
    tenant: Tenant, bridge: SteeredBridge, provider: OAuthProvider
) -> None:
    activation = await connect_crm(tenant)
    refreshes = provider.token_requests.get("refresh_token", 0)
    provider.expire_access_tokens()
    path = f"/v1/activations/{activation['id']}/check"
    answers = await asyncio.gather(*(tenant.client.post(path) for _ in range(20)))
    assert [a.status_code for a in answers] == [200] * 20, [
        a.text for a in answers if a.status_code != 200
    ]
    assert provider.token_requests["refresh_token"] == refreshes + 1


@pytest.mark.usefixtures("crm")
async def test_a_rotated_refresh_token_is_kept(
    tenant: Tenant,
    provider: OAuthProvider,
    stored_tokens: Callable[[str], Awaitable[dict[str, str]]],
) -> None:
    activation = await connect_crm(tenant)
    first = (await stored_tokens(activation["id"]))["refresh_token"]
    provider.expire_access_tokens()
    assert (
        await tenant.client.post(f"/v1/activations/{activation['id']}/check")
    ).status_code == 200
    second = (await stored_tokens(activation["id"]))["refresh_token"]
    assert second != first
    # The rotated token works: a second refresh succeeds.
    provider.expire_access_tokens()
    assert (
        await tenant.client.post(f"/v1/activations/{activation['id']}/check")
    ).status_code == 200


async def test_an_omitted_refresh_token_keeps_the_old_one(
    client: httpx.AsyncClient,
    tenant: Tenant,
    bridge_url: str,
    provider_without_rotation: tuple[OAuthProvider, str],
    stored_tokens: Callable[[str], Awaitable[dict[str, str]]],
) -> None:
    provider, provider_url = provider_without_rotation
    await client.post("/v1/integrations", json=oauth2_integration(bridge_url, provider_url))
    activation = await connect_crm(tenant)
    first = (await stored_tokens(activation["id"]))["refresh_token"]
    for _ in range(2):
        provider.expire_access_tokens()
        assert (
            await tenant.client.post(f"/v1/activations/{activation['id']}/check")
        ).status_code == 200
    assert (await stored_tokens(activation["id"]))["refresh_token"] == first


@pytest.mark.usefixtures("crm")
async def test_invalid_grant_needs_reauthorization_then_reconnects(
    tenant: Tenant, provider: OAuthProvider
) -> None:
    activation = await connect_crm(tenant)
    path = f"/v1/activations/{activation['id']}"
    provider.revoke_all_refresh_tokens()
    provider.expire_access_tokens()
    assert_error(await tenant.client.post(f"{path}/check"), 422, "credentials_rejected")
    stuck = (await tenant.client.get(path)).json()
    assert stuck["status"] == "needs_reauthorization"
    assert "invalid_grant" in stuck["status_reason"]

    reconnect = await tenant.client.post(f"{path}/reconnect")
    assert reconnect.status_code == 200
    assert (await authorize(tenant, reconnect.json()["authorize_url"])).status_code == 200
    assert (await tenant.client.get(path)).json()["status"] == "active"
    assert (await tenant.client.post(f"{path}/check")).status_code == 200


@pytest.mark.usefixtures("zendesk")
async def test_only_oauth2_activations_reconnect(tenant: Tenant) -> None:
    activation_id = (await activate(tenant, auth=GOOD_AUTH)).json()["id"]
    assert_error(
        await tenant.client.post(f"/v1/activations/{activation_id}/reconnect"), 409, "conflict"
    )


async def test_oauth2_without_provider_settings_cannot_connect(
    client: httpx.AsyncClient, tenant: Tenant, bridge_url: str, provider_url: str
) -> None:
    document = oauth2_integration(bridge_url, provider_url)
    del document["oauth2_configuration"]
    await client.post("/v1/integrations", json=document)
    response = await tenant.client.post("/v1/activations", json={"integration": "crm"})
    assert "no oauth2_configuration" in assert_error(response, 409, "conflict")["message"]
