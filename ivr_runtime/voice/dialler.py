"""The one path every outbound call takes to Twilio (outbound calls, callbacks), within
OUTBOUND_CALLS_PER_SECOND across all processes.

A slot is a moment a call may be placed; the next one is kept in one `DialSlot` row, locked
to take it, and set to the moment taken plus 1 / OUTBOUND_CALLS_PER_SECOND. `call_place`
waits for the next slot when it is near (at most `wait` seconds), else raises `RateLimited`
with the moment it comes, and the caller queues the call until then.

Placed once: an attempt that takes over from a lost one, or follows one whose outcome is
unknown, first looks for the call at the provider (`call_placed_before`), and
`attempt_failed` records what went wrong the same way for every kind of call: an outcome
that is unknown is never failed, and an attempt that stopped at its lookup placed nothing
and is not counted.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from ivr_runtime import attempts
from ivr_runtime.models import CallbackRequest, CallSession, DialSlot
from ivr_runtime.twilio import twilio_client

log = logging.getLogger(__name__)
Row = TypeVar("Row", bound=models.Model)

#: the DialSlot row of Twilio's calls-per-second limit
RATE = "calls"


class LookupFailed(twilio_client.SendError):
    """The provider could not say whether an earlier attempt placed the call."""

    def __init__(self, cause: twilio_client.SendError):
        super().__init__(f"lookup failed: {cause}", status=cause.status, code=cause.code)
        self.transient = self.ambiguous = True


class GaveUp(Exception):
    """No earlier attempt placed the call, and they were all the attempts allowed."""


class RateLimited(Exception):
    def __init__(self, next_at: datetime):
        super().__init__(f"the call rate is used up until {next_at.isoformat()}")
        self.next_at = next_at


def interval() -> timedelta:
    rate = max(float(settings.OUTBOUND_CALLS_PER_SECOND), 0.001)
    return timedelta(seconds=1 / rate)


def slot_take(*, now: datetime | None = None) -> datetime | None:
    """Take the slot if it is free now (None), else the moment it will be (nothing taken)."""
    now = now or timezone.now()
    with transaction.atomic():
        row = DialSlot.objects.select_for_update().filter(name=RATE).first()
        if row is None:
            try:
                with transaction.atomic():
                    DialSlot.objects.create(name=RATE, next_at=now + interval())
                return None
            except IntegrityError:  # another process took the first slot meanwhile
                row = DialSlot.objects.select_for_update().get(name=RATE)
        if row.next_at > now:
            return row.next_at
        row.next_at = now + interval()
        row.save(update_fields=["next_at"])
    return None


def slot_wait(*, wait: float) -> None:
    """Take a slot, waiting for it at most `wait` seconds (RateLimited beyond)."""
    deadline = time.monotonic() + wait
    while True:
        next_at = slot_take()
        if next_at is None:
            return
        delay = (next_at - timezone.now()).total_seconds()
        if time.monotonic() + delay > deadline:
            raise RateLimited(next_at)
        time.sleep(max(delay, 0.001))


def call_place(
    *,
    to: str,
    from_: str,
    url: str,
    status_callback: str,
    machine_detection: bool = False,
    wait: float = 0.0,
) -> twilio_client.Sent:
    """Ask Twilio to place a call within the rate (SendError, RateLimited)."""
    slot_wait(wait=wait)
    return twilio_client.call_create(
        to=to,
        from_=from_,
        url=url,
        status_callback=status_callback,
        machine_detection=machine_detection,
        # where Twilio asks for TwiML when an answer cannot be used (webhooks.fallback)
        fallback_url=f"{settings.PUBLIC_BASE_URL}/ivr/fallback"
        if settings.PUBLIC_BASE_URL
        else None,
    )


def call_placed_before(
    kind: attempts.Leased[Row], attempt: attempts.Attempt[Row], *, to: str, from_: str
) -> twilio_client.Sent | None:
    """For an attempt that reconciles: the call an earlier attempt of its row placed, if
    the provider has one (to `to` from `from_`, since `attempt.since`, held by no row of
    ours), else None when another may be placed (LookupFailed, GaveUp)."""
    try:
        found = twilio_client.calls_placed_since(to=to, from_=from_, since=attempt.since)
    except twilio_client.SendError as exc:
        raise LookupFailed(exc) from exc
    sids = [sent.sid for sent in found]
    held = attempts.held_sids(getattr(attempt.row, kind.log) if kind.log else [])
    held.update(CallSession.objects.filter(call_sid__in=sids).values_list("call_sid", flat=True))
    held.update(
        CallbackRequest.objects.filter(provider_sid__in=sids).values_list("provider_sid", flat=True)
    )
    placed = twilio_client.first_not_held(found, held)
    tried = attempt.number - attempt.counted
    if placed is None and not kind.policy().allows(tried):
        raise GaveUp(f"gave up after {tried} attempts, none found at the provider")
    return placed


def attempt_failed(
    kind: attempts.Leased[Row],
    attempt: attempts.Attempt[Row],
    exc: twilio_client.SendError | GaveUp,
    *,
    now: datetime,
    what: str,
    failed: str,
    **final: Any,
) -> Row | None:
    """Record a failed attempt to place `what`: tried again later when it may pass, or when
    whether the call was placed is unknown (the next attempt looks first); else failed for
    good (status `failed`, with `final`). The row if it failed for good, else None."""
    if isinstance(exc, GaveUp):
        log.warning("%s failed for good: %s", what, exc)
        entry: dict[str, Any] = {"outcome": "failed", "error": str(exc)}
        return attempts.attempt_finish(
            kind, attempt, entry=entry, status=failed, last_error=str(exc), **final
        )
    reason = (f"{exc.code}: {exc}" if exc.code else str(exc))[:1000]
    entry = {"outcome": "unknown" if exc.ambiguous else "failed", "error": reason[:500]}
    uncounted: dict[str, Any] = {}
    if isinstance(exc, LookupFailed):
        entry["step"] = "lookup"  # the attempt stopped at the lookup: nothing was placed
        uncounted = {"attempts": attempt.number - attempt.counted}
    if exc.ambiguous or (exc.transient and kind.policy().allows(attempt.number)):
        log.warning("%s, attempt %d: %s: will try again", what, attempt.number, reason)
        attempts.attempt_retry(kind, attempt, now=now, entry=entry, last_error=reason, **uncounted)
        return None
    log.warning("%s failed for good: %s", what, reason)
    return attempts.attempt_finish(
        kind, attempt, entry=entry, status=failed, last_error=reason, **final
    )
