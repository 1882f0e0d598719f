"""Talking to bridges over the bridge protocol (docs/bridge-protocol.md).

This package is the only code in the hub that calls bridges::

    async with BridgeClient(NetworkPolicy()) as bridges:
        page = await bridges.fetch_contacts(
            url, StaticCredentials({"token": "..."}), checkpoint=None, offset=None
        )

Every failure is a `BridgeError`; its subclasses say what to do about it.
"""

from bridgehub.bridge.client import (
    BridgeClient,
    Credentials,
    Exchange,
    GuardedTransport,
    RetryPolicy,
    StaticCredentials,
    Timeouts,
)
from bridgehub.bridge.errors import (
    BridgeError,
    BridgeUnavailable,
    CheckpointRefused,
    CredentialsRejected,
    ProtocolViolation,
    RequestRefused,
    TargetRefused,
)
from bridgehub.bridge.guard import CheckedTarget, NetworkPolicy, Resolver, check_target
from bridgehub.bridge.protocol import (
    ActionOutcome,
    Agent,
    AgentList,
    Contact,
    ContactPage,
    Interaction,
    InteractionContact,
    InteractionResult,
    Priority,
    Rejection,
    Status,
)

__all__ = [
    "ActionOutcome",
    "Agent",
    "AgentList",
    "BridgeClient",
    "BridgeError",
    "BridgeUnavailable",
    "CheckedTarget",
    "CheckpointRefused",
    "Contact",
    "ContactPage",
    "Credentials",
    "CredentialsRejected",
    "Exchange",
    "GuardedTransport",
    "Interaction",
    "InteractionContact",
    "InteractionResult",
    "NetworkPolicy",
    "Priority",
    "ProtocolViolation",
    "Rejection",
    "RequestRefused",
    "Resolver",
    "RetryPolicy",
    "StaticCredentials",
    "Status",
    "TargetRefused",
    "Timeouts",
    "check_target",
]
