"""Outbound calls: the API and `call_out` ask for one, Twilio places it, the flow runs when
the person called answers (docs/runtime.md, "Outbound calls").

`outbound_request` checks the request and writes an `OutboundCall` row; while the rate
(OUTBOUND_CALLS_PER_SECOND, dialler.py) has a slot free and nothing waits before it, the
call is placed at once, else it stays queued and `outbound_dispatch` (a Celery task, and
the beat sweep) places the queue at the rate. Placing writes the call's `CallSession`,
keyed by the CallSid Twilio returned, with the flow's published version, the `vars` and
`direction` outbound: the call is in the history from then on, and its status callback
(no-answer, busy, failed, completed) closes it as any call's does.

Twilio fetches `/ivr/outbound/<id>/voice` when the call is answered (signed like every
webhook): the row found by id must carry that CallSid, and the session's flow starts there.
Either webhook writes the session first if Twilio was quicker than the placing's commit.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

import phonenumbers
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from flows.models import Flow, PhoneNumber
from ivr_runtime import attempts, engine, jobs
from ivr_runtime.models import CallSession, OutboundCall
from ivr_runtime.turns import sessions
from ivr_runtime.twilio import twilio_client, twiml
from ivr_runtime.twilio.forms import VoiceRequest
from ivr_runtime.voice import dialler, services

log = logging.getLogger(__name__)

Status = OutboundCall.Status
#: a dispatch run places calls for at most this long, then leaves the rest to the next one
DISPATCH_BUDGET_SECONDS = 10.0
MAX_VARS = 50
MAX_VALUE_CHARS = 1000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


class Refused(Exception):
    """The call cannot be asked for: `field` names the request field at fault (if any)."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 400):
        super().__init__(message)
        self.field = field
        self.status = status


# --- the request ---------------------------------------------------------------------------------
def outbound_request(
    *,
    flow_slug: str,
    to: str,
    from_: str | None = None,
    variables: dict[str, Any] | None = None,
    machine_detection: bool = False,
    now: datetime | None = None,
) -> OutboundCall:
    """Ask for an outbound call that runs the flow's published version (Refused)."""
    flow = Flow.objects.filter(slug=flow_slug).first()
    if flow is None:
        raise Refused(f"there is no flow {flow_slug!r}", status=404)
    if flow.published_version_id is None:
        raise Refused(f"flow {flow_slug!r} is not published: publish it first", status=409)
    to = possible_number(to)
    caller_id = our_number(from_, flow)
    variables = checked_vars(variables or {})
    if not settings.TWILIO_REST_ENABLED:
        raise Refused(
            f"outbound calls need a Twilio account: {twilio_client.NotConfigured()}", status=503
        )
    if not settings.PUBLIC_BASE_URL:
        raise Refused(
            "PUBLIC_BASE_URL is not set: Twilio could not reach the call's answer URL", status=503
        )
    now = now or timezone.now()
    waiting = OutboundCall.objects.filter(status=Status.QUEUED).exists()
    call = OutboundCall.objects.create(
        flow=flow,
        to_number=to,
        from_number=caller_id,
        variables=variables,
        machine_detection=machine_detection,
        not_before=now,
    )
    if waiting:
        return call  # the dispatcher already at work on the queue gets to it in turn
    placed = outbound_place(call_id=call.pk, now=now)
    if placed is not None and placed.status == Status.QUEUED:
        dispatch_publish()
    return placed or call


def possible_number(text: str) -> str:
    """`text` as E.164 if it is a possible phone number in international form (Refused)."""
    try:
        parsed = phonenumbers.parse(str(text or ""), None)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is None or not phonenumbers.is_possible_number(parsed):
        raise Refused(f"{text!r} is not a possible phone number (E.164: +44...)", field="to")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def our_number(text: str | None, flow: Flow) -> str:
    """The number to call from: one of ours (a bound PhoneNumber), by default the flow's."""
    if not text:
        number = (
            PhoneNumber.objects.filter(flow=flow)
            .order_by("number")
            .values_list("number", flat=True)
        ).first()
        if number is None:
            raise Refused(
                f"flow {flow.slug!r} has no number bound to it: give one of ours to call from",
                field="from",
            )
        return number
    if not PhoneNumber.objects.filter(number=text).exists():
        raise Refused(f"{text!r} is not one of our numbers (bind it first)", field="from")
    return text


def checked_vars(variables: Any) -> dict[str, Any]:
    if not isinstance(variables, dict):
        raise Refused("vars must be an object of names and values", field="vars")
    if len(variables) > MAX_VARS:
        raise Refused(f"at most {MAX_VARS} vars", field="vars")
    for name, value in variables.items():
        if not isinstance(name, str) or not _NAME.match(name):
            raise Refused(f"{name!r} is not a variable name (letters, digits, _)", field="vars")
        if value is not None and not isinstance(value, str | int | float | bool):
            raise Refused(f"vars.{name}: a text, a number or a boolean", field="vars")
        if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
            raise Refused(f"vars.{name}: at most {MAX_VALUE_CHARS} characters", field="vars")
    return dict(variables)


# --- placing ---------------------------------------------------------------------------------------
def dispatch_publish() -> bool:
    return jobs.job_publish("ivr_runtime.dispatch_outbound_calls", what="outbound calls")


#: how outbound calls are leased and retried (ivr_runtime/attempts.py): a dialling claim
#: whose worker was lost, or an attempt whose outcome is unknown, is looked up at the
#: provider before another call is placed, and taking over a lost claim is not an attempt
OUTBOUND_CALLS: attempts.Leased[OutboundCall] = attempts.Leased(
    model=OutboundCall,
    ready=Status.QUEUED,
    in_flight=Status.DIALLING,
    due="not_before",
    lease_seconds=lambda: settings.OUTBOUND_LEASE_SECONDS,
    policy=lambda: attempts.Schedule(tuple(settings.OUTBOUND_RETRY_DELAYS)),
    order=("not_before", "pk"),
    log="attempt_log",
    count_lost=False,
    related=("flow",),
)


