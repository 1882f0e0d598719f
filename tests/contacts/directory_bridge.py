"""A bridge over a directory the test edits between syncs, served over real HTTP: contacts
changed, deleted (and said so, or silently), a change log that forgets old checkpoints;
and an action answering what the test sets.

Each change bumps a version; a checkpoint is the version a run saw last, so an incremental
run gets what changed after it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bridgehub.demo.serving import serve

NAME = "directory"
PAGE_SIZE = 4


@dataclass
class Directory:
    url: str = ""
    version: int = 0
    contacts: dict[str, dict[str, Any]] = field(default_factory=dict)
    changed_at: dict[str, int] = field(default_factory=dict)
    deleted_at: dict[str, int] = field(default_factory=dict)
    tells_deletions: bool = True
    forgets_before: int = 0
    """Checkpoints older than this are answered 410 (the change log expired)."""
    failing_offset: str | None = None
    """A page answered 400, to make a run fail midway."""
    omits: set[str] = field(default_factory=set)
    """Contacts left out of full runs though the directory has them (a bad day)."""
    checkpoints_received: list[str | None] = field(default_factory=list)
    action_answer: Any = None
    """What the action `add_caller` answers with a 201 (JSON), as the test sets it."""

    def put(self, external_id: str, name: str | None, phone: str) -> None:
        """Add or change a contact (a contact without a name is one the hub rejects)."""
        self.version += 1
        contact: dict[str, Any] = {"id": external_id, "phones": [phone]}
        if name is not None:
            contact["name"] = name
        self.contacts[external_id] = contact
        self.changed_at[external_id] = self.version

    def fix_silently(self, external_id: str, name: str) -> None:
        """Change a contact without moving its change date, as a fixed bridge bug does."""
        self.contacts[external_id]["name"] = name

    def delete(self, external_id: str) -> None:
        self.version += 1
        del self.contacts[external_id]
        self.deleted_at[external_id] = self.version

    def integration(self) -> dict[str, Any]:
        return {
            "name": NAME,
            "display_name": "Directory",
            "description": "A directory edited by the tests.",
            "logo_url": "https://directory.example/logo.png",
            "icon_url": "https://directory.example/icon.png",
            "authentication_type": "none",
            "auth_validation_endpoint": f"{self.url}/auth_validation",
            "contact_synchronization_endpoint": f"{self.url}/contact_sync",
        }

    def action(self) -> dict[str, Any]:
        return {
            "provider": NAME,
            "name": "add_caller",
            "display": "add a caller",
            "description": "add the caller to the directory",
            "endpoint": f"{self.url}/actions/add_caller",
            "inputs": [{"key": "phone", "name": "Phone number", "mandatory": True}],
        }

    async def _add_caller(self, _: Request) -> Response:
        return JSONResponse(self.action_answer, 201)

    async def _contact_sync(self, request: Request) -> Response:
        meta = (await request.json()).get("meta") or {}
        checkpoint = meta.get("synchronization_checkpoint")
        self.checkpoints_received.append(checkpoint)
        offset = meta.get("offset")
        if offset is not None and offset == self.failing_offset:
            return JSONResponse({"message": "this page cannot be read"}, 400)
        if checkpoint is not None and int(checkpoint) < self.forgets_before:
            return JSONResponse({"message": "the change log no longer goes back that far"}, 410)
        since = int(checkpoint) if checkpoint is not None else None
        return JSONResponse(self._page(since, int(offset or 0)))

    def _page(self, since: int | None, start: int) -> dict[str, Any]:
        ids = sorted(
            external_id
            for external_id in self.contacts
            if (since is None and external_id not in self.omits)
            or (since is not None and self.changed_at[external_id] > since)
        )
        page: dict[str, Any] = {
            "contacts": [self.contacts[i] for i in ids[start : start + PAGE_SIZE]]
        }
        if start + PAGE_SIZE < len(ids):
            page["next_offset"] = str(start + PAGE_SIZE)
            return page
        if since is not None and self.tells_deletions:
            page["deleted_contacts"] = [
                int(i) if i.isdigit() else i for i, at in self.deleted_at.items() if at > since
            ]
        if since is None or since < self.version:
            page["synchronization_checkpoint"] = str(self.version)
        return page

    def app(self) -> Starlette:
        async def valid(_: Request) -> Response:
            return Response(json.dumps({}), media_type="application/json")

        return Starlette(
            routes=[
                Route("/auth_validation", valid, methods=["POST"]),
                Route("/contact_sync", self._contact_sync, methods=["POST"]),
                Route("/actions/add_caller", self._add_caller, methods=["POST"]),
            ]
        )


@pytest.fixture
def directory() -> Iterator[Directory]:
    found = Directory()
    with serve(found.app()) as url:
        found.url = url
        yield found
