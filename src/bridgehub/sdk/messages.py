"""The answers a bridge gives that the hub's protocol models do not already describe."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from bridgehub.bridge.protocol import Contact, ExternalId


class ContactsPage(BaseModel):
    """One page of a contact synchronization.

    - `next_offset`: there are more contacts in this run; the hub asks again with
      `meta.offset` set to it (and the same checkpoint).
    - `synchronization_checkpoint`: on the last page (no `next_offset`), where the next
      run should start: it asks for contacts changed after it. None means every run is a
      full one.
    - `deleted_contacts`: ids of contacts deleted in the service since the checkpoint the
      request carried (numbers become strings, like contact ids); the hub removes them.
      A full sync (no checkpoint) needs none: the hub removes what it did not deliver.
    """

    model_config = ConfigDict(frozen=True)

    contacts: Sequence[Contact]
    next_offset: str | None = None
    synchronization_checkpoint: str | None = None
    deleted_contacts: tuple[ExternalId, ...] = ()
