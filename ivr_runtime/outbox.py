"""The SMS outbox: hand queued messages to Celery, send each one at most once, sweep.

A message row is written in the transaction of the call step that decided it
(`effects.apply_effects`) and nothing more happens in the webhook: the caller's answer
never waits on the broker, whether it is slow, hung or down. The outbox relay,
`outbox_sweep` (Celery beat, every OUTBOX_SWEEP_SECONDS: 1 s by default), hands queued
messages to the `send_outbound_message` task and marks them handed over (`enqueued_at`).

Sending at most once (see docs/operations.md):

1. `claim` moves the row from `queued` to `sending` under a row lock, counts the attempt,
   records it in `attempt_log` and takes a lease. Only the claimer calls the provider.
2. The provider is called outside any transaction. Its answer is recorded: `sent` (with
   the MessageSid), back to `queued` with a later `next_attempt_at` (5xx, 429, network
   errors: exponential backoff, at most SMS_MAX_ATTEMPTS attempts), or `failed` (4xx).
3. A worker that dies between the claim and the record leaves the row `sending`. When the
   lease has expired, the next claim does not resend blindly: it first asks the provider
   for a message with the same To, From and body created since the row was (`sms_find`),
   and records that one if it exists. Errors that leave the outcome unknown (a read timeout,
   a dropped connection) are reconciled the same way before the next attempt.

At least once: a row that is queued and due, or sending with an expired lease, is handed
over again by `outbox_sweep` (Celery beat), whatever happened to the broker meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from . import twilio_client
from .models import OutboundMessage

log = logging.getLogger(__name__)

Status = OutboundMessage.Status
#: Twilio refuses longer bodies (error 21617); longer texts are cut here (docs/operations.md)
MAX_BODY = 1600
ELLIPSIS = "…"
#: rows handed over per sweep
SWEEP_BATCH = 500
STATUS_PATH = "/ivr/messages/status"


# --- handing over to the broker ----------------------------------------------------------------
def message_publish(message_id: int, *, countdown: float | None = None) -> bool:
    """Give the message to a worker and mark it handed over. False (logged, nothing
    written) when the broker cannot be reached."""
    if not _publish(message_id, countdown=countdown):
        return False
    _mark_handed_over([message_id], timezone.now())
    return True


def _publish(message_id: int, *, countdown: float | None = None) -> bool:
    from .tasks import send_outbound_message

    try:
        # The argument's repr given: Celery would otherwise build it with its saferepr
        send_outbound_message.apply_async(
            (message_id,),
            countdown=countdown,
            retry=False,
            argsrepr=f"({message_id},)",
            kwargsrepr="{}",
        )
    except Exception as exc:  # the broker is down: the row stays queued for the sweep
        log.warning("SMS %s stays queued: the broker is unreachable (%s)", message_id, exc)
        return False
    return True


def _mark_handed_over(message_ids: list[int], when: datetime) -> None:
    try:
        OutboundMessage.objects.filter(pk__in=message_ids).update(enqueued_at=when)
    except DatabaseError:  # only a hint for the sweep, which at worst hands it over again
        log.warning("SMS %s: the hand-over time could not be saved", message_ids)


def outbox_sweep(*, now: datetime | None = None) -> int:
    """The outbox relay: hand over queued messages that are due and were never (or long
    ago) handed over, and sending ones whose lease expired, marking them all in one
    statement. Returns how many were handed over."""
    now = now or timezone.now()
    grace = timedelta(seconds=settings.SMS_HANDOVER_GRACE_SECONDS)
    due = (
        Q(status=Status.QUEUED)
        & (Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - grace))
    )
    stale = Q(status=Status.SENDING, lease_until__lt=now)
    ids = list(
        OutboundMessage.objects.filter(due | stale, simulated=False)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    handed: list[int] = []
    for message_id in ids:
        if not _publish(message_id):
            break  # the broker is down: the next sweep tries again
        handed.append(message_id)
    if handed:
        _mark_handed_over(handed, now)
        log.debug("outbox relay handed over %d message(s)", len(handed))
    return len(handed)


# --- sending ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Claim:
    message: OutboundMessage
    attempt: int
    #: the previous attempt may have reached the provider: look before sending
    reconcile: bool


def claim(message_id: int, *, now: datetime) -> Claim | None:
    """Take the message for one attempt, or None when it is not ours to send now."""
    lease = timedelta(seconds=settings.SMS_SEND_LEASE_SECONDS)
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.simulated:
            return None
        if message.status == Status.QUEUED:
            if message.next_attempt_at is not None and message.next_attempt_at > now:
                return None  # an early duplicate of a delayed retry
            log_entries = list(message.attempt_log)
            reconcile = bool(log_entries) and log_entries[-1].get("outcome") == "unknown"
        elif (
            message.status == Status.SENDING
            and message.lease_until is not None
            and message.lease_until < now
        ):
            log_entries = list(message.attempt_log)
            if log_entries and log_entries[-1].get("outcome") == "started":
                log_entries[-1] = {
                    **log_entries[-1],
                    "outcome": "unknown",
                    "error": "the worker was lost",
                }
            reconcile = True
        else:
            return None
        message.attempts += 1
        log_entries.append({"n": message.attempts, "at": now.isoformat(), "outcome": "started"})
        message.status = Status.SENDING
        message.lease_until = now + lease
        message.attempt_log = log_entries
        message.save(
            update_fields=["status", "attempts", "lease_until", "attempt_log", "updated_at"]
        )
    return Claim(message=message, attempt=message.attempts, reconcile=reconcile)


def outbound_message_send(
    *, message_id: int, now: datetime | None = None
) -> OutboundMessage | None:
    """One send attempt of a message (what the Celery task does)."""
    now = now or timezone.now()
    claimed = claim(message_id, now=now)
    if claimed is None:
        return OutboundMessage.objects.filter(pk=message_id).first()
    message = claimed.message
    body = (
        message.body if len(message.body) <= MAX_BODY else message.body[: MAX_BODY - 1] + ELLIPSIS
    )
    if claimed.reconcile:
        try:
            found = twilio_client.sms_find(
                to=message.to, from_=message.from_number, body=body, sent_after=message.created_at
            )
        except twilio_client.SendError as exc:
            # Cannot tell whether it went out: try again later, still looking first.
            _record_failure(message, claimed.attempt, exc, ambiguous=True, what="lookup failed")
            return _reload(message_id)
        if found is not None:
            log.info(
                "SMS %s was already taken by the provider as %s: not sent again",
                message_id,
                found.sid,
            )
            _record_sent(message, claimed.attempt, found, outcome="found at the provider")
            return _reload(message_id)
        if claimed.attempt > settings.SMS_MAX_ATTEMPTS:
            # Workers kept dying while sending it: stop before it takes another one down.
            reason = (
                f"gave up after {claimed.attempt - 1} attempts: the workers sending it were lost"
            )
            log.warning("SMS %s failed for good: %s", message_id, reason)
            _finish_attempt(
                message_id,
                claimed.attempt,
                {"outcome": "failed", "error": reason},
                status=Status.FAILED,
                last_error=reason,
                lease_until=None,
                next_attempt_at=None,
            )
            return _reload(message_id)
    try:
        sent = twilio_client.sms_send(
            to=message.to,
            from_=message.from_number,
            body=body,
            status_callback=status_callback_url(message_id),
        )
    except twilio_client.SendError as exc:
        _record_failure(message, claimed.attempt, exc, ambiguous=exc.ambiguous, what="send failed")
    else:
        _record_sent(
            message, claimed.attempt, sent, outcome="sent", truncated=len(message.body) > MAX_BODY
        )
    return _reload(message_id)


def status_callback_url(message_id: int) -> str | None:
    """Where Twilio posts delivery statuses (needs PUBLIC_BASE_URL, the origin Twilio reaches)."""
    if not settings.PUBLIC_BASE_URL:
        return None
    return f"{settings.PUBLIC_BASE_URL}{STATUS_PATH}?m={message_id}"


def retry_delay(attempt: int) -> float:
    """Seconds before attempt `attempt + 1`: base, 2x base, 4x base... capped."""
    return min(
        settings.SMS_RETRY_BASE_DELAY * (2 ** max(attempt - 1, 0)), settings.SMS_RETRY_MAX_DELAY
    )


def _finish_attempt(message_id: int, attempt: int, entry: dict, **changes: object) -> bool:
    """Record the outcome of attempt `attempt` if the row is still that attempt's."""
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.attempts != attempt:
            return False
        entries = list(message.attempt_log)
        if entries and entries[-1].get("n") == attempt:
            entries[-1] = {**entries[-1], **entry}
        for name, value in changes.items():
            setattr(message, name, value)
        message.attempt_log = entries
        message.save(update_fields=[*changes, "attempt_log", "updated_at"])
    return True


