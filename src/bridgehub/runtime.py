"""What a running hub holds for its whole life: settings, database, vault, bridge client,
task queue. Services take it as a parameter; `bridgehub.worker` builds it."""

from __future__ import annotations

import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

import procrastinate
from fastapi import Depends, Request
from procrastinate import JobContext
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bridgehub.bridge import BridgeClient, NetworkPolicy, RetryPolicy, Timeouts
from bridgehub.settings import Settings
from bridgehub.vault import Vault

Shared = TypeVar("Shared")

_RUNTIME = "runtime"
"""Key of the hub's `Runtime` in each job's `additional_context`."""


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    sessionmaker: async_sessionmaker[AsyncSession]
    vault: Vault
    bridge: BridgeClient
    queue: procrastinate.App
    _shared: dict[type[Any], Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def network_policy(self) -> NetworkPolicy:
        return network_policy(self.settings)

    def shared(self, kind: type[Shared], make: Callable[[Settings], Shared]) -> Shared:
        """The one `kind` of this running hub (a domain's cache, say), made by `make` the
        first time it is asked for: the runtime holds it without knowing the domain."""
        if kind not in self._shared:
            self._shared[kind] = make(self.settings)
        found: Shared = self._shared[kind]
        return found

    def job_context(self) -> dict[str, Any]:
        """What every job finds in its `additional_context` (see `runtime_of`)."""
        return {_RUNTIME: self}


def network_policy(settings: Settings) -> NetworkPolicy:
    return NetworkPolicy(
        allow_private_networks=settings.allow_private_networks, allow_http=settings.allow_http
    )


def bridge_client(settings: Settings) -> BridgeClient:
    """The hub's bridge client: its deadlines and longest pauses as the settings say."""
    return BridgeClient(
        network_policy(settings),
        timeouts=Timeouts.within(settings.bridge_timeout_seconds),
        retry=RetryPolicy.waiting_at_most(settings.max_retry_after_seconds),
    )


def runtime_of(context: JobContext) -> Runtime:
    """The hub's runtime, in a job."""
    runtime: Runtime = context.additional_context[_RUNTIME]
    return runtime


def _runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


HubRuntime = Annotated[Runtime, Depends(_runtime)]


def freeze_startup_heap() -> None:
    """Leave what a serving or working process built to start (its modules, the app, the
    runtime) out of every later pass of the cyclic garbage collector. It lives as long as
    the process, yet each full collection walked all of it again: a quarter of a sync's CPU
    per contact, and a share of every request's (docs/performance.md)."""
    gc.collect()
    gc.freeze()
