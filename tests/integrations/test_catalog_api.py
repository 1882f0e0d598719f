"""The catalog's HTTP contract: status codes, error shape, storage, concurrency guards."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import seed_action, seed_integration


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert error["message"]
    return error


async def register_seed(client: httpx.AsyncClient) -> None:
    assert (await client.post("/v1/integrations", json=seed_integration())).status_code == 201
    assert (await client.post("/v1/actions", json=seed_action())).status_code == 201


# --- authentication -------------------------------------------------------------------


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-key", "Basic Zm9vOmJhcg==", "Bearer ", "bh_admin_test-key"],
)
async def test_catalog_refuses_callers_without_the_admin_key(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    client.headers.pop("Authorization")
    for method, path in [
        ("GET", "/v1/integrations"),
        ("POST", "/v1/integrations"),
        ("GET", "/v1/actions"),
    ]:
        response = await client.request(method, path, headers=headers, json=seed_integration())
        assert_error(response, 401, "unauthorized")
        assert response.headers["www-authenticate"] == "Bearer"
    client.headers["Authorization"] = "Bearer bh_admin_test-key"
    assert (await client.get("/v1/integrations")).json() == {"items": []}


async def test_health_needs_no_key(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"Authorization": ""})
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


# --- integrations ---------------------------------------------------------------------


async def test_registering_the_seed_integration_answers_it_verbatim(
    client: httpx.AsyncClient,
) -> None:
    document = seed_integration()
    response = await client.post("/v1/integrations", json=document)
    assert response.status_code == 201
    # Same keys in the same order: the configuration is kept as its author wrote it.
    assert list(response.json().items()) == list(document.items())
    assert response.headers["etag"] == '"1"'
    fetched = await client.get("/v1/integrations/zendesk")
    assert list(fetched.json().items()) == list(document.items())
    assert (await client.get("/v1/integrations")).json() == {"items": [document]}


async def test_a_taken_name_is_a_conflict(client: httpx.AsyncClient) -> None:
    await client.post("/v1/integrations", json=seed_integration())
    changed = seed_integration() | {"display_name": "Another Zendesk"}
    error = assert_error(await client.post("/v1/integrations", json=changed), 409, "conflict")
    assert "zendesk" in error["message"]
    assert (await client.get("/v1/integrations/zendesk")).json()["display_name"] == "Zendesk"


async def test_an_invalid_integration_lists_every_problem_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    document = seed_integration()
    document["authentication_configuration"][1]["email"]["mandatory"] = "yes"
    document["authentication_type"] = "basic"
    document["icon_url"] = "icon.png"
    error = assert_error(
        await client.post("/v1/integrations", json=document), 422, "invalid_configuration"
    )
    paths = [detail["path"] for detail in error["details"]]
    assert paths == [
        "icon_url",
        "authentication_type",
        "authentication_configuration[1].email.mandatory",
    ]
    assert all(set(detail) == {"path", "message"} for detail in error["details"])
    assert (await client.get("/v1/integrations")).json() == {"items": []}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"name": "zendesk",', "line 1, column 20"),
        (b'{\n  "name": "zendesk"\n  "display_name": "x"\n}', "line 3, column 3"),
        (b"", "needs a JSON body"),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
async def test_a_body_that_is_not_json_says_where_it_breaks(
    client: httpx.AsyncClient, body: bytes, expected: str
) -> None:
    response = await client.post("/v1/integrations", content=body)
    assert expected in assert_error(response, 422, "invalid_json")["message"]


async def test_json_is_read_whatever_the_content_type(client: httpx.AsyncClient) -> None:
    body = json.dumps(seed_integration())
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    assert (await client.post("/v1/integrations", content=body, headers=headers)).status_code == 201


async def test_a_document_that_is_not_an_object_is_refused_at_its_root(
    client: httpx.AsyncClient,
) -> None:
    error = assert_error(
        await client.post("/v1/integrations", json=[seed_integration()]),
        422,
        "invalid_configuration",
    )
    assert error["details"] == [
        {
            "path": "",
            "message": "an integration configuration must be a JSON object; found an array",
        }
    ]


async def test_unknown_integrations_are_not_found(client: httpx.AsyncClient) -> None:
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(method, "/v1/integrations/nope", json=seed_integration())
        assert "nope" in assert_error(response, 404, "not_found")["message"]


async def test_replacing_an_integration(client: httpx.AsyncClient) -> None:
    await client.post("/v1/integrations", json=seed_integration())
    changed = seed_integration() | {
        "display_name": "Zendesk Support",
        "interaction_types": ["ticket", "call"],
    }
    response = await client.put("/v1/integrations/zendesk", json=changed)
    assert response.status_code == 200
    assert response.json() == changed
    assert response.headers["etag"] == '"2"'
    assert (await client.get("/v1/integrations/zendesk")).json() == changed


async def test_replacing_with_the_same_document_changes_nothing(client: httpx.AsyncClient) -> None:
    await client.post("/v1/integrations", json=seed_integration())
    response = await client.put("/v1/integrations/zendesk", json=seed_integration())
    assert response.headers["etag"] == '"1"'


async def test_an_invalid_replacement_keeps_the_stored_configuration(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/integrations", json=seed_integration())
    broken = seed_integration() | {"authentication_configuration": []}
    error = assert_error(
        await client.put("/v1/integrations/zendesk", json=broken), 422, "invalid_configuration"
    )
    assert error["details"][0]["path"] == "authentication_configuration"
    assert (await client.get("/v1/integrations/zendesk")).json() == seed_integration()


async def test_a_replacement_cannot_rename(client: httpx.AsyncClient) -> None:
    await client.post("/v1/integrations", json=seed_integration())
    renamed = seed_integration() | {"name": "zendesk2"}
    error = assert_error(
        await client.put("/v1/integrations/zendesk", json=renamed), 422, "invalid_configuration"
    )
    assert error["details"][0]["path"] == "name"
    assert (await client.get("/v1/integrations/zendesk2")).status_code == 404


async def test_if_match_guards_against_lost_updates(client: httpx.AsyncClient) -> None:
    etag = (await client.post("/v1/integrations", json=seed_integration())).headers["etag"]
    first = seed_integration() | {"display_name": "First"}
    second = seed_integration() | {"display_name": "Second"}
    assert (
        await client.put("/v1/integrations/zendesk", json=first, headers={"If-Match": etag})
    ).status_code == 200
    stale = await client.put("/v1/integrations/zendesk", json=second, headers={"If-Match": etag})
    assert_error(stale, 412, "precondition_failed")
    garbage = await client.put(
        "/v1/integrations/zendesk", json=second, headers={"If-Match": "yesterday"}
    )
    assert_error(garbage, 412, "precondition_failed")
    assert (await client.get("/v1/integrations/zendesk")).json()["display_name"] == "First"


async def test_deleting_an_integration_removes_its_actions(client: httpx.AsyncClient) -> None:
    await register_seed(client)
    response = await client.delete("/v1/integrations/zendesk")
    assert response.status_code == 204
    assert response.content == b""
    assert_error(await client.get("/v1/integrations/zendesk"), 404, "not_found")
    assert (await client.get("/v1/actions")).json() == {"items": []}
    # The name is free again.
    assert (await client.post("/v1/integrations", json=seed_integration())).status_code == 201


# --- OAuth 2.0 client secret ----------------------------------------------------------


def oauth2_integration(**oauth2: Any) -> dict[str, Any]:
    document = seed_integration()
    del document["authentication_configuration"]
    document["authentication_type"] = "oauth2"
    document["oauth2_configuration"] = {
        "authorize_url": "https://provider.example/authorize",
        "token_url": "https://provider.example/token",
        "client_id": "hub-client",
        **oauth2,
    }
    return document


async def test_the_client_secret_is_masked_in_answers_and_kept_on_put(
    client: httpx.AsyncClient, database_rows: Any
) -> None:
    document = oauth2_integration(client_secret="very-secret-value")
    created = await client.post("/v1/integrations", json=document)
    assert created.json()["oauth2_configuration"]["client_secret"] == "********"
    for answer in (
        created,
        await client.get("/v1/integrations/zendesk"),
        await client.get("/v1/integrations"),
    ):
        assert "very-secret-value" not in answer.text
    assert "very-secret-value" not in json.dumps(await database_rows("integrations"))

    # Sending the answer back (mask included) keeps the secret.
    answered = created.json() | {"display_name": "Renamed for display"}
    assert (await client.put("/v1/integrations/zendesk", json=answered)).status_code == 200
    rows = await database_rows("integrations")
    assert rows[0]["sealed_client_secret"].startswith("v1.")


async def test_the_mask_is_not_a_client_secret(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/integrations", json=oauth2_integration(client_secret="********")
    )
    error = assert_error(response, 422, "invalid_configuration")
    assert error["details"][0]["path"] == "oauth2_configuration.client_secret"


# --- actions --------------------------------------------------------------------------


async def test_registering_the_seed_action(client: httpx.AsyncClient) -> None:
    await client.post("/v1/integrations", json=seed_integration())
    response = await client.post("/v1/actions", json=seed_action())
    assert response.status_code == 201
    assert list(response.json().items()) == list(seed_action().items())
    assert (await client.get("/v1/integrations/zendesk/actions")).json() == {
        "items": [seed_action()]
    }
    assert (await client.get("/v1/actions/zendesk/create_ticket")).json() == seed_action()
    assert (await client.get("/v1/actions")).json() == {"items": [seed_action()]}


async def test_an_action_needs_a_registered_provider(client: httpx.AsyncClient) -> None:
    error = assert_error(
        await client.post("/v1/actions", json=seed_action()), 422, "invalid_configuration"
    )
    assert error["details"] == [
        {"path": "provider", "message": 'no integration named "zendesk" is registered'}
    ]


async def test_an_action_name_is_unique_per_provider(client: httpx.AsyncClient) -> None:
    await register_seed(client)
    assert_error(await client.post("/v1/actions", json=seed_action()), 409, "conflict")
    other = seed_integration() | {"name": "freshdesk"}
    await client.post("/v1/integrations", json=other)
    assert (
        await client.post("/v1/actions", json=seed_action() | {"provider": "freshdesk"})
    ).status_code == 201


async def test_replacing_and_deleting_an_action(client: httpx.AsyncClient) -> None:
    await register_seed(client)
    changed = seed_action() | {"display": "open a ticket"}
    response = await client.put("/v1/actions/zendesk/create_ticket", json=changed)
    assert response.status_code == 200
    assert response.json() == changed
    moved = seed_action() | {"provider": "other", "name": "other"}
    error = assert_error(
        await client.put("/v1/actions/zendesk/create_ticket", json=moved),
        422,
        "invalid_configuration",
    )
    assert [d["path"] for d in error["details"]] == ["provider", "name"]
    assert (await client.delete("/v1/actions/zendesk/create_ticket")).status_code == 204
    assert_error(await client.get("/v1/actions/zendesk/create_ticket"), 404, "not_found")
    assert (await client.get("/v1/integrations/zendesk")).status_code == 200


async def test_actions_of_an_unknown_integration_are_not_found(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/v1/integrations/nope/actions"), 404, "not_found")
    assert_error(await client.get("/v1/actions/nope/create_ticket"), 404, "not_found")


# --- the error shape everywhere -------------------------------------------------------


async def test_unknown_paths_and_methods_use_the_error_shape(client: httpx.AsyncClient) -> None:
    assert (
        "/v2/nothing" in assert_error(await client.get("/v2/nothing"), 404, "not_found")["message"]
    )
    response = await client.patch("/v1/integrations")
    error = assert_error(response, 405, "method_not_allowed")
    assert "GET" in error["message"]
    assert "POST" in error["message"]
    assert "GET" in response.headers["allow"]


async def test_fastapi_validation_errors_use_the_error_shape(client: httpx.AsyncClient) -> None:
    error = assert_error(
        await client.get("/v1/integrations?authentication_type=basic"), 422, "invalid_request"
    )
    assert error["details"][0]["path"] == "authentication_type"


async def test_integrations_can_be_filtered_by_authentication_type(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/v1/integrations", json=seed_integration())
    await client.post("/v1/integrations", json=oauth2_integration(pkce=True) | {"name": "crm"})
    names = [
        i["name"]
        for i in (await client.get("/v1/integrations?authentication_type=oauth2")).json()["items"]
    ]
    assert names == ["crm"]


# --- published documents --------------------------------------------------------------


async def test_openapi_and_json_schemas_are_published(client: httpx.AsyncClient) -> None:
    openapi = (await client.get("/openapi.json")).json()
    assert "/v1/integrations" in openapi["paths"]
    request_schema = openapi["paths"]["/v1/integrations"]["post"]["requestBody"]["content"][
        "application/json"
    ]
    assert request_schema["schema"]["$ref"].endswith("/IntegrationConfiguration")
    assert "IntegrationConfiguration" in openapi["components"]["schemas"]
    for kind in ("integration", "action"):
        response = await client.get(f"/schemas/{kind}.json")
        assert response.headers["content-type"] == "application/schema+json"
        assert "properties" in response.json()
    # The hub's own `secret` on an authentication field is published beside the reference's keys.
    integration = (await client.get("/schemas/integration.json")).json()
    secret = integration["$defs"]["AuthenticationField"]["properties"]["secret"]
    assert {"type": "boolean"} in secret["anyOf"]
    assert_error(await client.get("/schemas/nothing.json"), 404, "not_found")
