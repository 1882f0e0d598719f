"""A bridge that misbehaves on purpose, served over real HTTP on 127.0.0.1.

A raw asyncio server rather than an ASGI app: some faults (a TCP reset mid-body, a body
ended by closing the connection) are below what ASGI lets an app express. It runs in a
thread with its own event loop, so a fault that takes its time (trickling) never slows the
hub's loop down, and answers each request with `Connection: close`: every call gets a
fresh connection, and no fault leaks into the next.

Each endpoint answers as a healthy bridge would until a fault is set for it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import struct
import threading
import zlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import Any

MiB = 1024 * 1024

AUTH_VALIDATION = "auth_validation"
CONTACT_SYNC = "contact_sync"
INTERACTIONS = "interactions"
ACTION = "action"
CHECKPOINT = "checkpoint-1"

HEALTHY: dict[str, Any] = {
    AUTH_VALIDATION: {},
    CONTACT_SYNC: {
        "contacts": [
            {"id": "1", "name": "Jane Doe", "phones": ["+15555550101"]},
            {"id": "2", "name": "John Roe", "phones": ["+15555550102"]},
        ],
        "synchronization_checkpoint": CHECKPOINT,
    },
    INTERACTIONS: [
        {"id": "7", "type": "ticket", "subject": "Printer", "priority": "low", "status": "open"}
    ],
    ACTION: {"external_id": "t-1", "message": "Ticket created."},
}
"""What each endpoint answers while no fault is set."""


Fault = Callable[[asyncio.StreamWriter, bytes], Awaitable[None]]
"""Answers a request on the raw connection, given what the endpoint would answer healthy."""


def head(status: str, headers: dict[str, str]) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Connection: close", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def send(
    writer: asyncio.StreamWriter, status: str, body: bytes, headers: dict[str, str] | None = None
) -> None:
    """A whole answer with its declared length."""
    fields = {"Content-Type": "application/json", "Content-Length": str(len(body))}
    writer.write(head(status, fields | (headers or {})) + body)
    await writer.drain()


@cache
def gzip_bomb(inflated: int = 200 * MiB) -> bytes:
    """A gzip body of `inflated` zero bytes (about a thousandth of that compressed), built a
    MiB at a time so that making it never holds the inflated bytes."""
    squeeze = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(MiB)
    parts = [squeeze.compress(zeros) for _ in range(inflated // MiB)]
    return b"".join([*parts, squeeze.flush()])


@dataclass
class FaultyBridge:
    """The server's state: its URL once started, and the fault set for each endpoint."""

    url: str = ""
    faults: dict[str, Fault] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)

    def endpoint(self, name: str) -> str:
        return f"{self.url}/{name}"

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            name = await _read_request(reader)
            self.requests[name] = self.requests.get(name, 0) + 1
            healthy = json.dumps(HEALTHY.get(name, {})).encode()
            fault = self.faults.get(name)
            if fault is None:
                await send(writer, "200 OK", healthy)
            else:
                await fault(writer, healthy)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass  # the hub gave up on the answer, as it should
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> str:
    """Reads one request whole; answers the endpoint it is for (the path's last part)."""
    header = await reader.readuntil(b"\r\n\r\n")
    request_line, *lines = header.decode("latin-1").split("\r\n")
    length = 0
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    await reader.readexactly(length)
    path = request_line.split(" ")[1]
    return path.rstrip("/").rsplit("/", 1)[-1]


@contextmanager
def serve_faulty_bridge() -> Iterator[FaultyBridge]:
    bridge = FaultyBridge()
    loop = asyncio.new_event_loop()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.bind(("127.0.0.1", 0))
    bridge.url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    server = loop.run_until_complete(asyncio.start_server(bridge._serve, sock=listener))
    thread = threading.Thread(target=loop.run_forever, name="faulty-bridge", daemon=True)
    thread.start()
    try:
        yield bridge
    finally:
        loop.call_soon_threadsafe(server.close)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)


# The faults ----------------------------------------------------------------------------


def answering(status: str, body: bytes, headers: dict[str, str] | None = None) -> Fault:
    async def fault(writer: asyncio.StreamWriter, _: bytes) -> None:
        await send(writer, status, body, headers)

    return fault


async def not_json(writer: asyncio.StreamWriter, _: bytes) -> None:
    await send(writer, "200 OK", b"<html><body>Welcome to nginx!</body></html>")


async def wrong_content_type(writer: asyncio.StreamWriter, _: bytes) -> None:
    # A proxy's page in front of the bridge: 200, text/html, and no JSON in it.
    page = b"<!doctype html><title>Maintenance</title>"
    await send(writer, "200 OK", page, {"Content-Type": "text/html; charset=utf-8"})


def oversized(total: int, *, declared: bool) -> Fault:
    """A body of `total` bytes of JSON whitespace, its length declared or not (then it ends
    when the connection closes)."""

    async def fault(writer: asyncio.StreamWriter, _: bytes) -> None:
        headers = {"Content-Type": "application/json"}
        if declared:
            headers["Content-Length"] = str(total)
        writer.write(head("200 OK", headers))
        chunk = b" " * (64 * 1024)
        for _sent in range(total // len(chunk)):
            writer.write(chunk)
            await writer.drain()

    return fault


async def gzip_bombed(writer: asyncio.StreamWriter, _: bytes) -> None:
    await send(writer, "200 OK", gzip_bomb(), {"Content-Encoding": "gzip"})


async def trickle(writer: asyncio.StreamWriter, healthy: bytes) -> None:
    """The healthy answer's headers at once, then its body a byte a second."""
    writer.write(
        head("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(healthy))})
    )
    for index in range(len(healthy)):
        writer.write(healthy[index : index + 1])
        await writer.drain()
        await asyncio.sleep(1)


async def reset_mid_body(writer: asyncio.StreamWriter, healthy: bytes) -> None:
    """Half the healthy answer, then a TCP reset (SO_LINGER of 0 makes close send RST)."""
    writer.write(
        head("200 OK", {"Content-Type": "application/json", "Content-Length": str(len(healthy))})
    )
    writer.write(healthy[: len(healthy) // 2])
    await writer.drain()
    connection: socket.socket = writer.get_extra_info("socket")
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


DEEPLY_NESTED = answering("200 OK", b"[" * 100_000)
WRONG_SHAPE = answering("200 OK", b'{"unexpected": [1, 2, 3]}')
# An action's wrong shape must be a list: an action's answer may be any object.
WRONG_SHAPE_LIST = answering("200 OK", b"[1, 2, 3]")
STORM_503 = answering("503 Service Unavailable", b"", {"Retry-After": "99999999999999"})
STORM_429 = answering("429 Too Many Requests", b"", {"Retry-After": "100000"})
REDIRECT_LOOPBACK = answering("302 Found", b"", {"Location": "http://127.0.0.1:9/steal"})
REDIRECT_METADATA = answering(
    "302 Found", b"", {"Location": "http://169.254.169.254/latest/meta-data/"}
)
