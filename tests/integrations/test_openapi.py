"""`bridgehub bridge-openapi`: the OpenAPI 3.1 document of a bridge, from its integration
and action configurations, valid for every example configuration, holding for the requests
the hub really sends, and refused with a clear error where it cannot be made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import OpenAPIV31SpecValidator
from typer.testing import CliRunner

from bridgehub.bridge.protocol import ActionMeta, ActionRequest, ContactSyncMeta, ContactSyncRequest
from bridgehub.cli import app
from bridgehub.demo.helpdesk import configurations as demo_configurations
from bridgehub.integrations.configuration import validate_action, validate_integration
from bridgehub.integrations.openapi import NoOpenApiDocument, bridge_openapi
from tests.conftest import CATALOG, ROOT, seed_action, seed_integration

runner = CliRunner()
EXAMPLES = ROOT / "examples"
CONFIGURATION_FOLDERS = sorted(
    {path.parent for path in EXAMPLES.rglob("*.integration.json")}, key=str
)


def openapi(*paths: Path) -> dict[str, Any]:
    result = runner.invoke(app, ["bridge-openapi", *map(str, paths)])
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def holds(document: dict[str, Any], component: str, instance: Any) -> list[str]:
    """The problems of `instance` against a schema of the document's components."""
    schema = {"$ref": f"#/components/schemas/{component}", "components": document["components"]}
    return [error.message for error in Draft202012Validator(schema).iter_errors(instance)]


def test_every_example_configuration_is_found() -> None:
    assert [folder.relative_to(EXAMPLES).as_posix() for folder in CONFIGURATION_FOLDERS] == [
        "bridges/carddav",
        "bridges/node-crm",
        "catalog",
    ]


@pytest.mark.parametrize(
    "folder", CONFIGURATION_FOLDERS, ids=lambda folder: folder.relative_to(EXAMPLES).as_posix()
)
def test_the_document_of_each_example_is_valid_openapi_3_1(folder: Path) -> None:
    document = openapi(folder)

    OpenAPIV31SpecValidator(document).validate()
    integration = json.loads(next(folder.glob("*.integration.json")).read_text())
    actions = [json.loads(path.read_text()) for path in folder.glob("*.action.json")]
    declared = [
        integration[key]
        for key in (
            "auth_validation_endpoint",
            "contact_synchronization_endpoint",
            "interaction_retrieval_endpoint",
            "agent_synchronization_endpoint",
        )
        if key in integration
    ] + [action["endpoint"] for action in actions]
    served = [f"{document['servers'][0]['url']}{path}" for path in document["paths"]]
    assert served == declared
    assert all(list(item) == ["post"] for item in document["paths"].values())
    assert document["info"]["title"] == f"{integration['display_name']} bridge"


def test_the_document_is_self_contained_and_without_schema_ids() -> None:
    text = json.dumps(openapi(EXAMPLES / "bridges" / "node-crm"))

    assert '"$defs"' not in text
    assert '"$id"' not in text
    references = {part.split('"')[0] for part in text.split('"$ref": "')[1:]}
    assert references
    assert all(reference.startswith("#/components/schemas/") for reference in references)


def test_an_actions_data_holds_its_inputs_and_auth_the_integrations_fields() -> None:
    document = openapi(CATALOG)
    operation = document["paths"]["/actions/create_ticket"]["post"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][request.rsplit("/", 1)[-1]]
    sent = ActionRequest(
        auth={"account": "https://acme.zendesk.com", "email": "a@acme.example", "token": "t"},
        meta=ActionMeta(contact_external_id="1"),
        data={"subject": "Missed call", "description": "Jane called."},
    )

    assert schema["properties"]["data"]["required"] == ["subject", "description"]
    assert list(schema["properties"]["data"]["properties"]) == ["subject", "description"]
    assert holds(document, "CreateTicketActionRequest", json.loads(sent.to_json())) == []
    assert holds(
        document, "CreateTicketActionRequest", {**json.loads(sent.to_json()), "data": {}}
    ) == ["'subject' is a required property", "'description' is a required property"]
    assert holds(document, "Auth", {"account": "https://acme.zendesk.com"}) == [
        "'email' is a required property",
        "'token' is a required property",
    ]
    assert sorted(operation["responses"]) == ["201", "204", "400", "401", "429", "503"]


def test_an_inputs_choices_are_its_enum_and_its_default_the_schemas() -> None:
    document = openapi(EXAMPLES / "bridges" / "node-crm")
    data = document["components"]["schemas"]["CreateTicketActionRequest"]["properties"]["data"]
    request = {"auth": {"api_key": "k"}, "data": {"subject": "Hi", "priority": "high"}}

    assert data["properties"]["priority"] == {
        "title": "Priority",
        "type": "string",
        "enum": ["none", "low", "normal", "high", "urgent"],
        "default": "normal",
    }
    assert data["properties"]["subject"] == {"title": "Subject"}
    assert holds(document, "CreateTicketActionRequest", request) == []
    request["data"]["priority"] = "critical"
    assert holds(document, "CreateTicketActionRequest", request) == [
        "'critical' is not one of ['none', 'low', 'normal', 'high', 'urgent']"
    ]


