"""Keeping secrets out of logs.

Every secret the process handles (credential values, tokens, keys) is registered here
as it enters the process: when the vault opens it, when a person submits it, when a
token endpoint issues it. Log events are scrubbed of every registered value, of values
under secret-sounding keys, and of secret query parameters in URLs, before rendering.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

REDACTED = "[redacted]"

# Shorter values would turn ordinary words into "[redacted]" without protecting anything.
_MIN_SECRET_LENGTH = 6
# Bounded so that a long-running process remembers the secrets of recent work, not all ever seen.
_MAX_REMEMBERED = 50_000

_SECRET_KEY = re.compile(
    r"(authorization|password|passwd|secret|token|api[_-]?key|cookie|code_verifier|^code$|^auth$)",
    re.IGNORECASE,
)
_SECRET_QUERY = re.compile(
    r"([?&](?:code|state|token|access_token|refresh_token|client_secret|api_key)=)[^&\s\"']+",
    re.IGNORECASE,
)


class SecretRegistry:
    def __init__(self) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._pattern: re.Pattern[str] | None = None
        self._lock = threading.Lock()

    def register(self, *values: object) -> None:
        with self._lock:
            for value in _strings(values):
                if len(value) >= _MIN_SECRET_LENGTH and value not in self._values:
                    self._values[value] = None
                    self._pattern = None
                    if len(self._values) > _MAX_REMEMBERED:
                        self._values.popitem(last=False)

    def scrub(self, text: str) -> str:
        text = _SECRET_QUERY.sub(rf"\1{REDACTED}", text)
        pattern = self._compiled()
        return pattern.sub(REDACTED, text) if pattern else text

    def scrub_value(self, value: Any, key: str = "") -> Any:
        if key and _SECRET_KEY.search(key) and value not in (None, "", [], {}):
            return REDACTED
        if isinstance(value, str):
            return self.scrub(value)
        if isinstance(value, Mapping):
            return {k: self.scrub_value(v, str(k)) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.scrub_value(item) for item in value]
        return value

    def _compiled(self) -> re.Pattern[str] | None:
        with self._lock:
            if self._pattern is None and self._values:
                # Longest first, so a secret containing another is removed whole.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(value) for value in ordered))
            return self._pattern


def _strings(values: Iterable[object]) -> Iterable[str]:
    for value in values:
        if isinstance(value, str):
            yield value
        elif isinstance(value, Mapping):
            yield from _strings(value.values())
        elif isinstance(value, list | tuple | set):
            yield from _strings(value)


known_secrets = SecretRegistry()
"""The process's registry: register what you receive, and logging scrubs it."""
