"""Waiting in tests on a condition, never on the clock alone: `wait_for` polls a predicate
until it holds, and fails with what it waited for once the deadline has passed."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(
    predicate: Callable[[], object], *, timeout: float = 20.0, interval: float = 0.1, what: str = ""
) -> object:
    """The predicate's first true value, polled every `interval` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what or predicate}")
        time.sleep(interval)
