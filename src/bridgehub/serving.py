"""Serving the API: one process, or several sharing one port.

Several processes are uvicorn's own supervisor: it binds the port, starts the processes,
replaces one that dies and, on SIGTERM, stops them all and waits for them. What must happen
once for all of them happens first, in the supervisor: starting the embedded PostgreSQL
(when `DATABASE_URL` is unset), migrating, creating the key file and the admin key. The
processes then find the database through `DATABASE_URL`, as they would a standalone one.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

import uvicorn
from fastapi import FastAPI

from bridgehub.accounts.auth import ensure_admin_key
from bridgehub.app import announce_admin_key, create_app
from bridgehub.db import migrate
from bridgehub.db.engine import create_engine, create_sessionmaker, database_url
from bridgehub.logs import configure_logging
from bridgehub.runtime import freeze_startup_heap
from bridgehub.settings import Settings, get_settings
from bridgehub.vault import vault_from_settings

_SERVED_APP = f"{__name__}:served_app"
"""What each process of several imports and calls to build its app."""


def serve(settings: Settings, *, host: str, port: int, processes: int = 1) -> None:
    """Serve the hub on `host`:`port` from `processes` processes until SIGINT or SIGTERM."""
    configure_logging(settings.log_level, settings.log_format)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": settings.log_level,
        "log_config": None,  # keep our logging, which scrubs secrets
        "proxy_headers": True,
        # Past it, connections still open are closed and the lifespan ends (see app.py).
        "timeout_graceful_shutdown": settings.shutdown_requests_seconds,
    }
    if processes == 1:
        app = create_app(settings)
        freeze_startup_heap()
        uvicorn.run(app, **options)
        return
    with database_url(settings) as url:
        asyncio.run(_prepare_shared_state(settings, url))
        os.environ["DATABASE_URL"] = url
        uvicorn.run(_SERVED_APP, factory=True, workers=processes, **options)


def served_app() -> FastAPI:
    """The app of one process among several: its settings come from the environment the
    supervisor passed on."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format)
    app = create_app(settings)
    freeze_startup_heap()
    return app


async def _prepare_shared_state(settings: Settings, url: str) -> None:
    """Do once what every process would otherwise race to do: migrating, making the key
    file that encrypts secrets, generating (and showing) the admin key."""
    await asyncio.to_thread(migrate.upgrade, url)
    vault_from_settings(settings)
    engine = create_engine(url)
    try:
        async with create_sessionmaker(engine)() as session:
            announce_admin_key(await ensure_admin_key(session, settings))
    finally:
        await engine.dispose()
