"""What `bridgehub demo` runs beside the hub: the demo helpdesk bridge and the local OAuth
2.0 provider, on loopback, with the catalog documents that point at them."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

from bridgehub.demo.helpdesk import (
    CRM_INSTANCE_URL,
    HelpdeskBridge,
    configurations,
    crm_oauth_client,
)
from bridgehub.demo.helpdesk_data import HelpdeskAccount, HelpdeskDatabase, seed
from bridgehub.demo.oauth_provider import OAuthProvider, ProviderConfig
from bridgehub.demo.serving import serve

CLIENT_ID = "bridgehub-demo"


@dataclass(frozen=True)
class DemoStack:
    bridge_url: str
    provider_url: str
    documents: list[dict[str, Any]]
    """Integration and action configurations for the catalog, pointing at this stack."""
    login: HelpdeskAccount
    """Credentials that open the demo helpdesk, for a person to type."""


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
        )
