"""Callbacks: a `callback` node's request becomes an outbound call, within opening hours.

`callback_sweep` (Celery beat) hands due callbacks to `callback_place`, which claims the
row (pending -> dialling, with a lease, the attempt recorded first: `CALLBACKS`, through
ivr_runtime/attempts.py) and asks Twilio to call the number with `/ivr/callbacks/<id>/voice`
as the call's URL. That URL runs a short callback flow through the voice runtime: an
introduction, then the request's `target` (a `route` node: number, SIP, queue or skills)
or, without a target, the flow itself.
Twilio reports the call's outcome on `/ivr/callbacks/<id>/status`: `completed` ends the
request; `busy`, `no-answer`, `failed` and `canceled` put it back to pending for another
attempt CALLBACK_RETRY_MINUTES later, until CALLBACK_MAX_ATTEMPTS calls were placed.

Callbacks are placed through dialler.py, as outbound calls are: within
OUTBOUND_CALLS_PER_SECOND; a callback finding the rate used up waits for its slot (not
counted as an attempt).

Opening hours are the flow's first `time_of_day` node (breadth-first from `start`): a
callback is only placed while it says `open`; a flow without one calls back at any time.
A claim whose worker died, or an attempt whose outcome is unknown, is reconciled with the
provider's list of calls before dialling again, as for SMS.
"""

from __future__ import annotations

import logging
import zoneinfo
from collections import deque
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from flows.models import PhoneNumber
from flows.nodes.time_of_day import opening_state
from ivr_runtime import attempts, jobs
from ivr_runtime.models import CallbackRequest, CallStep
from ivr_runtime.twilio import twilio_client
from ivr_runtime.voice import dialler

log = logging.getLogger(__name__)

Status = CallbackRequest.Status
#: CallStatus values after which the number is dialled again
RETRY_STATUSES = {"busy", "no-answer", "failed", "canceled", "not-connected"}
#: how far ahead the next opening is searched, and in what steps
HOURS_HORIZON = timedelta(days=8)
HOURS_STEP = timedelta(minutes=5)
INTRO = "Hello. This is the call back you asked for. Please hold while we connect you."
SORRY = "Sorry, nobody can take your call right now. We will try again later. Goodbye."
#: the node of the callback flow that connects the target (its step says whether it did)
CONNECT_NODE = "connect"
SWEEP_BATCH = 200
#: how long placing a callback waits for a slot under OUTBOUND_CALLS_PER_SECOND, at most
RATE_WAIT_SECONDS = 1.0


# --- opening hours ---------------------------------------------------------------------------------
def hours_node(definition: dict[str, Any] | None) -> dict[str, Any] | None:
    """The config of the flow's first time_of_day node, breadth-first from `start`."""
    if not isinstance(definition, dict):
        return None
    nodes = {n.get("id"): n for n in definition.get("nodes") or [] if isinstance(n, dict)}
    seen: set[str] = set()
    queue = deque([definition.get("start")])
    while queue:
        node = nodes.get(queue.popleft())
        if node is None or node["id"] in seen:
            continue
        seen.add(node["id"])
        if node.get("type") == "time_of_day":
            return {"timezone": definition.get("timezone") or "UTC", **(node.get("config") or {})}
        queue.extend(t for t in (node.get("exits") or {}).values() if isinstance(t, str))
    return None


