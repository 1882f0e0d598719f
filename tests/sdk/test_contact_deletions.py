"""Deletions a contacts handler declares, and checkpoints it can no longer use: what goes on
the wire (protocol sections 6.1 and 6.3)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from pydantic import ValidationError

from bridgehub.sdk import (
    AgentSyncRequest,
    CheckpointExpired,
    Contact,
    ContactsPage,
    ContactSyncRequest,
)
from tests.sdk.conftest import API_KEY, Plug, new_bridge

AUTH = {"api_key": API_KEY}
CHECKPOINT = "cp-2024-05-01"
"""The one checkpoint the bridges below can still use."""


def forgetful_bridge(deleted: list[str | int]) -> Any:
    """A bridge that knows what was deleted since `CHECKPOINT`, and nothing older."""
    bridge = new_bridge()

    @bridge.contacts
    def sync(request: ContactSyncRequest) -> ContactsPage:
        checkpoint = request.meta.synchronization_checkpoint
        if checkpoint is None:
            return ContactsPage(contacts=[Contact(id="1", name="Jane")])
        if checkpoint != CHECKPOINT:
            raise CheckpointExpired("Changes before 2024-05-01 are forgotten.")
        return ContactsPage(
            contacts=[], deleted_contacts=deleted, synchronization_checkpoint="cp-2024-05-02"
        )

    return bridge


def sync(running: Any, checkpoint: str | None) -> Any:
    meta = {} if checkpoint is None else {"synchronization_checkpoint": checkpoint}
    return running.http.post("/contact_sync", json={"auth": AUTH, "meta": meta})


def test_deleted_ids_are_sent_as_strings(served: Plug) -> None:
    running = served(forgetful_bridge(deleted=["17", 18]))

    response = sync(running, CHECKPOINT)

    assert response.status_code == 200
    assert response.json() == {
        "contacts": [],
        "deleted_contacts": ["17", "18"],
        "synchronization_checkpoint": "cp-2024-05-02",
    }


def test_a_page_without_deletions_leaves_the_key_out(served: Plug) -> None:
    running = served(forgetful_bridge(deleted=[]))

    assert "deleted_contacts" not in sync(running, CHECKPOINT).json()
    assert "deleted_contacts" not in sync(running, None).json()


@pytest.mark.parametrize("deleted", [[True], [None], [""], [{"id": "1"}], "17"])
def test_a_deleted_id_is_a_non_empty_string_or_number(deleted: Any) -> None:
    with pytest.raises(ValidationError, match="deleted_contacts"):
        ContactsPage(contacts=[], deleted_contacts=deleted)


def test_a_checkpoint_that_can_no_longer_be_used_answers_410(served: Plug) -> None:
    running = served(forgetful_bridge(deleted=[]))

    response = sync(running, "cp-2023-01-01")

    assert response.status_code == 410
    assert response.json() == {"message": "Changes before 2024-05-01 are forgotten."}


def test_checkpoint_expired_has_a_default_message(served: Plug) -> None:
    bridge = new_bridge()

    @bridge.contacts
    def sync_contacts(request: ContactSyncRequest) -> ContactsPage:
        raise CheckpointExpired()

    response = sync(served(bridge), CHECKPOINT)

    assert (response.status_code, response.json()) == (
        410,
        {"message": "This synchronization checkpoint can no longer be used; sync in full."},
    )


def test_checkpoint_expired_without_a_checkpoint_is_a_bug_answered_500(
    served: Plug, caplog: pytest.LogCaptureFixture
) -> None:
    bridge = new_bridge()

    @bridge.contacts
    def sync_contacts(request: ContactSyncRequest) -> ContactsPage:
        raise CheckpointExpired()

    @bridge.agents
    def agents(request: AgentSyncRequest) -> list[Any]:
        raise CheckpointExpired()

    running = served(bridge)

    first_sync = sync(running, None)
    agent_sync = running.http.post("/agent_sync", json={"auth": AUTH})

    assert (first_sync.status_code, agent_sync.status_code) == (500, 500)
    messages = [each.getMessage() for each in caplog.records if each.name == "bridgehub.sdk"]
    assert messages == [
        "The handler of /contact_sync raised CheckpointExpired, which cannot answer it.",
        "The handler of /agent_sync raised CheckpointExpired, which cannot answer it.",
    ]
    assert all(each.levelno == logging.ERROR for each in caplog.records)
