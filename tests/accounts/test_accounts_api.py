"""Accounts and account keys: creation, scoping, rotation, and what each key may do."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import TableRows, as_account, create_account, seed_integration
from tests.integrations.test_catalog_api import assert_error


async def test_creating_an_account_shows_its_key_once(
    client: httpx.AsyncClient, database_rows: TableRows
) -> None:
    response = await client.post("/v1/accounts", json={"name": "Acme", "default_region": "gb"})
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "Acme"
    assert body["default_region"] == "GB"
    assert body["api_key"].startswith("bh_acct_")
    fetched = await client.get(f"/v1/accounts/{body['id']}")
    assert "api_key" not in fetched.json()
    stored = await database_rows("account_keys")
    assert body["api_key"] not in str(stored)
    assert body["api_key"].startswith(stored[0]["hint"])


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "Acme", "default_region": "ZZ"}, "default_region"),
        ({"name": "Acme", "default_region": "USA"}, "default_region"),
        ({"name": "Acme", "owner": "me"}, "owner"),
    ],
)
async def test_an_invalid_account_is_refused_with_the_path(
    client: httpx.AsyncClient, body: dict[str, str], path: str
) -> None:
    error = assert_error(await client.post("/v1/accounts", json=body), 422, "invalid_request")
    assert [detail["path"] for detail in error["details"]] == [path]
    assert (await client.get("/v1/accounts")).json() == {"items": []}


async def test_a_name_another_account_has_is_refused(client: httpx.AsyncClient) -> None:
    acme_id, _ = await create_account(client, "Acme")
    globex_id, _ = await create_account(client, "Globex")
    before = (await client.get("/v1/accounts")).json()

    taken = await client.post("/v1/accounts", json={"name": " ACME "})
    assert assert_error(taken, 409, "conflict")["message"] == (
        "An account named “ACME” already exists: choose another name."
    )
    renamed = await client.patch(f"/v1/accounts/{globex_id}", json={"name": "acme"})
    assert_error(renamed, 409, "conflict")
    assert (await client.get("/v1/accounts")).json() == before
    # An account keeps its own name when it changes only the letters' case.
    kept = await client.patch(f"/v1/accounts/{acme_id}", json={"name": "ACME"})
    assert kept.json()["name"] == "ACME"


async def test_an_account_key_sees_only_its_own_account(client: httpx.AsyncClient) -> None:
    acme_id, acme_key = await create_account(client, "Acme")
    globex_id, _ = await create_account(client, "Globex")
    acme = as_account(acme_key)
    listed = (await client.get("/v1/accounts", headers=acme)).json()["items"]
    assert [account["id"] for account in listed] == [acme_id]
    assert (await client.get(f"/v1/accounts/{acme_id}", headers=acme)).status_code == 200
    # Another account's resource is indistinguishable from one that does not exist.
    other = await client.get(f"/v1/accounts/{globex_id}", headers=acme)
    missing = await client.get("/v1/accounts/00000000-0000-0000-0000-000000000000", headers=acme)
    assert assert_error(other, 404, "not_found")["message"].replace(
        globex_id, "ID"
    ) == assert_error(missing, 404, "not_found")["message"].replace(
        "00000000-0000-0000-0000-000000000000", "ID"
    )
    assert_error(await client.get(f"/v1/accounts/{globex_id}/keys", headers=acme), 404, "not_found")
    assert_error(
        await client.post(f"/v1/accounts/{globex_id}/keys", headers=acme), 404, "not_found"
    )
    assert (await client.get(f"/v1/accounts/{globex_id}")).status_code == 200


async def test_an_account_key_reads_the_catalog_but_cannot_change_it(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/integrations", json=seed_integration())
    _, key = await create_account(client)
    acme = as_account(key)
    assert [
        i["name"] for i in (await client.get("/v1/integrations", headers=acme)).json()["items"]
    ] == ["zendesk"]
    assert (await client.get("/v1/integrations/zendesk/actions", headers=acme)).status_code == 200
    for method, path in [
        ("POST", "/v1/integrations"),
        ("PUT", "/v1/integrations/zendesk"),
        ("DELETE", "/v1/integrations/zendesk"),
        ("POST", "/v1/actions"),
        ("POST", "/v1/accounts"),
    ]:
        response = await client.request(method, path, json=seed_integration(), headers=acme)
        assert_error(response, 403, "forbidden")


async def test_keys_rotate_without_downtime(client: httpx.AsyncClient) -> None:
    account_id, first_key = await create_account(client)
    first = as_account(first_key)
    created = await client.post(f"/v1/accounts/{account_id}/keys", headers=first)
    assert created.status_code == 201
    second = as_account(created.json()["api_key"])
    keys = (await client.get(f"/v1/accounts/{account_id}/keys", headers=second)).json()["items"]
    assert len(keys) == 2
    first_id = next(k["id"] for k in keys if first_key.startswith(k["hint"]))

    assert (
        await client.delete(f"/v1/accounts/{account_id}/keys/{first_id}", headers=second)
    ).status_code == 204
    assert_error(await client.get("/v1/accounts", headers=first), 401, "unauthorized")
    assert (await client.get("/v1/accounts", headers=second)).status_code == 200
    last_id = created.json()["id"]
    response = await client.delete(f"/v1/accounts/{account_id}/keys/{last_id}", headers=second)
    assert "last key" in assert_error(response, 409, "conflict")["message"]


async def test_deleting_an_account_revokes_its_keys(client: httpx.AsyncClient) -> None:
    account_id, key = await create_account(client)
    acme = as_account(key)
    assert_error(await client.delete(f"/v1/accounts/{account_id}", headers=acme), 403, "forbidden")
    assert (await client.delete(f"/v1/accounts/{account_id}")).status_code == 204
    assert_error(await client.get("/v1/accounts", headers=acme), 401, "unauthorized")
    assert_error(await client.get(f"/v1/accounts/{account_id}"), 404, "not_found")


async def test_renaming_an_account(client: httpx.AsyncClient) -> None:
    account_id, key = await create_account(client)
    response = await client.patch(
        f"/v1/accounts/{account_id}",
        json={"name": "Acme Europe", "default_region": "PT"},
        headers=as_account(key),
    )
    assert response.json()["name"] == "Acme Europe"
    assert response.json()["default_region"] == "PT"


async def test_a_malformed_id_is_a_validation_error_in_the_error_shape(
    client: httpx.AsyncClient,
) -> None:
    error = assert_error(await client.get("/v1/accounts/not-a-uuid"), 422, "invalid_request")
    assert error["details"][0]["path"] == "account_id"


async def test_bodies_sent_the_way_curl_does_by_default_are_read_as_json(
    client: httpx.AsyncClient,
) -> None:
    for content_type in ("application/x-www-form-urlencoded", None):
        headers = {"Content-Type": content_type} if content_type else {}
        body = f'{{"name": "Acme {content_type}"}}'.encode()
        response = await client.post("/v1/accounts", content=body, headers=headers)
        assert response.status_code == 201, response.text
