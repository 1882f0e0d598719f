"""Any ASGI app served by uvicorn on 127.0.0.1 from a background thread.

The demo runs its bridge and OAuth 2.0 provider this way beside the hub, and the tests
serve the bridges they talk to over real HTTP, with no mock in between::

    from bridgehub.demo.serving import serve

    with serve(my_starlette_app) as url:  # "http://127.0.0.1:54321"
        ...

The server runs in a background thread with its own event loop, so it works from sync and
async code alike, and listens on a port the system chose (no collisions between servers
running in parallel). Keyword arguments go to `uvicorn.Config`: `ssl_certfile` and
`ssl_keyfile` serve HTTPS (the URL then starts with https://), `lifespan="on"` requires
the app's startup to succeed.

Starting takes a few milliseconds and stopping about 0.2 s (uvicorn's own shutdown), so a
suite with many small apps is faster with one server dispatching to them by path.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.types import ASGIApp

HOST = "127.0.0.1"
STARTUP_TIMEOUT = 10.0


@contextmanager
def serve(app: ASGIApp, **uvicorn_options: Any) -> Iterator[str]:
    """Serve `app` until the block ends; yields its base URL, without a trailing slash."""
    # IPPROTO_TCP named explicitly: asyncio turns Nagle's delay off only on sockets that
    # say they are TCP, and with the delay each request waits ~40 ms for a delayed ACK.
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    # Bound here, before the server starts, so the port is known and cannot be taken.
    listener.bind((HOST, 0))
    port = listener.getsockname()[1]
    options: dict[str, Any] = {
        "log_config": None,  # leave the process's logging configuration alone
        "log_level": "warning",
        "access_log": False,
        "timeout_graceful_shutdown": 1,  # a request still running does not hold the suite
        **uvicorn_options,
    }
    server = uvicorn.Server(uvicorn.Config(app, host=HOST, port=port, **options))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [listener]}, name=f"uvicorn:{port}", daemon=True
    )
    thread.start()
    try:
        _wait_until_started(server, thread)
        scheme = "https" if options.get("ssl_certfile") else "http"
        yield f"{scheme}://{HOST}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=STARTUP_TIMEOUT)
        listener.close()


def _wait_until_started(server: uvicorn.Server, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server stopped while starting; see its log above")
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not start within {STARTUP_TIMEOUT:g} s")
        time.sleep(0.005)
