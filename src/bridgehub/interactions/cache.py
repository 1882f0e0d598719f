"""A short-lived cache of contacts' interactions, one per running hub."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict

from bridgehub.interactions.schemas import InteractionsAnswer
from bridgehub.runtime import Runtime

_CACHED_CONTACTS = 10_000


class InteractionCache:
    """Recent answers by contact, for `ttl` seconds; bounded in size."""

    def __init__(self, ttl: float) -> None:
        self._ttl = ttl
        self._answers: OrderedDict[uuid.UUID, tuple[float, InteractionsAnswer]] = OrderedDict()

    def get(self, contact_id: uuid.UUID) -> InteractionsAnswer | None:
        cached = self._answers.get(contact_id)
        if cached is None or cached[0] < time.monotonic():
            return None
        return cached[1]

    def forget(self, contact_id: uuid.UUID) -> None:
        """Drop a contact's answer (an erased contact's interactions are not kept)."""
        self._answers.pop(contact_id, None)

    def put(self, contact_id: uuid.UUID, answer: InteractionsAnswer) -> None:
        if self._ttl <= 0:
            return
        self._answers[contact_id] = (time.monotonic() + self._ttl, answer)
        self._answers.move_to_end(contact_id)
        while len(self._answers) > _CACHED_CONTACTS:
            self._answers.popitem(last=False)


def interaction_cache(runtime: Runtime) -> InteractionCache:
    return runtime.shared(
        InteractionCache, lambda settings: InteractionCache(ttl=settings.interactions_cache_seconds)
    )
