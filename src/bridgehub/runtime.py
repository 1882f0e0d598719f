"""What a running hub holds for its whole life: settings, database, vault, bridge client."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Annotated

import procrastinate
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridgehub.bridge import BridgeClient, NetworkPolicy
from bridgehub.db import migrate
from bridgehub.db.engine import create_engine, create_sessionmaker, database_url
from bridgehub.interactions.cache import InteractionCache
from bridgehub.settings import Settings
from bridgehub.vault import Vault, vault_from_settings
from bridgehub.worker import connect_queue


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    vault: Vault
    bridge: BridgeClient
    queue: procrastinate.App
    interactions: InteractionCache

    @property
    def network_policy(self) -> NetworkPolicy:
        return network_policy(self.settings)


def network_policy(settings: Settings) -> NetworkPolicy:
    return NetworkPolicy(
        allow_private_networks=settings.allow_private_networks, allow_http=settings.allow_http
    )


@asynccontextmanager
async def open_runtime(settings: Settings, database: str | None = None) -> AsyncIterator[Runtime]:
    """Everything a hub process needs, for as long as the block runs: the database (the
    embedded one when none is given or configured), migrated; the vault; the bridge client;
    the task queue."""
    async with AsyncExitStack() as stack:
        # Starting the embedded server blocks for a moment, before anything else runs.
        url = database or stack.enter_context(database_url(settings))
        await asyncio.to_thread(migrate.upgrade, url)
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        queue = await stack.enter_async_context(connect_queue(url).open_async())
        yield Runtime(
            settings=settings,
            sessionmaker=create_sessionmaker(engine),
            vault=vault_from_settings(settings),
            bridge=await stack.enter_async_context(BridgeClient(network_policy(settings))),
            queue=queue,
            interactions=InteractionCache(ttl=settings.interactions_cache_seconds),
        )


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


HubRuntime = Annotated[Runtime, Depends(_runtime)]
