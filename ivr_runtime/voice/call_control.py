"""Actions on live calls through the provider's REST API: start or stop recording a call
(`record_call`), take back a call handed to another application (`redirect`) that did not
send it back in time; and the recording status callback that lists a call's recording.

A turn asks for an action by writing a `CallControl` row in its own transaction
(ivr_runtime/turns/effects.py, as for every effect); the webhook never calls the provider itself (an inbound call is only in
progress once its first webhook is answered). The worker's sweep (`control_sweep`, every
CALL_CONTROL_SWEEP_SECONDS) claims the due rows one by one with a lease (ivr_runtime/
attempts.py, `CALL_CONTROLS`) and performs them: an attempt that fails in a way that may
pass (the call not answered yet, the provider unreachable) is tried again a little later,
after CALL_CONTROL_RETRY_DELAYS; one that may have reached the provider is looked up
before it is tried again, so a call is never recorded twice.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ivr_runtime import attempts, engine
from ivr_runtime.models import CallControl, CallSession, Recording
from ivr_runtime.twilio import twilio_client, twiml
from ivr_runtime.twilio.forms import int_field

log = logging.getLogger(__name__)

Action, Status = CallControl.Action, CallControl.Status

SWEEP_BATCH = 50
#: Twilio's "call is not in progress": the call is not answered yet, or already over
NOT_IN_PROGRESS = 21220
RECORDING_STATUS_PATH = "/ivr/recordings/status"


# --- done by the worker --------------------------------------------------------------------
#: how actions are leased and retried (ivr_runtime/attempts.py)
CALL_CONTROLS: attempts.Leased[CallControl] = attempts.Leased(
    model=CallControl,
    ready=Status.QUEUED,
    in_flight=Status.WORKING,
    due="due_at",
    lease_seconds=lambda: settings.CALL_CONTROL_LEASE_SECONDS,
    policy=lambda: attempts.Schedule(tuple(settings.CALL_CONTROL_RETRY_DELAYS)),
    order=("due_at",),
    log=None,
    related=("session",),
)
Attempt = attempts.Attempt[CallControl]


def control_sweep(*, now: datetime | None = None) -> int:
    """Perform the due actions (and those whose worker was lost); how many were tried."""
    now = now or timezone.now()
    tried = 0
    for control_id in attempts.attempt_sweep(CALL_CONTROLS, now=now, limit=SWEEP_BATCH):
        # the sweep's moment, or a later one once performing the batch took time
        if control_perform(control_id=control_id, now=max(now, timezone.now())) is not None:
            tried += 1
    return tried


def control_perform(*, control_id: int, now: datetime | None = None) -> CallControl | None:
    """Claim one action and perform it; None when another worker has it."""
    now = now or timezone.now()
    attempt = attempts.attempt_claim(CALL_CONTROLS, pk=control_id, now=now)
    if attempt is None:
        return None
    # No log says which earlier attempts may have reached the provider (a lost worker's,
    # an error that may have been an answer lost): any retry looks first.
    try:
        outcome = _perform(attempt.row, retried=attempt.number > 1)
    except twilio_client.SendError as exc:
        return _failed(attempt, exc, now)
    return _close(attempt, Status.DONE if outcome is None else Status.SKIPPED, outcome or "", now)


def _perform(control: CallControl, *, retried: bool) -> str | None:
    """Do the action; a reason when there was nothing to do, None when it was done."""
    session = control.session
    if session.status != CallSession.Status.ACTIVE:
        return "the call had ended"
    if not settings.PUBLIC_BASE_URL:
        raise twilio_client.SendError(
            "PUBLIC_BASE_URL is not set: the provider cannot reach the runtime's callbacks"
        )
    if control.action == Action.START_RECORDING:
        if retried and twilio_client.recording_find(call_sid=session.call_sid):
            return None  # the earlier attempt started it
        twilio_client.recording_start(
            call_sid=session.call_sid,
            channels=control.channels or "mono",
            status_callback=settings.PUBLIC_BASE_URL + RECORDING_STATUS_PATH,
        )
        return None
    if control.action == Action.STOP_RECORDING:
        try:
            twilio_client.recording_stop(call_sid=session.call_sid)
        except twilio_client.SendError as exc:
            if exc.status == 404:
                return "no recording was under way"
            raise
        return None
    return _take_back(control, session)


def _take_back(control: CallControl, session: CallSession) -> str | None:
    state = engine.State.from_dict(session.state)
    if state.ended or state.waiting != "redirect" or session.seq != control.seq:
        return "the call had come back"
    query = urlencode({"seq": control.seq, "handover": "timeout"})
    twilio_client.call_redirect(
        call_sid=session.call_sid,
        url=f"{settings.PUBLIC_BASE_URL}{twiml.CONTINUE_PATH}?{query}",
    )
    return None


def _failed(attempt: Attempt, exc: twilio_client.SendError, now: datetime) -> CallControl:
    control = attempt.row
    reason = f"{exc.code}: {exc}" if exc.code else str(exc)
    may_pass = exc.transient or exc.code == NOT_IN_PROGRESS
    if may_pass and CALL_CONTROLS.policy().allows(attempt.number):
        log.info("call %s: %s will be tried again (%s)", control.session_id, control.action, reason)
        attempts.attempt_retry(CALL_CONTROLS, attempt, now=now, last_error=reason[:1000])
        return control
    log.warning("call %s: %s failed (%s)", control.session_id, control.action, reason)
    return _close(attempt, Status.FAILED, reason, now)


def _close(attempt: Attempt, status: str, note: str, now: datetime) -> CallControl:
    closed = attempts.attempt_finish(
        CALL_CONTROLS, attempt, status=status, last_error=note[:1000], done_at=now
    )
    return closed or attempt.row


# --- the recording status callback ----------------------------------------------------------
def recording_status(*, form: Mapping[str, str]) -> Recording | None:
    """A whole-call recording is ready (or was absent, or failed): list it with the call.

    The same callback twice lists it once."""
    call_sid = str(form.get("CallSid") or "")[:64]
    sid = str(form.get("RecordingSid") or "")[:64]
    status = str(form.get("RecordingStatus") or "")[:32]
    if status != "completed" or not sid:
        log.warning("call %s: recording %s ended %s", call_sid, sid, status or "(no status)")
        return None
    session = CallSession.objects.filter(call_sid=call_sid).first()
    url = str(form.get("RecordingUrl") or "")[:1000]
    if session is None or not url.startswith("https://"):
        log.warning("recording %s: no such call %s or no URL", sid, call_sid)
        return None
    duration = int_field(form, "RecordingDuration")
    with transaction.atomic():
        recording, _ = Recording.objects.get_or_create(
            recording_sid=sid,
            defaults={
                "session": session,
                "kind": Recording.Kind.CALL,
                "url": url,
                "duration": duration,
                "channels": max(1, min(int_field(form, "RecordingChannels"), 2)),
            },
        )
    return recording
