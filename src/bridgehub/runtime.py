"""What a running hub holds for its whole life: settings, database, vault, bridge client."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridgehub.bridge import BridgeClient, NetworkPolicy
from bridgehub.settings import Settings
from bridgehub.vault import Vault


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    vault: Vault
    bridge: BridgeClient

    @property
    def network_policy(self) -> NetworkPolicy:
        return network_policy(self.settings)


def network_policy(settings: Settings) -> NetworkPolicy:
    return NetworkPolicy(
        allow_private_networks=settings.allow_private_networks, allow_http=settings.allow_http
    )


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


HubRuntime = Annotated[Runtime, Depends(_runtime)]