def next_opening(config: dict[str, Any] | None, now: datetime) -> datetime | None:
    """`now` if open now, else the next open moment (5-minute steps), None if never within 8 days."""
    if config is None:
        return now
    try:
        zone = zoneinfo.ZoneInfo(config.get("timezone") or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    moment = now
    while moment - now <= HOURS_HORIZON:
        if opening_state(config, moment.astimezone(zone)) == "open":
            return moment
        moment = (moment + HOURS_STEP).replace(second=0, microsecond=0)
    return None


def _definition(callback: CallbackRequest) -> dict[str, Any] | None:
    """The definition the callback's call ran on (else the flow's published one)."""
    session = callback.session
    if session is not None and session.flow_version_id is not None:
        return session.flow_version.definition  # type: ignore[union-attr]
    if callback.flow is not None and callback.flow.published_version is not None:
        return callback.flow.published_version.definition
    return None


# --- the dialler ------------------------------------------------------------------------------------
def callback_publish(callback_id: int) -> bool:
    return jobs.job_publish(
        "ivr_runtime.place_callback", callback_id, what=f"callback {callback_id}"
    )


def callback_sweep(*, now: datetime | None = None) -> int:
    """Hand over pending callbacks that are due and dialling ones whose lease expired."""
    now = now or timezone.now()
    handed = 0
    for callback_id in attempts.attempt_sweep(CALLBACKS, now=now, limit=SWEEP_BATCH):
        if not callback_publish(callback_id):
            break
        handed += 1
    return handed


def _closed(callback: CallbackRequest, now: datetime) -> dict[str, Any] | None:
    """Outside the flow's opening hours: the callback waits for the next opening, without
    an attempt."""
    opening = next_opening(hours_node(_definition(callback)), now)
    if opening is not None and opening <= now:
        return None
    return {
        "next_attempt_at": opening,
        "last_error": "" if opening else "the flow is never open in the next 8 days",
    }


#: how callbacks are leased and retried (ivr_runtime/attempts.py): a dialling claim whose
#: worker was lost is looked up at the provider, and taking it over is not another call
CALLBACKS: attempts.Leased[CallbackRequest] = attempts.Leased(
    model=CallbackRequest,
    ready=Status.PENDING,
    in_flight=Status.DIALLING,
    due="next_attempt_at",
    lease_seconds=lambda: settings.CALLBACK_LEASE_SECONDS,
    policy=lambda: attempts.Schedule(
        (settings.CALLBACK_RETRY_MINUTES * 60,), max_attempts=settings.CALLBACK_MAX_ATTEMPTS
    ),
    order=("due_at",),
    simulated="simulated",
    count_lost=False,
    related=("session__flow_version", "flow__published_version"),
    hold=_closed,
)
Attempt = attempts.Attempt[CallbackRequest]


def callback_place(*, callback_id: int, now: datetime | None = None) -> CallbackRequest | None:
    """Place the call of a due callback (when open, when not already placed)."""
    now = now or timezone.now()
    attempt = attempts.attempt_claim(CALLBACKS, pk=callback_id, now=now)
    if attempt is None:
        return _reload(callback_id)
    callback = attempt.row
    caller_id = _caller_id(callback)
    if not settings.PUBLIC_BASE_URL:
        attempts.attempt_retry(
            CALLBACKS,
            attempt,
            now=now,
            entry={"outcome": "failed", "error": "PUBLIC_BASE_URL is not set"},
            last_error="PUBLIC_BASE_URL is not set: Twilio cannot reach the call's URL",
        )
        return _reload(callback_id)
    try:
        found = None
        if attempt.reconcile:
            found = dialler.call_placed_before(
                CALLBACKS, attempt, to=callback.number, from_=caller_id
            )
        placed = found or dialler.call_place(
            to=callback.number,
            from_=caller_id,
            url=f"{settings.PUBLIC_BASE_URL}/ivr/callbacks/{callback_id}/voice",
            status_callback=f"{settings.PUBLIC_BASE_URL}/ivr/callbacks/{callback_id}/status",
            wait=min(dialler.interval().total_seconds(), RATE_WAIT_SECONDS),
        )
    except dialler.RateLimited as exc:
        # Outbound calls used the rate up: this attempt does not count, it waits its slot.
        attempts.attempt_defer(
            CALLBACKS, attempt, until=exc.next_at, entry={"outcome": "deferred", "error": str(exc)}
        )
    except (twilio_client.SendError, dialler.GaveUp) as exc:
        dialler.attempt_failed(
            CALLBACKS,
            attempt,
            exc,
            now=now,
            what=f"callback {callback.pk}",
            failed=Status.FAILED,
            next_attempt_at=None,
        )
    else:
        attempts.attempt_finish(
            CALLBACKS,
            attempt,
            entry={"outcome": "found at the provider" if found else "placed", "sid": placed.sid},
            status=Status.PLACED,
            provider_sid=placed.sid[:64],
            last_status=placed.status[:32],
            last_error="",
            from_number=caller_id[:64],
        )
    return _reload(callback_id)


def _reload(callback_id: int) -> CallbackRequest | None:
    return CallbackRequest.objects.filter(pk=callback_id).first()


def _caller_id(callback: CallbackRequest) -> str:
    """The number the callback is placed from: the one the caller called, else the flow's."""
    if callback.from_number:
        return callback.from_number
    if callback.session is not None and callback.session.to_number:
        return callback.session.to_number
    number = (
        PhoneNumber.objects.filter(flow_id=callback.flow_id)
        .values_list("number", flat=True)
        .first()
    )
    return number or ""


# --- the call's outcome -----------------------------------------------------------------------
def callback_status(
    *, callback_id: int, call_sid: str, status: str, now: datetime | None = None
) -> bool:
    """Twilio's status callback for the outbound call. False when nothing matches."""
    now = now or timezone.now()
    with transaction.atomic():
        callback = CallbackRequest.objects.select_for_update().filter(pk=callback_id).first()
        if callback is None or (callback.provider_sid and callback.provider_sid != call_sid):
            log.warning(
                "call status %r of %s for unknown callback %s: ignored",
                status,
                call_sid,
                callback_id,
            )
            return False
        if callback.status in (Status.DONE, Status.FAILED, Status.CANCELLED):
            return True  # a late or repeated callback
        callback.last_status = status
        callback.provider_sid = callback.provider_sid or call_sid
        fields = ["last_status", "provider_sid"]
        entries = list(callback.attempt_log)
        if entries:
            entries[-1] = {**entries[-1], "call_status": status}
            callback.attempt_log = entries
            fields.append("attempt_log")
        if status == "completed" and not _connected(callback, call_sid):
            status = "not-connected"  # answered, but nobody could take the call: try again
            callback.last_status = status
        if status == "completed":
            callback.status = Status.DONE
            callback.completed_at = now
            fields += ["status", "completed_at"]
        elif status in RETRY_STATUSES:
            policy = CALLBACKS.policy()
            if policy.allows(callback.attempts):
                callback.status = Status.PENDING
                callback.next_attempt_at = now + timedelta(seconds=policy.delay(callback.attempts))
                fields += ["status", "next_attempt_at"]
            else:
                callback.status = Status.FAILED
                callback.completed_at = now
                callback.last_error = f"no answer after {callback.attempts} calls (last: {status})"
                fields += ["status", "completed_at", "last_error"]
        callback.save(update_fields=fields)
    return True


def _connected(callback: CallbackRequest, call_sid: str) -> bool:
    """Whether the callback flow's `connect` step reached someone (True without a target)."""
    if not callback.target:
        return True
    step = (
        CallStep.objects.filter(session__call_sid=call_sid, node_id=CONNECT_NODE)
        .order_by("-index")
        .first()
    )
    return step is None or step.exit == "connected"


def callback_flow(callback: CallbackRequest) -> dict[str, Any] | None:
    """The callback flow the outbound call runs: an introduction, then the target.

    None when the request has no target: the call then runs the flow itself.
    """
    target = callback.target if isinstance(callback.target, dict) and callback.target else None
    definition = _definition(callback) or {}
    if target is None:
        return None
    return {
        "format": "callflow/1",
        "slug": definition.get("slug") or "callback",
        "name": f"Call back ({definition.get('name') or 'flow'})",
        "timezone": definition.get("timezone") or "UTC",
        "language": definition.get("language") or "en-GB",
        "start": "intro",
        "nodes": [
            {
                "id": "intro",
                "type": "say",
                "config": {"text": INTRO},
                "exits": {"next": CONNECT_NODE},
            },
            {
                "id": CONNECT_NODE,
                "type": "route",
                "config": {"target": target},
                "exits": {"connected": "bye", "unavailable": "sorry", "timeout": "sorry"},
            },
            {"id": "sorry", "type": "hangup", "config": {"text": SORRY}, "exits": {}},
            {"id": "bye", "type": "hangup", "config": {}, "exits": {}},
        ],
    }
