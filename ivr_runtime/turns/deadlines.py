"""One deadline per webhook, shared by everything slow the webhook does (its HTTP requests).

Twilio gives up on a webhook after 15 s and plays its own error; the caller must hear our
answer first. The deadline starts with the webhook (`within_webhook_deadline` wraps every
Twilio webhook view) and lasts WEBHOOK_DEADLINE_SECONDS of wall time, whatever the turn
does meanwhile; a turn run outside a webhook (the simulator, a task) gets its own from
`current()`.

The deadline D is shared out so that the answer leaves before it, whatever hangs:

- the turn's HTTP requests end by `HTTP_SHARE` x D (the node then takes `failure`), which
  leaves time to write the turn;
- the watchdog (`watchdog.py`) fires at `WATCHDOG_SHARE` x D, for what nothing else bounds
  (a database that stopped answering): the flow's fallback runs on a fresh connection;
- it fires again `FALLBACK_SHARE` x D later, and the caller gets the static apology.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import wraps
from typing import ParamSpec, TypeVar

from django.conf import settings

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class Deadline:
    """A point in time.monotonic(), `seconds` after the webhook started."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def remaining(self) -> float:
        """Seconds left; zero or less once it has passed."""
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return self.remaining() <= 0

    def http_until(self) -> float:
        """When the turn's HTTP requests must have ended (time.monotonic())."""
        return self.at - (1 - HTTP_SHARE) * self.seconds


#: shares of the deadline (see above): 8.5 s, 9 s and 9.75 s of the default 10 s
HTTP_SHARE = 0.85
WATCHDOG_SHARE = 0.9
FALLBACK_SHARE = 0.075


def watchdog_seconds() -> tuple[float, float]:
    """When the watchdog first fires after the webhook starts, and then how often."""
    deadline = settings.WEBHOOK_DEADLINE_SECONDS
    return WATCHDOG_SHARE * deadline, FALLBACK_SHARE * deadline


_webhook: ContextVar[Deadline | None] = ContextVar("webhook_deadline", default=None)


def current() -> Deadline:
    """The deadline of the webhook being answered, or one of WEBHOOK_DEADLINE_SECONDS from
    now when there is none (call it once per turn and pass it down)."""
    return _webhook.get() or Deadline.after(settings.WEBHOOK_DEADLINE_SECONDS)


@contextmanager
def webhook_deadline() -> Iterator[Deadline]:
    """The webhook's deadline for the block: the one already running, or a new one."""
    running = _webhook.get()
    if running is not None:
        yield running
        return
    deadline = Deadline.after(settings.WEBHOOK_DEADLINE_SECONDS)
    token = _webhook.set(deadline)
    try:
        yield deadline
    finally:
        _webhook.reset(token)


def within_webhook_deadline(view: Callable[P, R]) -> Callable[P, R]:
    """`view` run inside a webhook deadline that starts when it is called."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> R:
        with webhook_deadline():
            return view(*args, **kwargs)

    return wrapped
