"""Call lifecycle: call_start, call_resume (ORM + engine + transactions); how calls end
(status callbacks, the sweep of calls left open) is call_end.py.

Every turn of a call saves the new state, the step rows and the effects (outbox SMS,
callbacks, recordings) in one transaction, and stores the answer with a fingerprint of the
request. A turn first runs optimistically: it reads the session without a lock, advances
the engine and renders the TwiML outside any transaction, then writes in a short one whose
session update only applies if the row is unchanged since it was read (`updated_at` and
`last_request_hash`). If another request wrote the row meanwhile, or the engine needs the
database or the network to go on, the turn runs again with the row locked
(select_for_update) for its whole length. The write lock (all of SQLite, or the row in
PostgreSQL) is thus held for the writes alone, not for the engine:

- the same request again (a Twilio retry) gets the stored answer, nothing advances;
- a request whose `seq` is not the call's current one (stale, out of order, a replay)
  gets the current wait re-rendered, nothing advances;
- an HTTP request a node needs is made between two transactions, never inside one; a
  duplicate arriving meanwhile is asked to come back a second later.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from flows.models import FlowVersion
from flows.nodes.runtime import Command, Event, Request
from ivr_runtime import engine
from ivr_runtime.models import CallSession, OutboundMessage
from ivr_runtime.turns import deadlines, effects, loop, sessions
from ivr_runtime.twilio import twiml
from ivr_runtime.twilio.forms import VoiceRequest
from ivr_runtime.voice.call_end import TERMINAL_STATUSES, call_status  # noqa: F401 (status webhooks' entry)

log = logging.getLogger(__name__)

#: a turn still waiting for its HTTP answer after this long is given up (the process died)
PENDING_TIMEOUT = timedelta(seconds=15)

# The session row's read, lock and (conditional) write (sessions.py), by short names here.
_read, _locked, _version, _write = sessions.read, sessions.locked, sessions.version, sessions.write


@dataclass
class Turn:
    """The answer to one webhook (or one simulator event)."""

    twiml: str
    session: CallSession | None = None
    commands: list[Command] = field(default_factory=list)
    messages: list[OutboundMessage] = field(default_factory=list)
    replayed: bool = False


# --- entry points ---------------------------------------------------------------------------
def call_start(
    *,
    request: VoiceRequest,
    flow_slug: str | None = None,
    simulated: bool = False,
    draft: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> Turn:
    """A new call (or Twilio retrying the first webhook of a known one)."""
    now = now or timezone.now()
    try:
        known = None
        if flow_slug is None and draft is None:
            known = sessions.known_flow(request.to)
        new = None if known is None else _known_session(request, known, simulated=simulated)
        if new is not None:  # the row inserted only if the number is still bound so
            turn = _advance_unlocked(new, Event(kind="start"), request.fingerprint, now, request.to)
            if turn is not None:
                return turn
        existing = _read(call_sid=request.call_sid)
        if existing is not None:  # Twilio retrying the first webhook
            return _resume(existing, request, now)
        target = sessions.find_flow(to=request.to, slug=flow_slug, draft=draft is not None)
        if target is None:
            return Turn(twiml=twiml.static(twiml.UNKNOWN_NUMBER))
        if target != known:  # else the turn just tried needs the locked path
            new = _new_session(request, target, simulated=simulated, draft=draft)
            turn = _advance_unlocked(new, Event(kind="start"), request.fingerprint, now)
            if turn is not None:
                return turn
        with transaction.atomic():
            session = _locked(call_sid=request.call_sid)
            if session is not None:
                step = _resume_locked(session, request, now)
            else:
                new = _new_session(request, target, simulated=simulated, draft=draft)
                step = _run_turn(
                    new, Event(kind="start"), request.fingerprint, now, loop.Progress()
                )
    except IntegrityError:  # the same first webhook twice at once: the other one started it
        return call_resume(request=request, now=now)
    return _complete(step, request.fingerprint)


def call_begin(*, request: VoiceRequest, now: datetime | None = None) -> Turn:
    """The first webhook of a call whose row was written before it was answered (an
    outbound call, ivr_runtime.voice.outbound): its flow starts; a retry gets the same answer."""
    now = now or timezone.now()
    session = _read(call_sid=request.call_sid)
    if session is None:
        log.warning("answer webhook for unknown call %s", request.call_sid)
        return Turn(twiml=twiml.static(twiml.UNAVAILABLE))
    if _begun(session):
        return _resume(session, request, now)
    turn = _advance_unlocked(session, Event(kind="start"), request.fingerprint, now)
    if turn is not None:
        return turn
    with transaction.atomic():
        session = _locked(pk=session.pk)
        if session is None:
            return Turn(twiml=twiml.static(twiml.UNAVAILABLE))
        if _begun(session):
            step = _resume_locked(session, request, now)
        else:
            step = _run_turn(
                session, Event(kind="start"), request.fingerprint, now, loop.Progress()
            )
    return _complete(step, request.fingerprint)


def _begun(session: CallSession) -> bool:
    """Whether the call's flow has started (a turn answered or under way)."""
    return bool(session.last_request_hash) or session.pending_since is not None


