"""A bridge with every endpoint and an action, for configuration generation and the
`bridgehub bridge-config` command (which loads it as `tests.sdk.sample:bridge`)."""

from __future__ import annotations

from bridgehub.sdk import (
    ActionInput,
    ActionOutcome,
    ActionRequest,
    Agent,
    AgentSyncRequest,
    AuthField,
    AuthValidationRequest,
    ContactsPage,
    ContactSyncRequest,
    Interaction,
    InteractionRequest,
)
from tests.sdk.conftest import new_bridge

bridge = new_bridge(
    authentication_fields=[
        AuthField("account", "Account", format="https://{{account}}.tiny.example"),
        AuthField("api_key", "API key", help="Under Settings > API.", store=True),
        AuthField("region", "Region", source="default", default="eu"),
        AuthField("account_id", "Account id", source="auth_validation"),
    ],
    interaction_types=["ticket", "call"],
)


@bridge.auth_validation
def validate(request: AuthValidationRequest) -> dict[str, str]:
    return {"account_id": "1"}


@bridge.contacts
def contacts(request: ContactSyncRequest) -> ContactsPage:
    return ContactsPage(contacts=[])


@bridge.interactions
def interactions(request: InteractionRequest) -> list[Interaction]:
    return []


@bridge.agents
def agents(request: AgentSyncRequest) -> list[Agent]:
    return []


@bridge.action(
    "create_ticket",
    display="create a ticket",
    description="create a new ticket in Tiny Desk",
    inputs=[
        ActionInput(key="subject", name="Ticket subject", mandatory=True),
        ActionInput(key="description", name="Ticket description", mandatory=False),
    ],
)
def create_ticket(request: ActionRequest) -> ActionOutcome:
    return ActionOutcome(external_id="1")


@bridge.action("log_call", display="log a call", description="log a call in Tiny Desk")
async def log_call(request: ActionRequest) -> None:
    return None


not_a_bridge = "tiny-desk"
