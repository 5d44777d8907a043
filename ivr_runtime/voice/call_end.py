"""How a call ends: its status callbacks, and the sweep of calls whose callback never came.

- The first final status (completed, busy, failed, no-answer, canceled) closes the call: a
  flow still running hangs up where it is (its step marked hung up, a reserved agent
  released), and Twilio's `CallDuration`, posted with it, is kept. That status stays: a
  later or out-of-order callback (ringing or in-progress after completed, failed after
  completed) changes nothing.
- A call whose flow has finished is closed by one UPDATE with no read (`_close_finished`).
- A status callback lost (the database was down when Twilio posted it) would leave the call
  active for ever: `call_sweep` closes calls with no webhook for CALL_STALE_MINUTES (longer
  for a caller waiting in a queue: its `max_wait` more), as the callback would have. The
  provider's final status, if it comes after all, is still recorded on the closed call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from flows import nodes as node_types
from flows.nodes.runtime import Event
from ivr_runtime import engine
from ivr_runtime.models import CallSession
from ivr_runtime.turns import loop, sessions, sql

log = logging.getLogger(__name__)

TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
#: calls the sweep looks at per query, and queries per run (the rest wait for the next run)
SWEEP_BATCH = 200
SWEEP_BATCHES = 25


def call_status(
    *, call_sid: str, status: str, duration: int | None = None, now: datetime | None = None
) -> bool:
    """A status callback (`duration`: its CallDuration). False when the call is unknown."""
    now = now or timezone.now()
    if status in TERMINAL_STATUSES and _close_finished(call_sid, status, duration, now):
        return True
    session = sessions.read(call_sid=call_sid)
    if session is None:
        return False
    if not _Closing.changes(session, status):
        return True  # closed already: its first final status stands
    expected = sessions.version(session)
    closing = _Closing.of(session, status, now, duration=duration)
    with transaction.atomic():
        if closing.write(session, now, expected=expected):
            return True
    with transaction.atomic():
        session = sessions.locked(pk=session.pk)
        if session is None:
            return False
        if _Closing.changes(session, status):
            _Closing.of(session, status, now, duration=duration).write(session, now)
    return True


def _close_finished(call_sid: str, status: str, duration: int | None, now: datetime) -> bool:
    """The end of a call whose flow has finished, in one statement with no read: what
    _Closing writes for it. False, having written nothing, for any other call (still in
    its flow, already closed, unknown)."""
    with sessions.one_statement():
        return (
            sql.update_where(
                CallSession,
                {
                    "provider_status": status[:32],
                    "status": _closed_status(status),
                    "duration": duration,
                    "ended_at": now,
                    "pending_since": None,
                    "updated_at": timezone.now(),
                },
                {"call_sid": call_sid, "flow_finished": True, "ended_at": None},
            )
            == 1
        )


def _closed_status(status: str) -> str:
    return CallSession.Status.COMPLETED if status == "completed" else CallSession.Status.FAILED


@dataclass
class _Closing:
    """A status recorded on the row (not saved yet): a call that ends while the engine still
    runs it hangs up where it is (its step is marked hung up)."""

    fields: list[str]
    hangup: loop.Progress | None = None

    @staticmethod
    def changes(session: CallSession, status: str) -> bool:
        """Whether `status` changes anything: on an open call, any status; on a closed one,
        only the provider's first final status (after the sweep closed it without one)."""
        if session.ended_at is None:
            return True
        return status in TERMINAL_STATUSES and session.provider_status not in TERMINAL_STATUSES

    @classmethod
    def of(
        cls, session: CallSession, status: str, now: datetime, *, duration: int | None = None
    ) -> _Closing:
        session.provider_status = status[:32]
        closing = cls(fields=["provider_status", "updated_at"])
        if status not in TERMINAL_STATUSES:
            return closing
        session.status = _closed_status(status)
        session.duration = duration
        closing.fields += ["status", "duration"]
        if session.ended_at is None:
            closing._end(session, now)
        return closing

    @classmethod
    def stale(cls, session: CallSession, now: datetime) -> _Closing:
        """A call closed by the sweep: no status is known, its last one is left as it was."""
        idle = int((now - session.updated_at).total_seconds() // 60)
        session.status = CallSession.Status.COMPLETED
        session.errors = [
            *session.errors,
            f"closed by the sweep: no webhook for {idle} minutes (its status callback was lost)",
        ][-20:]
        closing = cls(fields=["status", "errors", "updated_at"])
        closing._end(session, now)
        return closing

    def _end(self, session: CallSession, now: datetime) -> None:
        state = engine.State.from_dict(session.state)
        if not state.ended:
            # a request the hang-up asks for is not made: the call is over
            self.hangup = loop.turn_advance(
                session, Event(kind="hangup"), now=now, answer_inside=False
            )
            assert self.hangup.state is not None
            sessions.store_state(session, self.hangup.state)
            self.fields += sessions.STATE_FIELDS
        session.ended_at = now
        session.pending_since = None
        self.fields += ["ended_at", "pending_since"]

    def write(
        self, session: CallSession, now: datetime, *, expected: tuple[datetime, str] | None = None
    ) -> bool:
        """False, having written nothing, when `expected` is not the row's version."""
        if not sessions.write(session, self.fields, expected=expected):
            return False
        if self.hangup is not None:
            self.hangup.save_last(session, now)
        return True


# --- the sweep ------------------------------------------------------------------------------
def call_sweep(*, now: datetime | None = None) -> int:
    """Close the calls still active with no webhook for CALL_STALE_MINUTES (plus the
    `max_wait` of the queue a caller waits in): what their lost status callback would have
    done. How many it closed.

    Served by the index on (status, started_at): a call silent since the cutoff started
    before it, so only active calls older than CALL_STALE_MINUTES are read, never the
    finished ones, however many the table holds.
    """
    now = now or timezone.now()
    stale = timedelta(minutes=settings.CALL_STALE_MINUTES)
    cutoff = now - stale
    candidates = CallSession.objects.filter(
        status=CallSession.Status.ACTIVE, started_at__lt=cutoff, updated_at__lt=cutoff
    ).exclude(channel="sms")  # text conversations expire on their own (sms_channel)
    closed, kept = 0, set[int]()
    for _ in range(SWEEP_BATCHES):
        # Each call closed leaves the candidates; those kept (a caller still in a queue)
        # are left out of the next query.
        batch = candidates.exclude(pk__in=kept) if kept else candidates
        pks = list(batch.order_by("started_at").values_list("pk", flat=True)[:SWEEP_BATCH])
        for pk in pks:
            if _close_stale(pk, now, stale):
                closed += 1
            else:
                kept.add(pk)
        if len(pks) < SWEEP_BATCH:
            break
    if closed:
        log.warning("closed %d calls whose status callback never came", closed)
    return closed


def _close_stale(pk: int, now: datetime, stale: timedelta) -> bool:
    """Close one call if it is still open and silent for long enough (with its row locked)."""
    with transaction.atomic():
        session = sessions.locked(pk=pk)
        if session is None or session.ended_at is not None:
            return False
        if session.status != CallSession.Status.ACTIVE:
            return False
        if now - session.updated_at < stale + _silent_wait(session):
            return False
        _Closing.stale(session, now).write(session, now)
    return True


def _silent_wait(session: CallSession) -> timedelta:
    """How long a waiting call may stay silent on top, as its node's type says (a route's
    queue: its max_wait, while Twilio fetches the hold music, which writes nothing)."""
    state = engine.State.from_dict(session.state)
    if state.waiting is None:
        return timedelta(0)
    try:
        node = sessions.loaded_for(session, state)[state.flow].definition.nodes[state.node or ""]
        node_type = node_types.get(node["type"])
        seconds = node_type.silent_seconds(node["config"], state.waiting) if node_type else 0
        return timedelta(seconds=seconds)
    except Exception:  # a version gone, a malformed state: the sweep closes it all the same
        log.exception("call %s: wait at %s unknown", session.call_sid, state.node)
        return timedelta(0)
