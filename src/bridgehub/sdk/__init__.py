"""Write a bridge in Python: a small ASGI app speaking the bridge protocol.

::

    from bridgehub.sdk import ActionInput, ActionOutcome, AuthField, Bridge, CredentialsRejected

    bridge = Bridge(
        name="acme-desk",
        display_name="Acme Desk",
        description="Tickets from Acme Desk beside every call.",
        logo_url="https://desk.example/logo.png",
        icon_url="https://desk.example/icon.png",
        authentication_type="custom",
        authentication_fields=[AuthField("api_key", "API key")],
    )

    @bridge.action(
        "create_ticket",
        display="create a ticket",
        description="create a new ticket in Acme Desk",
        inputs=[ActionInput(key="subject", name="Subject", mandatory=True)],
    )
    def create_ticket(request: ActionRequest) -> ActionOutcome:
        if request.auth.get("api_key") != "...":
            raise CredentialsRejected()
        ...
        return ActionOutcome(message="Ticket #42 created.", external_id="42")

Serve it with `uvicorn module:bridge`, and print its catalog documents with
`bridgehub bridge-config module:bridge --base-url https://bridge.example`. The request and
answer models are the hub's own (`bridgehub.bridge.protocol`), so both sides read the wire
the same way. The tutorial is docs/bridge-sdk.md.
"""

from bridgehub.bridge.protocol import (
    ActionMeta,
    ActionOutcome,
    ActionRequest,
    Agent,
    AgentSyncRequest,
    AuthValidationRequest,
    Contact,
    ContactSyncMeta,
    ContactSyncRequest,
    Interaction,
    InteractionContact,
    InteractionMeta,
    InteractionRequest,
    Priority,
    Status,
)
from bridgehub.integrations.configuration import ActionInput, OAuth2Configuration
from bridgehub.kit.retry_after import retry_after_seconds
from bridgehub.sdk.app import Bridge
from bridgehub.sdk.configuration import AuthField, DeclarationError
from bridgehub.sdk.errors import (
    ActionRefused,
    BridgeException,
    CheckpointExpired,
    CredentialsRejected,
    InvalidState,
    RequestRefused,
    TemporarilyUnavailable,
)
from bridgehub.sdk.messages import ContactsPage
from bridgehub.sdk.state import StateCodec

__all__ = [
    "ActionInput",
    "ActionMeta",
    "ActionOutcome",
    "ActionRefused",
    "ActionRequest",
    "Agent",
    "AgentSyncRequest",
    "AuthField",
    "AuthValidationRequest",
    "Bridge",
    "BridgeException",
    "CheckpointExpired",
    "Contact",
    "ContactSyncMeta",
    "ContactSyncRequest",
    "ContactsPage",
    "CredentialsRejected",
    "DeclarationError",
    "Interaction",
    "InteractionContact",
    "InteractionMeta",
    "InteractionRequest",
    "InvalidState",
    "OAuth2Configuration",
    "Priority",
    "RequestRefused",
    "StateCodec",
    "Status",
    "TemporarilyUnavailable",
    "retry_after_seconds",
]
