"""What `bridgehub demo` runs beside the hub: the demo helpdesk bridge and the local OAuth
2.0 provider, on loopback, with the catalog documents that point at them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from bridgehub.accounts.auth import Account, identify
from bridgehub.accounts.schemas import AccountCreate
from bridgehub.accounts.service import account_service
from bridgehub.activations.schemas import ActivationCreate
from bridgehub.activations.service import activation_service
from bridgehub.automations.schemas import AutomationCreate, Conditions
from bridgehub.automations.service import automation_service
from bridgehub.demo.helpdesk import (
    CRM,
    CRM_INSTANCE_URL,
    HELPDESK,
    HelpdeskBridge,
    configurations,
    crm_oauth_client,
)
from bridgehub.demo.helpdesk_seed import seed
from bridgehub.demo.helpdesk_store import HelpdeskAccount, HelpdeskDatabase
from bridgehub.demo.oauth_provider import OAuthProvider, ProviderConfig
from bridgehub.demo.serving import serve
from bridgehub.runtime import Runtime
from bridgehub.syncs.models import SyncKind
from bridgehub.syncs.service import sync_service

CLIENT_ID = "bridgehub-demo"


@dataclass(frozen=True)
class DemoStack:
    bridge_url: str
    provider_url: str
    documents: list[dict[str, Any]]
    """Integration and action configurations for the catalog, pointing at this stack."""
    login: HelpdeskAccount
    """Credentials that open the demo helpdesk, for a person to type."""
    caller: str
    """A phone number of one of the helpdesk's contacts, as a call would bring it."""
    bridge: HelpdeskBridge
    """Steers the running bridge (planned failures, what arrived), for tests."""

    @property
    def helpdesk_auth(self) -> dict[str, str]:
        subdomain = self.login.url.removeprefix("https://").split(".", 1)[0]
        return {
            "subdomain": subdomain,
            "email": self.login.email,
            "api_token": self.login.api_token,
        }


@contextmanager
def demo_stack(public_url: str) -> Iterator[DemoStack]:
    """Start the demo bridge and provider for a hub reached at `public_url`."""
    # A new client secret each run: the provider forgets everything when it stops.
    client_secret = secrets.token_urlsafe(24)
    callback = public_url.rstrip("/") + "/oauth/callback"
    provider = OAuthProvider(
        ProviderConfig(
            clients=[crm_oauth_client(CLIENT_ID, client_secret, callback)],
            token_extras={"instance_url": CRM_INSTANCE_URL},
        )
    )
    database = HelpdeskDatabase()
    seed(database)
    bridge = HelpdeskBridge(database, token_is_valid=provider.is_valid_access_token)
    with ExitStack() as stack:
        provider_url = stack.enter_context(serve(provider.app))
        bridge_url = stack.enter_context(serve(bridge.app))
        yield DemoStack(
            bridge_url=bridge_url,
            provider_url=provider_url,
            documents=configurations(bridge_url, provider_url, CLIENT_ID, client_secret),
            login=database.accounts()[0],
            caller=next(c.details.phones[0] for c in database.contacts() if c.details.phones),
            bridge=bridge,
        )


async def connect_demo_account(runtime: Runtime, stack: DemoStack, known_key: str | None) -> str:
    """A demo account with the helpdesk connected and a sync of its contacts and agents
    queued; `known_key` names the account of an earlier run. Answers the account's key."""
    async with runtime.sessionmaker() as session:
        caller = await identify(session, runtime.settings, known_key) if known_key else None
        key = known_key or ""
        if not isinstance(caller, Account):
            account, key = await account_service.create(
                session, AccountCreate(name="Demo Contact Center")
            )
            caller = Account(account.id)
        connected = {a.integration.name: a for a in await activation_service.list(session, caller)}
        helpdesk = connected.get(HELPDESK)
        if helpdesk is None:
            request = ActivationCreate(integration=HELPDESK, auth=stack.helpdesk_auth)
            helpdesk, _ = await activation_service.create(session, runtime, caller, request)
        for kind in SyncKind:
            await sync_service.request(session, helpdesk, kind, trigger="manual")
        if not await automation_service.list(session, caller):
            for automation in DEMO_AUTOMATIONS:
                await automation_service.create(session, caller, automation)
        await session.commit()
    return key


MISSED_CALL_TICKET = AutomationCreate(
    trigger="call.missed",
    action=f"{HELPDESK}/create_ticket",
    inputs={
        "subject": 'Missed call from {{contact.name|call.from|"an unknown caller"}}',
        "description": '{{contact.name|"A caller"}} (company: {{contact.company|"unknown"}}) '
        'called {{call.to|"us"}} from {{call.from|"a hidden number"}} at {{event.occurred_at}} '
        "and nobody answered.",
        "priority": "high",
    },
)
"""When a call is missed, then create a ticket."""
CALL_LOGGED = AutomationCreate(
    trigger="call.finished",
    action=f"{CRM}/log_call",
    inputs={
        "summary": '{{agent.name|agent.email|"An agent"}} talked with '
        '{{contact.name|call.from|"an unknown caller"}} '
        '(from {{call.from|"a hidden number"}}); recording: {{call.recording_url|"none"}}',
        "duration_seconds": "{{call.duration_seconds}}",
    },
)
"""When a call ends, then log it in the CRM..."""
CALL_DISPOSITIONED = AutomationCreate(
    trigger="call.dispositioned",
    action=f"{CRM}/log_call",
    inputs={
        "summary": '{{call.disposition}}: {{call.notes|"no notes"}}',
        "call_external_id": f"{{{{call.logged.{CRM}.external_id}}}}",
    },
)
"""...and when it is dispositioned, then add the disposition to the call the CRM logged
(a new record only if logging it failed)."""

MISSED_CALL_FROM_UNKNOWN_CALLER = AutomationCreate(
    trigger="call.missed",
    action=f"{HELPDESK}/create_contact",
    inputs={"name": "Unknown caller {{call.from}}", "phone": "{{call.from}}"},
    conditions=Conditions(caller="unknown"),
)
"""When a call is missed from an unknown caller, then create a contact: the helpdesk answers
with it, so the caller is known on their next call."""

DEMO_AUTOMATIONS = (
    MISSED_CALL_TICKET,
    MISSED_CALL_FROM_UNKNOWN_CALLER,
    CALL_LOGGED,
    CALL_DISPOSITIONED,
)
"""The demo's automations; the CRM's run once a person connected it (OAuth 2.0)."""
