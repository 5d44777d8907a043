"""The one path every outbound call takes to Twilio (outbound calls, callbacks), within
OUTBOUND_CALLS_PER_SECOND across all processes.

A slot is a moment a call may be placed; the next one is kept in one `DialSlot` row, locked
to take it, and set to the moment taken plus 1 / OUTBOUND_CALLS_PER_SECOND. `call_place`
waits for the next slot when it is near (at most `wait` seconds), else raises `RateLimited`
with the moment it comes, and the caller queues the call until then.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ivr_runtime.models import DialSlot
from ivr_runtime.twilio import twilio_client

#: the DialSlot row of Twilio's calls-per-second limit
RATE = "calls"


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