def call_resume(*, request: VoiceRequest, now: datetime | None = None) -> Turn:
    """The caller answered a wait (or Twilio retried, or something stale arrived)."""
    now = now or timezone.now()
    session = _read(call_sid=request.call_sid)
    if session is None:
        log.warning("webhook for unknown call %s", request.call_sid)
        return Turn(twiml=twiml.static(twiml.UNAVAILABLE))
    return _resume(session, request, now)


def call_unreachable(*, request: VoiceRequest, error: str, now: datetime | None = None) -> Turn:
    """Twilio could not get or use TwiML for the call (the number's fallback URL). A call
    handed to another application comes back to its `redirect` node (`failed`); any other
    call runs its flow's fallback."""
    now = now or timezone.now()
    session = _read(call_sid=request.call_sid)
    if session is None:
        return Turn(twiml=twiml.static(twiml.UNAVAILABLE))
    if engine.State.from_dict(session.state).waiting == "redirect":
        back = replace(request, seq=session.seq, replay=False, unreachable=error[:300])
        return _resume(session, back, now)
    log.warning("call %s: Twilio fell back (%s)", request.call_sid, error)
    answer = call_fail(call_sid=request.call_sid, fingerprint=request.fingerprint, error=error)
    return Turn(twiml=answer or twiml.static(twiml.UNAVAILABLE))


def call_fail(*, call_sid: str, fingerprint: str, error: str) -> str | None:
    """After an unexpected error in a turn: run the fallback from a clean transaction.

    None when there is no such call (the caller then gets the static apology).
    """
    now = timezone.now()
    with transaction.atomic():
        session = _locked(call_sid=call_sid)
        if session is None:
            return None
        step = _run_turn(
            session, Event(kind="failure", result=error[:300]), fingerprint, now, loop.Progress()
        )
    return _complete(step, fingerprint).twiml


# --- the turn -------------------------------------------------------------------------------
@dataclass
class _Pending:
    """A turn waiting for a request made outside any transaction."""

    session_pk: int
    token: datetime
    request: Request
    progress: loop.Progress


def _new_session(
    request: VoiceRequest,
    target: tuple[int, int | None],
    *,
    simulated: bool,
    draft: dict[str, Any] | None,
) -> CallSession:
    """A new call's row, not saved yet, at the start of its flow."""
    session = CallSession(
        call_sid=request.call_sid,
        flow_id=target[0],
        flow_version_id=None if draft is not None else target[1],
        draft_definition=draft,
        simulated=simulated,
        from_number=request.caller[:64],
        to_number=request.to[:64],
        provider_status=request.call_status[:32],
    )
    session.state = sessions.new_state(session)
    return session


def _known_session(
    request: VoiceRequest, known: tuple[int, int], *, simulated: bool
) -> CallSession | None:
    """A new call's row on the flow its number was last found bound to; None when that
    version is gone (the number is then looked up again)."""
    try:
        return _new_session(request, known, simulated=simulated, draft=None)
    except FlowVersion.DoesNotExist:
        sessions.forget_flows(request.to)
        return None


def _resume(session: CallSession, request: VoiceRequest, now: datetime) -> Turn:
    """A webhook of a known call: optimistically, else with the row locked."""
    turn = _resume_unlocked(session, request, now)
    if turn is not None:
        return turn
    with transaction.atomic():
        locked = _locked(pk=session.pk)
        if locked is None:
            return Turn(twiml=twiml.static(twiml.UNAVAILABLE))
        step = _resume_locked(locked, request, now)
    return _complete(step, request.fingerprint)


def _resume_unlocked(session: CallSession, request: VoiceRequest, now: datetime) -> Turn | None:
    """_resume_locked on the row as read; None when only the locked path can answer."""
    if session.last_request_hash == request.fingerprint and session.last_twiml:
        return Turn(twiml=session.last_twiml, session=session, replayed=True)
    if session.pending_since is not None:
        return None
    state = engine.State.from_dict(session.state)
    if state.ended or request.replay or request.seq != session.seq or not state.waiting:
        return Turn(twiml=_current_twiml(session), session=session, replayed=True)
    return _advance_unlocked(session, request.event(state.waiting), request.fingerprint, now)


