"""The last word on a webhook's time: whatever hangs, the caller hears us before Twilio gives
up (15 s) and plays its own error.

Bounds on each thing a turn waits for come first: its HTTP requests share the webhook's
deadline (`deadlines`), a database connection takes at most DB_CONNECT_TIMEOUT_SECONDS and
the server ends a statement past DB_STATEMENT_TIMEOUT_SECONDS. None of those helps when
the database server, or the way to it, stops answering: the driver then waits in a socket
read that nothing ends. The watchdog does.

It is an interval timer (SIGALRM) armed when a webhook starts and disarmed when it answers,
firing at the share of the deadline `deadlines.watchdog_seconds` gives (after the turn's
HTTP requests have ended, before the deadline). When it fires, the thread's database
connections are closed (the statement waiting on one is abandoned, and the next use opens
a fresh connection) and `WebhookTimeout` is raised in whatever was running: the webhook's
usual error path runs the flow's fallback, on a fresh connection; the timer fires again a
little later, and so on until the webhook answers, and the caller gets the static apology.

Signals reach the main thread only. gunicorn's sync workers (the production setup) answer
each request there; elsewhere (runserver's threads, gthread workers) the watchdog does
nothing, as it does when some other code owns SIGALRM: the bounds above are then all there
is. Arming and disarming are two `setitimer` calls (docs/operations.md, "Faults and
deadlines", has the cost).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from types import FrameType, TracebackType

from django.db import connections

from ivr_runtime.turns.deadlines import watchdog_seconds


class WebhookTimeout(Exception):
    """The webhook outlasted its watchdog."""


class _Watch:
    """The main thread's watchdog, armed for the outermost block it guards."""

    __slots__ = ("armed", "depth", "fired", "first")

    def __init__(self) -> None:
        self.armed = False
        self.depth = 0
        self.fired = 0
        self.first = 0.0

    def __enter__(self) -> _Watch:
        self.depth += 1
        if self.depth == 1 and _handler_installed():
            self.first, then = watchdog_seconds()
            self.fired = 0
            self.armed = True
            signal.setitimer(signal.ITIMER_REAL, max(self.first, 0.001), max(then, 0.001))
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.depth -= 1
        if self.depth == 0 and self.armed:
            self.armed = False  # first: a signal arriving now is ignored
            signal.setitimer(signal.ITIMER_REAL, 0)

    def fire(self, signum: int, frame: FrameType | None) -> None:
        if not self.armed:
            return  # the webhook answered as the signal arrived
        self.fired += 1
        close_connections()
        if self.fired == 1:
            raise WebhookTimeout(f"the webhook was still running after {self.first:g}s")
        raise WebhookTimeout("the flow's fallback did not answer in time either")


_watch = _Watch()
_fire = _watch.fire
_UNARMED = contextlib.nullcontext()


def armed() -> contextlib.AbstractContextManager[object]:
    """`with watchdog.armed():` around a webhook view: the watchdog on the main thread,
    nothing on any other (signals only reach the main thread)."""
    if threading.current_thread() is threading.main_thread():
        return _watch
    return _UNARMED


def close_connections() -> None:
    """Close this thread's database connections, whatever state they are in.

    psycopg's close neither waits nor takes a lock (libpq queues its goodbye on the socket),
    so it is safe in the middle of a statement; Django marks a connection closed inside a
    transaction as such, and its atomic block ends without a rollback.
    """
    for connection in connections.all(initialized_only=True):
        with contextlib.suppress(Exception):  # one that fails even to close is gone as well
            connection.close()


def _handler_installed() -> bool:
    """Our SIGALRM handler, installed once; False when something else handles SIGALRM."""
    current = signal.getsignal(signal.SIGALRM)
    if current == _fire:
        return True
    if current not in (signal.SIG_DFL, None):
        return False
    signal.signal(signal.SIGALRM, _fire)
    return True