def _record_sent(
    message: OutboundMessage,
    attempt: int,
    sent: twilio_client.Sent,
    *,
    outcome: str,
    truncated: bool = False,
) -> None:
    now = timezone.now()
    entry = {"outcome": outcome, "sid": sent.sid}
    if truncated:
        entry["note"] = f"body cut from {len(message.body)} to {MAX_BODY} characters"
    current = OutboundMessage.objects.filter(pk=message.pk).values_list("status", flat=True).first()
    # A delivery status may have arrived first (it carries the row id): never go back.
    status = current if current in (Status.DELIVERED, Status.UNDELIVERED) else Status.SENT
    _finish_attempt(
        message.pk,
        attempt,
        entry,
        status=status,
        provider_sid=sent.sid[:64],
        last_error="",
        error_code="",
        sent_at=now,
        lease_until=None,
        next_attempt_at=None,
    )


def _record_failure(
    message: OutboundMessage,
    attempt: int,
    exc: twilio_client.SendError,
    *,
    ambiguous: bool,
    what: str,
) -> None:
    reason = f"{exc.code}: {exc}" if exc.code else str(exc)
    entry = {
        "outcome": "unknown" if ambiguous else "failed",
        "error": f"{what}: {reason}"[:500],
        "status": exc.status,
    }
    code = str(exc.code or exc.status or "")[:16]
    if exc.transient and attempt < settings.SMS_MAX_ATTEMPTS:
        delay = retry_delay(attempt)
        log.warning(
            "SMS %s attempt %d %s (%s): retry in %.0fs", message.pk, attempt, what, reason, delay
        )
        if _finish_attempt(
            message.pk,
            attempt,
            {**entry, "retry_in": delay},
            status=Status.QUEUED,
            last_error=reason[:1000],
            error_code=code,
            lease_until=None,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
        ):
            message_publish(message.pk, countdown=delay)
        return
    if exc.transient:
        reason = f"gave up after {attempt} attempts: {reason}"
    log.warning("SMS %s failed for good: %s", message.pk, reason)
    _finish_attempt(
        message.pk,
        attempt,
        entry,
        status=Status.FAILED,
        last_error=reason[:1000],
        error_code=code,
        lease_until=None,
        next_attempt_at=None,
    )


def _reload(message_id: int) -> OutboundMessage | None:
    return OutboundMessage.objects.filter(pk=message_id).first()