def _advance_unlocked(
    session: CallSession,
    event: Event,
    fingerprint: str,
    now: datetime,
    bound_to: str | None = None,
) -> Turn | None:
    """Run the engine on the row as read and write the turn in one short transaction.

    None, having written nothing, when the engine needs a request answered (the database,
    the network) or when another request wrote the row since it was read: the caller then
    runs the turn with the row locked. A new call's row is inserted (a duplicate start
    raises IntegrityError); with `bound_to` (its flow taken from sessions.known_flow),
    only if that flow and version are still the number's, and None if not (nor when, in
    one statement, the call turns out to exist).
    """
    progress = loop.turn_advance(session, event, now=now, answer_inside=False)
    if progress.request is not None:
        return None
    expected = _version(session) if session.pk is not None else None
    fields = _answer(session, progress, fingerprint)
    written = progress.write_with_last(
        session, fields, expected=expected, now=now, bound_to=bound_to
    )
    if written is False:
        return None
    if written is None:
        with transaction.atomic():
            if bound_to is not None and not sessions.still_bound(bound_to, session):
                return None
            if not _write(session, fields, expected=expected):
                return None
            progress.save_last(session, now)
    return Turn(
        twiml=session.last_twiml,
        session=session,
        commands=progress.commands,
        messages=progress.applied.messages,
    )


def _resume_locked(session: CallSession, request: VoiceRequest, now: datetime) -> Turn | _Pending:
    state = engine.State.from_dict(session.state)
    if session.last_request_hash == request.fingerprint and session.last_twiml:
        return Turn(twiml=session.last_twiml, session=session, replayed=True)
    if session.pending_since is not None:
        if now - session.pending_since < PENDING_TIMEOUT:
            return Turn(twiml=twiml.replay_later(session.seq), session=session, replayed=True)
        # The turn that went out for an answer never came back: carry on as if it failed.
        event = Event(kind="effect", result=None)
    elif state.ended or request.replay or request.seq != session.seq or not state.waiting:
        return Turn(twiml=_current_twiml(session), session=session, replayed=True)
    else:
        event = request.event(state.waiting)
    return _run_turn(session, event, request.fingerprint, now, loop.Progress())


def _complete(step: Turn | _Pending, fingerprint: str) -> Turn:
    """Make the requests a turn needs outside any transaction, and finish the turn.

    All the HTTP requests of the turn share one deadline: the webhook's."""
    deadline = deadlines.current()
    while isinstance(step, _Pending):
        result = effects.perform_outside(step.request, deadline=deadline)
        with transaction.atomic():
            session = _locked(pk=step.session_pk)
            if session is None or session.pending_since != step.token:
                # Someone gave up on this turn meanwhile and answered the caller already.
                return Turn(
                    twiml=_current_twiml(session) if session else twiml.static(twiml.UNAVAILABLE)
                )
            step = _run_turn(
                session,
                Event(kind="effect", result=result),
                fingerprint,
                timezone.now(),
                step.progress,
            )
    return step


def _run_turn(
    session: CallSession, event: Event, fingerprint: str, now: datetime, progress: loop.Progress
) -> Turn | _Pending:
    """Advance the locked (or new, unsaved) session until it waits, ends or must go out."""
    progress = loop.turn_advance(session, event, now=now, progress=progress)
    if progress.request is None:
        # the session row is written (a new call's inserted) before its steps and effects
        _write(session, _answer(session, progress, fingerprint))
        progress.save_last(session, now)
        return Turn(
            twiml=session.last_twiml,
            session=session,
            commands=progress.commands,
            messages=progress.applied.messages,
        )
    progress.save_last(session, now)
    assert progress.state is not None and session.pk is not None
    token = sessions.save_pending(session, progress.state, fingerprint=fingerprint)
    return _Pending(session_pk=session.pk, token=token, request=progress.request, progress=progress)


def _answer(session: CallSession, progress: loop.Progress, fingerprint: str) -> list[str]:
    """Render the answer and put the turn's outcome on the row (not saved); the fields to save."""
    state, commands, wait_commands = progress.state, progress.commands, progress.wait_commands
    assert state is not None
    answer = twiml.to_xml(commands)
    if not state.waiting or not wait_commands:
        session.wait_twiml = ""
    else:
        session.wait_twiml = answer if wait_commands == commands else twiml.to_xml(wait_commands)
    fields = sessions.record_answer(
        session, state, answer=answer, fingerprint=fingerprint, errors=progress.errors, what="call"
    )
    fields.append("wait_twiml")
    if state.ended and session.status == CallSession.Status.ACTIVE and session.simulated:
        session.status = CallSession.Status.COMPLETED
        session.ended_at = timezone.now()
        fields += ["status", "ended_at"]
    return fields


def _current_twiml(session: CallSession) -> str:
    """The current wait, rendered again (for stale or replayed requests)."""
    return session.wait_twiml or session.last_twiml or twiml.static(twiml.UNAVAILABLE)
