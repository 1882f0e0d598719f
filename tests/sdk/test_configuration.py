"""Catalog documents generated from a bridge's own declarations: exactly the reference's
shape, accepted by the hub's validator, and refused at declaration when they would not be."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from bridgehub.cli import app
from bridgehub.integrations.configuration import validate_action, validate_integration
from bridgehub.sdk import ActionInput, AuthField, DeclarationError, OAuth2Configuration
from tests.sdk import sample
from tests.sdk.conftest import new_bridge

BASE_URL = "https://bridge.tiny.example/v2"
runner = CliRunner()


def test_the_integration_configuration_is_the_references_shape() -> None:
    document = sample.bridge.integration_configuration(BASE_URL + "/")

    assert json.dumps(document) == json.dumps(
        {
            "name": "tiny-desk",
            "display_name": "Tiny Desk",
            "description": "Tickets of Tiny Desk, beside every call.",
            "logo_url": "https://tiny.example/logo.png",
            "icon_url": "https://tiny.example/icon.png",
            "authentication_type": "custom",
            "authentication_configuration": [
                {"account": {"source": "input", "display": "Account", "mandatory": True,
                             "type": "input", "store": True,
                             "format": "https://{{account}}.tiny.example"}},
                {"api_key": {"source": "input", "display": "API key", "mandatory": True,
                             "type": "input", "store": True, "help": "Under Settings > API."}},
                {"region": {"source": "default", "display": "Region", "mandatory": False,
                            "type": "input", "store": True, "default": "eu"}},
                {"account_id": {"source": "auth_validation", "display": "Account id",
                                "mandatory": False, "type": "input", "store": True}},
            ],
            "auth_validation_endpoint": f"{BASE_URL}/auth_validation",
            "contact_synchronization_endpoint": f"{BASE_URL}/contact_sync",
            "interaction_retrieval_endpoint": f"{BASE_URL}/interactions",
            "agent_synchronization_endpoint": f"{BASE_URL}/agent_sync",
            "interaction_types": ["ticket", "call"],
        }
    )  # fmt: skip
    assert validate_integration(document).name == "tiny-desk"


def test_action_configurations_are_the_references_shape() -> None:
    documents = sample.bridge.action_configurations(BASE_URL)

    assert documents == [
        {
            "provider": "tiny-desk",
            "name": "create_ticket",
            "display": "create a ticket",
            "description": "create a new ticket in Tiny Desk",
            "endpoint": f"{BASE_URL}/actions/create_ticket",
            "inputs": [
                {"key": "subject", "name": "Ticket subject", "mandatory": True},
                {"key": "description", "name": "Ticket description", "mandatory": False},
            ],
        },
        {
            "provider": "tiny-desk",
            "name": "log_call",
            "display": "log a call",
            "description": "log a call in Tiny Desk",
            "endpoint": f"{BASE_URL}/actions/log_call",
            "inputs": [],
        },
    ]
    assert [validate_action(each, providers={"tiny-desk"}).name for each in documents] == [
        "create_ticket",
        "log_call",
    ]
    assert sample.bridge.configurations(BASE_URL)[1:] == documents


def test_only_the_endpoints_a_bridge_serves_are_configured() -> None:
    bridge = new_bridge(authentication_type="none", authentication_fields=[])
    bridge.agents(lambda request: [])

    document = bridge.integration_configuration(BASE_URL)

    assert [key for key in document if key.endswith("_endpoint")] == [
        "agent_synchronization_endpoint"
    ]
    assert "authentication_configuration" not in document
    assert "interaction_types" not in document
    validate_integration(document)


def test_the_oauth2_client_is_declared_or_given_when_generating() -> None:
    declared = OAuth2Configuration(
        authorize_url="https://tiny.example/oauth/authorize",
        token_url="https://tiny.example/oauth/token",
        client_id="hub",
        client_secret_env="TINY_CLIENT_SECRET",
        scopes=["tickets"],
    )
    bridge = new_bridge(
        authentication_type="oauth2",
        authentication_fields=[AuthField("instance", "Instance", type="oauth")],
        oauth2=declared,
    )
    given = declared.model_copy(update={"client_id": "other", "pkce": True})

    assert bridge.integration_configuration(BASE_URL)["oauth2_configuration"] == {
        "authorize_url": "https://tiny.example/oauth/authorize",
        "token_url": "https://tiny.example/oauth/token",
        "client_id": "hub",
        "client_secret_env": "TINY_CLIENT_SECRET",
        "scopes": ["tickets"],
        "pkce": False,
    }
    generated = bridge.integration_configuration(BASE_URL, oauth2=given)
    assert generated["oauth2_configuration"]["client_id"] == "other"
    assert validate_integration(generated).authentication_type == "oauth2"


@pytest.mark.parametrize(
    ("declarations", "problem"),
    [
        ({"name": "Tiny Desk"}, "  name: must be 1 to 64 lower-case letters"),
        ({"logo_url": "logo.png"}, "  logo_url: must be an http:// or https:// URL"),
        ({"description": " "}, "  description: must not be empty"),
        (
            {"authentication_fields": [AuthField("account", "Account", format="https://x")]},
            "authentication_configuration[0].account.format: must contain the placeholder",
        ),
        (
            {"authentication_fields": [AuthField("key", "Key"), AuthField("key", "Again")]},
            'field name "key" is already defined',
        ),
        ({"authentication_fields": []}, 'is required when authentication_type is "custom"'),
        ({"interaction_types": ["ticket", "ticket"]}, '"ticket" is listed more than once'),
    ],
)
def test_a_declaration_the_hub_would_refuse_fails_at_once(
    declarations: dict[str, Any], problem: str
) -> None:
    with pytest.raises(DeclarationError) as refused:
        new_bridge(**declarations)

    assert problem in str(refused.value)
    assert str(refused.value).startswith("The bridge ")


def test_an_inputs_choices_and_default_are_in_its_configuration() -> None:
    bridge = new_bridge()
    priority = ActionInput(
        key="priority", name="Priority", mandatory=False, choices=["low", "high"], default="low"
    )
    bridge.action("create_ticket", display="create a ticket", description="x", inputs=[priority])(
        lambda request: None
    )

    (document,) = bridge.action_configurations(BASE_URL)

    assert document["inputs"] == [
        {"key": "priority", "name": "Priority", "mandatory": False,
         "choices": ["low", "high"], "default": "low"}
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "action", "problem"),
    [
        ("Create Ticket", {}, "name: must be 1 to 64 lower-case letters"),
        ("create_ticket", {"display": ""}, "display: must not be empty"),
        (
            "create_ticket",
            {"inputs": [ActionInput(key="a", name="A", mandatory=True)] * 2},
            'key "a" is already used by inputs[0]',
        ),
        (
            "create_ticket",
            {
                "inputs": [
                    ActionInput(key="a", name="A", mandatory=False, choices=["x"], default="y")
                ]
            },
            'inputs[0].default: must be one of the choices ("x"); found "y"',
        ),
    ],
)
def test_an_action_the_hub_would_refuse_fails_at_once(
    name: str, action: dict[str, Any], problem: str
) -> None:
    arguments: dict[str, Any] = {"display": "create a ticket", "description": "create one"}

    with pytest.raises(DeclarationError, match="declares an invalid configuration") as refused:
        new_bridge().action(name, **(arguments | action))

    assert problem in str(refused.value)


def test_interaction_types_and_an_interactions_handler_go_together() -> None:
    without_handler = new_bridge(interaction_types=["ticket"])
    without_types = new_bridge()
    without_types.interactions(lambda request: [])

    for bridge in (without_handler, without_types):
        with pytest.raises(DeclarationError, match="interaction_types exactly when"):
            bridge.integration_configuration(BASE_URL)


@pytest.mark.parametrize("base_url", ["bridge.tiny.example", "ftp://tiny.example", "https://"])
def test_the_base_url_must_be_http(base_url: str) -> None:
    with pytest.raises(ValueError, match="The base URL must be an http:// or https:// URL"):
        sample.bridge.configurations(base_url)


# The command ---------------------------------------------------------------------------


def test_bridge_config_prints_every_document() -> None:
    result = runner.invoke(
        app, ["bridge-config", "tests.sdk.sample:bridge", "--base-url", BASE_URL]
    )

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == sample.bridge.configurations(BASE_URL)


def test_bridge_config_writes_files_the_catalog_commands_accept(tmp_path: Path) -> None:
    out = tmp_path / "catalog"

    written = runner.invoke(
        app, ["bridge-config", "tests.sdk.sample:bridge", "--base-url", BASE_URL, "--out", str(out)]
    )
    validated = runner.invoke(app, ["validate", str(out)])

    assert written.exit_code == 0, written.output
    assert sorted(path.name for path in out.iterdir()) == [
        "tiny-desk.create_ticket.action.json",
        "tiny-desk.integration.json",
        "tiny-desk.log_call.action.json",
    ]
    integration = json.loads((out / "tiny-desk.integration.json").read_text())
    assert integration == sample.bridge.integration_configuration(BASE_URL)
    assert validated.exit_code == 0, validated.output
    assert "All 3 files are valid." in validated.output


@pytest.mark.parametrize(
    ("target", "base_url", "message"),
    [
        ("tests.sdk.sample", BASE_URL, "must be written module:attribute"),
        ("tests.sdk.nowhere:bridge", BASE_URL, 'No module named "tests.sdk.nowhere"'),
        ("tests.sdk.sample:bridges", BASE_URL, 'has no attribute "bridges"'),
        ("tests.sdk.sample:not_a_bridge", BASE_URL, "is a str, not a bridgehub.sdk.Bridge"),
        ("tests.sdk.sample:bridge", "tiny.example", "The base URL must be an http://"),
    ],
)
def test_bridge_config_explains_what_is_wrong(
    tmp_path: Path, target: str, base_url: str, message: str
) -> None:
    out = tmp_path / "catalog"

    result = runner.invoke(
        app, ["bridge-config", target, "--base-url", base_url, "--out", str(out)]
    )

    assert result.exit_code == 1
    assert message in result.output
    assert not out.exists()