def test_a_contact_sync_request_and_its_answers_are_described_as_the_protocol_has_them() -> None:
    document = openapi(EXAMPLES / "bridges" / "node-crm")
    operation = document["paths"]["/contact_sync"]["post"]
    sent = ContactSyncRequest(
        auth={"api_key": "k"}, meta=ContactSyncMeta(synchronization_checkpoint="c", offset="o")
    )

    assert holds(document, "ContactSyncRequest", json.loads(sent.to_json())) == []
    assert holds(document, "ContactSyncRequest", {"auth": {}, "meta": {}}) == [
        "'api_key' is a required property"
    ]
    assert holds(document, "ContactSyncResponse", {"contacts": [{"id": 1, "name": "Jo"}]}) == []
    assert holds(document, "ContactSyncResponse", {"contacts": [{"id": 1}]}) == [
        "'name' is a required property"
    ]
    assert sorted(operation["responses"]) == ["200", "400", "401", "410"]
    assert operation["operationId"] == "syncContacts"


def test_an_oauth2_integration_gets_its_token_and_auth_validation_values_in_auth() -> None:
    documents = demo_configurations(
        "https://bridges.example/demo", "https://id.example", "hub", "client-secret"
    )
    integration = validate_integration(next(d for d in documents if d["name"] == "demo-crm"))
    actions = [validate_action(d) for d in documents if d.get("provider") == "demo-crm"]

    document = bridge_openapi(integration, actions)

    OpenAPIV31SpecValidator(document).validate()
    schemas = document["components"]["schemas"]
    assert schemas["AuthAtValidation"]["required"] == ["access_token"]
    assert set(schemas["AuthAtValidation"]["properties"]) == {"instance_url", "access_token"}
    assert set(schemas["Auth"]["properties"]) == {"instance_url", "crm_user", "access_token"}
    assert list(schemas["AuthValidationResponse"]["properties"]) == ["crm_user"]
    assert "securitySchemes" not in document["components"]
    assert document["servers"] == [{"url": "https://bridges.example"}]
    assert list(document["paths"]) == [
        "/demo/crm/auth_validation",
        "/demo/crm/contact_sync",
        "/demo/crm/interactions",
        "/demo/crm/agent_sync",
        "/demo/crm/actions/log_call",
    ]


def test_an_endpoint_served_elsewhere_names_its_own_server() -> None:
    integration = seed_integration()
    integration["agent_synchronization_endpoint"] = "https://agents.example:8443/v2/agents"

    document = bridge_openapi(validate_integration(integration))

    OpenAPIV31SpecValidator(document).validate()
    assert document["servers"] == [{"url": "https://td-zendesk.herokuapp.com"}]
    assert document["paths"]["/v2/agents"]["servers"] == [{"url": "https://agents.example:8443"}]
    assert "servers" not in document["paths"]["/contact_sync"]


def test_endpoints_that_cannot_be_paths_of_one_document_are_named() -> None:
    integration = seed_integration()
    integration["agent_synchronization_endpoint"] = "https://elsewhere.example/contact_sync"
    integration["interaction_retrieval_endpoint"] = "https://td-zendesk.herokuapp.com/i?kind=all"

    with pytest.raises(NoOpenApiDocument) as raised:
        bridge_openapi(validate_integration(integration))

    assert [(p.path, p.message) for p in raised.value.problems] == [
        (
            "interaction_retrieval_endpoint",
            "has a query, a fragment or braces, which an OpenAPI path cannot hold; "
            "found https://td-zendesk.herokuapp.com/i?kind=all",
        ),
        (
            "agent_synchronization_endpoint",
            "has the path /contact_sync of contact_synchronization_endpoint, and a path holds "
            "one POST",
        ),
    ]


def write(folder: Path, name: str, document: Any) -> Path:
    path = folder / name
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({}, "(document): no such file"),
        ({"broken.json": "{"}, "is not valid JSON"),
        ({"z.json": {**seed_integration(), "logo_url": "logo.png"}}, "logo_url: must be an http"),
        (
            {"a.json": seed_integration(), "b.json": {**seed_integration(), "name": "other"}},
            "Give one integration configuration (and its actions'); found 2.",
        ),
        ({"a.json": seed_action()}, "found 0"),
        (
            {"z.json": seed_integration(), "a.json": {**seed_action(), "provider": "freshdesk"}},
            'actions.create_ticket.provider: is "freshdesk", not "zendesk"',
        ),
    ],
)
def test_a_file_that_cannot_make_a_document_is_refused_with_what_is_wrong(
    tmp_path: Path, files: dict[str, Any], problem: str
) -> None:
    paths = [write(tmp_path, name, document) for name, document in files.items()]

    result = runner.invoke(app, ["bridge-openapi", *map(str, paths or [tmp_path / "missing.json"])])

    assert result.exit_code == 1
    assert problem in result.stderr
    assert '"openapi"' not in result.stdout
    assert "Traceback" not in result.stderr
