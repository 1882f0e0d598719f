"""What every test of the repository shares: the hub's (tests/) and the example bridges'."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _root_logger_kept() -> Iterator[None]:
    """A command run in process (`bridgehub check-bridge`, `serve`...) configures logging for
    a whole program; the tests after it must still see their own logs."""
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    yield
    root.setLevel(level)
    root.handlers[:] = handlers
