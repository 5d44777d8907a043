"""The SMS outbox: hand queued messages to Celery, send each one at most once, sweep.

A message row is written in the transaction of the call step that decided it
(`effects.apply_effects`) and nothing more happens in the webhook: the caller's answer
never waits on the broker, whether it is slow, hung or down. The outbox relay,
`outbox_sweep` (Celery beat, every OUTBOX_SWEEP_SECONDS: 1 s by default), hands queued
messages to the `send_outbound_message` task and marks them handed over (`enqueued_at`).

Sending at most once (see docs/operations.md), through ivr_runtime/attempts.py (`OUTBOX`):

1. The claim moves the row from `queued` to `sending` under a row lock, counts the attempt,
   records it in `attempt_log` and takes a lease. Only the claimer calls the provider.
2. The provider is called outside any transaction. Its answer is recorded: `sent` (with
   the MessageSid), back to `queued` with a later `next_attempt_at` (5xx, 429, network
   errors: exponential backoff, at most SMS_MAX_ATTEMPTS attempts), or `failed` (4xx).
3. A worker that dies between the claim and the record leaves the row `sending`. When the
   lease has expired, the next claim does not resend blindly: it first asks the provider
   for a message with the same To, From and body created since the row was (allowing for
   the provider's clock running behind ours, `sms_sent_since`) that no other message row
   holds, and records that one if it exists. Errors that leave the outcome unknown (a read
   timeout, a dropped connection, an answer that cannot be read) are reconciled the same
   way before the next attempt. An attempt whose outcome is unknown is never failed: it is
   retried (looking first) until the provider says whether it has the message; only a
   lookup that finds nothing lets the attempt count towards SMS_MAX_ATTEMPTS.
4. Without a Twilio account (`TWILIO_REST_ENABLED` False) nothing is sent: the message is
   kept as failed with error code `not-configured` and the reason (`message_keep_unsent`).

At least once: a row that is queued and due, or sending with an expired lease, is handed
over again by `outbox_sweep` (Celery beat), whatever happened to the broker meanwhile.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import Q
from django.utils import timezone

from ivr_runtime import attempts, jobs
from ivr_runtime.models import OutboundMessage
from ivr_runtime.sms.messaging import PROVIDER_STATUSES, RANK
from ivr_runtime.twilio import twilio_client

log = logging.getLogger(__name__)

Status = OutboundMessage.Status
#: Twilio refuses longer bodies (error 21617); longer texts are cut here (docs/operations.md)
MAX_BODY = 1600
ELLIPSIS = "…"
#: rows handed over per sweep
SWEEP_BATCH = 500
STATUS_PATH = "/ivr/messages/status"
#: `error_code` of a message kept unsent because no Twilio account is configured
NOT_CONFIGURED = twilio_client.NotConfigured.CODE


# --- handing over to the broker ----------------------------------------------------------------
def message_publish(message_id: int, *, countdown: float | None = None) -> bool:
    """Give the message to a worker and mark it handed over. False (logged, nothing
    written) when the broker cannot be reached."""
    if not _publish(message_id, countdown=countdown):
        return False
    _mark_handed_over([message_id], timezone.now())
    return True


def _publish(message_id: int, *, countdown: float | None = None) -> bool:
    return jobs.job_publish(
        "ivr_runtime.send_outbound_message",
        message_id,
        countdown=countdown,
        what=f"SMS {message_id}",
    )


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
    not_handed_over = Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - grace)
    ids = attempts.attempt_sweep(OUTBOX, now=now, limit=SWEEP_BATCH, ready_also=not_handed_over)
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
#: how messages are leased and retried (ivr_runtime/attempts.py)
OUTBOX: attempts.Leased[OutboundMessage] = attempts.Leased(
    model=OutboundMessage,
    ready=Status.QUEUED,
    in_flight=Status.SENDING,
    due="next_attempt_at",
    lease_seconds=lambda: settings.SMS_SEND_LEASE_SECONDS,
    policy=lambda: attempts.Backoff(
        base=settings.SMS_RETRY_BASE_DELAY,
        cap=settings.SMS_RETRY_MAX_DELAY,
        max_attempts=settings.SMS_MAX_ATTEMPTS,
    ),
    order=("created_at",),
    simulated="simulated",
)
Attempt = attempts.Attempt[OutboundMessage]


def outbound_message_send(
    *, message_id: int, now: datetime | None = None
) -> OutboundMessage | None:
    """One send attempt of a message (what the Celery task does)."""
    now = now or timezone.now()
    if not settings.TWILIO_REST_ENABLED:
        return message_keep_unsent(message_id=message_id, now=now)
    attempt = attempts.attempt_claim(OUTBOX, pk=message_id, now=now)
    if attempt is None:
        return _reload(message_id)
    message = attempt.row
    body = (
        message.body if len(message.body) <= MAX_BODY else message.body[: MAX_BODY - 1] + ELLIPSIS
    )
    if attempt.reconcile and _reconciled(attempt, body):
        return _reload(message_id)
    try:
        sent = twilio_client.sms_send(
            to=message.to,
            from_=message.from_number,
            body=body,
            status_callback=status_callback_url(message_id),
        )
    except twilio_client.SendError as exc:
        _record_failure(attempt, exc, ambiguous=exc.ambiguous)
    else:
        _record_sent(attempt, sent, outcome="sent", truncated=len(message.body) > MAX_BODY)
    return _reload(message_id)


def _reconciled(attempt: Attempt, body: str) -> bool:
    """Look for the message at the provider before sending it again: True when the
    attempt is over (found, given up, or the provider could not be asked)."""
    message = attempt.row
    try:
        candidates = twilio_client.sms_sent_since(
            to=message.to, from_=message.from_number, body=body, since=message.created_at
        )
    except twilio_client.SendError as exc:
        # Cannot tell whether it went out, whatever the error: try again later, still
        # looking first (a 500 or an unreadable page says nothing about the message).
        _record_failure(attempt, exc, ambiguous=True, lookup=True)
        return True
    # the same text to the same number may be another message of ours (sent by then)
    held = OutboundMessage.objects.filter(
        provider_sid__in=[sent.sid for sent in candidates]
    ).values_list("provider_sid", flat=True)
    found = twilio_client.first_not_held(candidates, set(held))
    if found is not None:
        log.info(
            "SMS %s was already taken by the provider as %s: not sent again", message.pk, found.sid
        )
        _record_sent(attempt, found, outcome="found at the provider")
        return True
    tried = _send_entries(message.attempt_log[:-1])
    if OUTBOX.policy().allows(len(tried)):
        return False
    # Not at the provider after as many tries (workers that kept dying while sending it,
    # answers that kept being lost): stop before it takes another worker down.
    last = tried[-1].get("error", "") if tried else ""
    reason = (
        f"gave up after {len(tried)} attempts: the workers sending it were lost"
        if last == attempts.LOST
        else f"gave up after {len(tried)} attempts, none found at the provider ({last})"
    )
    log.warning("SMS %s failed for good: %s", message.pk, reason)
    attempts.attempt_finish(
        OUTBOX,
        attempt,
        entry={"outcome": "failed", "error": reason},
        status=Status.FAILED,
        last_error=reason,
        next_attempt_at=None,
    )
    return True


def status_callback_url(message_id: int) -> str | None:
    """Where Twilio posts delivery statuses (needs PUBLIC_BASE_URL, the origin Twilio reaches)."""
    if not settings.PUBLIC_BASE_URL:
        return None
    return f"{settings.PUBLIC_BASE_URL}{STATUS_PATH}?m={message_id}"


def _record_sent(
    attempt: Attempt, sent: twilio_client.Sent, *, outcome: str, truncated: bool = False
) -> None:
    message = attempt.row
    entry = {"outcome": outcome, "sid": sent.sid}
    if truncated:
        entry["note"] = f"body cut from {len(message.body)} to {MAX_BODY} characters"
    current = OutboundMessage.objects.filter(pk=message.pk).values_list("status", flat=True).first()
    # A delivery status may have arrived first (it carries the row id), and a message found
    # at the provider carries its own (delivered while nobody could record it): never go back.
    status = Status.SENT
    known = PROVIDER_STATUSES.get(sent.status.lower()) if outcome != "sent" else None
    for candidate in (known, current):
        final = candidate in (Status.DELIVERED, Status.UNDELIVERED, Status.FAILED)
        if final and RANK[Status(candidate)] > RANK[status]:
            status = Status(candidate)
    extra = {"provider_status": sent.status[:32]} if known is not None else {}
    attempts.attempt_finish(
        OUTBOX,
        attempt,
        entry=entry,
        status=status,
        provider_sid=sent.sid[:64],
        last_error="",
        error_code="",
        sent_at=timezone.now(),
        next_attempt_at=None,
        **extra,
    )


def _record_failure(
    attempt: Attempt, exc: twilio_client.SendError, *, ambiguous: bool, lookup: bool = False
) -> None:
    message = attempt.row
    what = "lookup failed" if lookup else "send failed"
    reason = f"{exc.code}: {exc}" if exc.code else str(exc)
    entry = {
        "outcome": "unknown" if ambiguous else "failed",
        "error": f"{what}: {reason}"[:500],
        "status": exc.status,
    }
    if lookup:
        entry["step"] = "lookup"  # the attempt stopped at the lookup: nothing was sent
    code = str(exc.code or exc.status or "")[:16]
    sends = len(_send_entries(message.attempt_log))
    # An outcome that is unknown is never failed: the next attempt looks before anything.
    if ambiguous or (exc.transient and OUTBOX.policy().allows(sends)):
        delay = attempts.attempt_retry(
            OUTBOX,
            attempt,
            now=timezone.now(),
            entry=entry,
            last_error=reason[:1000],
            error_code=code,
        )
        if delay is not None:
            log.warning(
                "SMS %s attempt %d %s (%s): retry in %.0fs",
                message.pk,
                attempt.number,
                what,
                reason,
                delay,
            )
            message_publish(message.pk, countdown=delay)
        return
    if exc.transient:
        reason = f"gave up after {sends} attempts: {reason}"
    log.warning("SMS %s failed for good: %s", message.pk, reason)
    attempts.attempt_finish(
        OUTBOX,
        attempt,
        entry=entry,
        status=Status.FAILED,
        last_error=reason[:1000],
        error_code=code,
        next_attempt_at=None,
    )


def _send_entries(entries: list[dict]) -> list[dict]:
    """The attempts that may have sent the message (failed lookups and messages kept
    unsent did not)."""
    return [
        entry
        for entry in entries
        if entry.get("step") != "lookup" and entry.get("outcome") != "not sent"
    ]


def message_keep_unsent(*, message_id: int, now: datetime) -> OutboundMessage | None:
    """No Twilio account: mark a queued message (or one whose sender was lost) as not
    sent, with the reason, without any request to the provider."""
    reason = str(twilio_client.NotConfigured())
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.simulated:
            return message
        expired = message.lease_until is None or message.lease_until < now
        if message.status == Status.QUEUED or (message.status == Status.SENDING and expired):
            message.status = Status.FAILED
            message.error_code = NOT_CONFIGURED
            message.last_error = reason
            message.lease_until = None
            message.next_attempt_at = None
            entry = {"at": now.isoformat(), "outcome": "not sent", "error": reason}
            message.attempt_log = [*message.attempt_log, entry]
            message.save(
                update_fields=[
                    "status",
                    "error_code",
                    "last_error",
                    "lease_until",
                    "next_attempt_at",
                    "attempt_log",
                    "updated_at",
                ]
            )
            log.warning("SMS %s %s", message_id, reason)
    return message


def _reload(message_id: int) -> OutboundMessage | None:
    return OutboundMessage.objects.filter(pk=message_id).first()