def outbound_dispatch(*, budget: float = DISPATCH_BUDGET_SECONDS) -> int:
    """Place the queued calls that are due, oldest first, at the rate, for `budget` seconds
    at most. How many were placed."""
    until = timezone.now() + timedelta(seconds=budget)
    wait = dialler.interval().total_seconds() + 0.05
    placed = 0
    while (now := timezone.now()) < until:
        due = attempts.attempt_sweep(OUTBOUND_CALLS, now=now, limit=1)
        if not due:
            break
        call = outbound_place(call_id=due[0], wait=min(wait, (until - now).total_seconds()))
        placed += call is not None and call.status == Status.PLACED
    return placed


def outbound_place(
    *, call_id: int, now: datetime | None = None, wait: float = 0.0
) -> OutboundCall | None:
    """Place a queued call whose slot has come (waiting `wait` seconds at most for the rate).
    The call as this attempt left it, else as it is now."""
    now = now or timezone.now()
    attempt = attempts.attempt_claim(OUTBOUND_CALLS, pk=call_id, now=now)
    if attempt is None:
        return _reload(call_id)
    call = attempt.row
    if call.flow.published_version_id is None:
        failed = attempts.attempt_finish(
            OUTBOUND_CALLS,
            attempt,
            entry={"outcome": "failed", "error": "the flow is no longer published"},
            status=Status.FAILED,
            last_error="the flow is no longer published",
        )
        return failed or _reload(call_id)
    base = settings.PUBLIC_BASE_URL
    try:
        found = None
        if attempt.reconcile:
            found = dialler.call_placed_before(
                OUTBOUND_CALLS, attempt, to=call.to_number, from_=call.from_number
            )
        placed = found or dialler.call_place(
            to=call.to_number,
            from_=call.from_number,
            url=f"{base}/ivr/outbound/{call.pk}/voice",
            status_callback=f"{base}/ivr/outbound/{call.pk}/status",
            machine_detection=call.machine_detection,
            wait=wait,
        )
    except dialler.RateLimited as exc:
        deferred = attempts.attempt_defer(
            OUTBOUND_CALLS, attempt, until=exc.next_at, entry={"outcome": "deferred"}
        )
        return deferred or _reload(call_id)
    except (twilio_client.SendError, dialler.GaveUp) as exc:
        failed = dialler.attempt_failed(
            OUTBOUND_CALLS,
            attempt,
            exc,
            now=now,
            what=f"outbound call {call.pk} to {call.to_number}",
            failed=Status.FAILED,
        )
        return failed or _reload(call_id)
    with transaction.atomic():
        outbound_session(call, call_sid=placed.sid, provider_status=placed.status)
        placed_row = attempts.attempt_finish(
            OUTBOUND_CALLS,
            attempt,
            entry={"outcome": "found at the provider" if found else "placed", "sid": placed.sid},
            status=Status.PLACED,
            call_sid=placed.sid[:64],
            placed_at=timezone.now(),
            last_error="",
        )
    return placed_row or _reload(call_id)


def _reload(call_id: int) -> OutboundCall | None:
    return OutboundCall.objects.filter(pk=call_id).first()


def outbound_session(call: OutboundCall, *, call_sid: str, provider_status: str) -> CallSession:
    """The call's session (written now if it is not yet): the person called is the caller,
    on the flow's published version, with the call's vars."""
    existing = sessions.read(call_sid=call_sid)
    if existing is not None:
        return existing
    version_id = Flow.objects.filter(pk=call.flow_id).values_list("published_version_id", flat=True)
    session = CallSession(
        call_sid=call_sid,
        flow_id=call.flow_id,
        flow_version_id=version_id.first(),
        direction=CallSession.Direction.OUTBOUND,
        from_number=call.to_number,
        to_number=call.from_number,
        provider_status=(provider_status or "queued")[:32],
        variables=dict(call.variables),
    )
    state = engine.State.from_dict(sessions.new_state(session))
    state.vars = dict(call.variables)
    session.state = state.to_dict()
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError:  # the answer webhook (or the placing) wrote it meanwhile
        return sessions.read(call_sid=call_sid)  # type: ignore[return-value]
    return session


# --- the call's webhooks -----------------------------------------------------------------------------
def _call_of(call_id: int, call_sid: str) -> OutboundCall | None:
    call = OutboundCall.objects.filter(pk=call_id).first()
    if call is None or (call.call_sid and call.call_sid != call_sid):
        log.warning("webhook of call %s for unknown outbound call %s", call_sid, call_id)
        return None
    return call


def outbound_answer(*, call_id: int, request: VoiceRequest) -> services.Turn:
    """The person called answered (or Twilio retried that webhook): the flow runs."""
    call = _call_of(call_id, request.call_sid)
    if call is None:
        return services.Turn(twiml=twiml.static(twiml.UNAVAILABLE))
    outbound_session(call, call_sid=request.call_sid, provider_status=request.call_status)
    if request.answered_by:
        CallSession.objects.filter(call_sid=request.call_sid, answered_by="").update(
            answered_by=request.answered_by
        )
    return services.call_begin(request=request)


def outbound_status(
    *, call_id: int, call_sid: str, status: str, duration: int | None = None
) -> bool:
    """The call's status callback: its outcome, on its session. False when nothing matches."""
    call = _call_of(call_id, call_sid)
    if call is None:
        return False
    outbound_session(call, call_sid=call_sid, provider_status=status)
    return services.call_status(call_sid=call_sid, status=status, duration=duration)
