"""The side effects the engine asks for, performed by the runtime service.

`apply_effects` runs inside the transaction that saves the call's steps (outbox rows,
callbacks, recordings, agent releases); `fulfil` answers the engine's database requests
(directory, agents, subflows) inside that transaction too; `perform_http` is the only one
that goes to the network, and the service calls it between transactions.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db.models import F

from flows.nodes.runtime import (
    ControlRecording,
    Effect,
    ExpectReturn,
    FindCustomer,
    HttpRequest,
    HttpResult,
    LoadFlow,
    RecoverAbandoned,
    ReleaseAgent,
    Request,
    ReserveAgent,
    SaveRecording,
    ScheduleCallback,
    SendSms,
)
from ivr_runtime import auth_guard, engine, outbound_http
from ivr_runtime.models import (
    Agent,
    CallbackRequest,
    CallControl,
    CallHttpRequest,
    CallSession,
    OutboundMessage,
    Recording,
    RecoveryOffer,
)
from ivr_runtime.turns import deadlines, definitions, sql

log = logging.getLogger(__name__)


@dataclass
class Applied:
    """What the effects of one turn produced (the simulator shows the texts)."""

    messages: list[OutboundMessage] = field(default_factory=list)


def apply_effects(
    *,
    session: CallSession,
    effects: list[Effect],
    steps: dict[str, StepRef],
    now: datetime,
    applied: Applied,
) -> None:
    for n, effect in enumerate(effects):
        if isinstance(effect, SendSms):
            applied.messages.append(_queue_sms(session, effect, steps, n))
        elif isinstance(effect, ScheduleCallback):
            CallbackRequest.objects.create(
                number=effect.number,
                due_at=now + timedelta(hours=effect.within_hours),
                target=effect.target,
                node_id=effect.node,
                session=session,
                flow_id=session.flow_id,
                simulated=session.simulated,
            )
        elif isinstance(effect, RecoverAbandoned):
            message = _recover(session, effect, steps, n, now)
            if message is not None:
                applied.messages.append(message)
        elif isinstance(effect, SaveRecording):
            _save_recording(session, effect)
        elif isinstance(effect, ReleaseAgent):
            agent_release(agent_id=effect.agent_id, session=session, now=now)
        elif isinstance(effect, ControlRecording | ExpectReturn):
            _queue_control(session, effect, now)


def _save_recording(session: CallSession, effect: SaveRecording) -> None:
    """A voicemail, listed with the call: its row completed if its transcription came first
    (voice.recordings), else inserted."""
    fields = {
        "node_id": effect.node,
        "url": effect.url[:1000],
        "duration": effect.duration,
        "transcribe": effect.transcribe,
        "simulated": session.simulated,
    }
    sid = effect.sid[:64]
    if sid and Recording.objects.filter(recording_sid=sid, session=session).update(**fields):
        return
    Recording.objects.create(session=session, recording_sid=sid, **fields)


def _queue_control(
    session: CallSession, effect: ControlRecording | ExpectReturn, now: datetime
) -> CallControl:
    """The action on the live call, for the worker's sweep (voice/call_control.py) to
    perform after the answer: recording started or stopped at once, a call handed to
    another application taken back if it is not back in time."""
    Action = CallControl.Action
    if isinstance(effect, ControlRecording):
        action = Action.START_RECORDING if effect.action == "start" else Action.STOP_RECORDING
        fields = {"action": action, "channels": effect.channels, "due_at": now}
    else:
        fields = {
            "action": Action.TAKE_BACK,
            "seq": effect.seq,
            "due_at": now + timedelta(seconds=effect.seconds),
        }
    return CallControl.objects.create(
        session=session,
        node_id=effect.node[:64],
        status=CallControl.Status.SIMULATED if session.simulated else CallControl.Status.QUEUED,
        **fields,
    )


@dataclass(frozen=True)
class StepRef:
    """A step the turn wrote: its key, and its index in the session."""

    pk: int
    index: int


def _queue_sms(
    session: CallSession, effect: SendSms, steps: dict[str, StepRef], n: int
) -> OutboundMessage:
    """The outbox row, in the turn's transaction. The webhook hands nothing to the broker:
    the outbox relay (`outbox.outbox_sweep`, every OUTBOX_SWEEP_SECONDS) hands it over."""
    step = steps.get(effect.node or "")
    message = outbox_message(session, effect, None if step is None else step.index, n)
    message.step_id = None if step is None else step.pk
    sql.insert([message])
    return message


def outbox_message(
    session: CallSession, effect: SendSms, step_index: int | None, n: int
) -> OutboundMessage:
    """The outbox row of a text the `n`th effect of a turn asks for (not saved, its step
    not set): sent from the number the caller called, by the step at `step_index`."""
    if effect.node is None:
        key = f"{session.call_sid}:fallback"  # the fallback text goes once per call
    elif step_index is not None:
        key = f"step:{session.pk}:{step_index}:{n}"
    else:
        key = f"{session.call_sid}:{effect.node}:{uuid.uuid4().hex}"
    # A plain insert: a turn's effects are applied once (replays and stale requests never
    # re-run a turn), so the unique key only guards against a bug, by failing the turn.
    return OutboundMessage(
        idempotency_key=key[:128],
        to=effect.to[:64],
        from_number=session.to_number[:64],
        body=effect.body,
        status=OutboundMessage.Status.SIMULATED
        if session.simulated
        else OutboundMessage.Status.QUEUED,
        session=session,
        simulated=session.simulated,
    )


def texts_only(
    session: CallSession, effects: list[Effect], steps: list[engine.StepRecord]
) -> list[tuple[OutboundMessage, int | None]] | None:
    """When every effect of a round is a text: each one's outbox row (not saved) and the
    index of the round's step that sent it (its last visit of the node), to write with the
    round's `steps` in one statement. None when another effect needs writing its own way
    (apply_effects)."""
    if not effects:
        return []
    if not all(type(effect) is SendSms for effect in effects):
        return None
    step_index = {step.node: step.index for step in steps}
    texts = []
    for n, effect in enumerate(effects):
        assert isinstance(effect, SendSms)
        index = step_index.get(effect.node or "")
        texts.append((outbox_message(session, effect, index, n), index))
    return texts


def _recover(
    session: CallSession,
    effect: RecoverAbandoned,
    steps: dict[str, StepRef],
    n: int,
    now: datetime,
) -> OutboundMessage | None:
    """The text to a caller who hung up while queued or ringing, through the outbox, unless
    the number had one for this flow within the period. A simulated call's is shown, never
    sent, and neither counts nor can be answered."""
    sms = SendSms(to=effect.to, body=effect.body, node=effect.node)
    if session.simulated:
        return _queue_sms(session, sms, steps, n)
    period = timedelta(hours=effect.period_hours)
    # Two calls of one number abandoned at the same moment may both be texted: a rare
    # second text is cheaper than a lock every abandoned call would queue on.
    recent = RecoveryOffer.objects.filter(
        number=effect.to, flow_id=session.flow_id, sent_at__gt=now - period
    )
    if recent.exists():
        return None
    message = _queue_sms(session, sms, steps, n)
    Status = RecoveryOffer.Status
    RecoveryOffer.objects.create(
        number=effect.to[:64],
        from_number=session.to_number[:64],
        flow_id=session.flow_id,
        session=session,
        node_id=effect.node[:64],
        callback=effect.callback,
        target=effect.target if effect.callback else None,
        status=Status.OFFERED if effect.callback else Status.TEXTED,
        message=message,
        sent_at=now,
        expires_at=now + period,
    )
    return message


def agent_release(*, agent_id: int, session: CallSession, now: datetime) -> None:
    Agent.objects.filter(pk=agent_id, current_session=session).update(
        status=Agent.Status.AVAILABLE, current_session=None, last_call_ended_at=now
    )


def agent_reserve(*, skills: tuple[str, ...], session: CallSession) -> Agent | None:
    """The longest-idle available agent with every skill, marked busy; None if nobody."""
    candidates = Agent.objects.filter(status=Agent.Status.AVAILABLE)
    for skill in skills:
        candidates = candidates.filter(skills__name=skill)
    agent = (
        candidates.order_by(F("last_call_ended_at").asc(nulls_first=True), "pk")
        .select_for_update(skip_locked=True, of=("self",))
        .first()
    )
    if agent is None:
        return None
    agent.status = Agent.Status.BUSY
    agent.current_session = session
    agent.save(update_fields=["status", "current_session"])
    return agent


def needs_outside(request: Request) -> bool:
    """Requests too slow to make while the session row is locked: HTTP calls and PIN checks
    (a PIN is hashed like a password, deliberately slow to verify)."""
    return isinstance(request, HttpRequest) or (
        isinstance(request, FindCustomer) and request.pin is not None
    )


def perform_outside(request: Request, *, deadline: deadlines.Deadline | None = None) -> Any:
    """Make a request between transactions (see needs_outside). Never raises.

    An HTTP request ends by `deadline`: the turn's, shared by all its requests."""
    if isinstance(request, HttpRequest):
        return perform_http(request, deadline=deadline)
    if isinstance(request, FindCustomer):
        try:
            return auth_guard.customer_find(request)  # with its PIN lockout
        except Exception:
            log.exception("customer lookup failed")
            return None
    raise TypeError(f"not a request made outside a transaction: {request!r}")


def fulfil(
    request: Request,
    *,
    session: CallSession,
    loaded: dict[str, definitions.Loaded],
    pinned: dict[str, int],
) -> Any:
    """Answer a database request of the engine (inside the session's transaction).
    `pinned`: the subflow versions of the call (its state's `subflows`), added to."""
    if isinstance(request, FindCustomer):
        return auth_guard.customer_find(request)
    if isinstance(request, ReserveAgent):
        agent = agent_reserve(skills=request.skills, session=session)
        return (
            None if agent is None else {"id": agent.pk, "name": agent.name, "number": agent.number}
        )
    if isinstance(request, LoadFlow):
        found = definitions.load_subflow(request.slug, pinned)
        if found is None:
            return None
        loaded[found.definition.key] = found
        return found.definition.key
    raise TypeError(f"not a database request: {request!r}")


def perform_http(request: HttpRequest, *, deadline: deadlines.Deadline | None = None) -> HttpResult:
    """The HTTP call of an `http` or `self_service` node, within `deadline` (the webhook's;
    see outbound_http for what it may reach). Never raises."""
    started = time.monotonic()
    result = outbound_http.fetch(request, deadline=deadline or deadlines.current())
    return replace(result, elapsed_ms=round((time.monotonic() - started) * 1000))


def save_http_requests(session: CallSession, made: list[HttpMade]) -> None:
    """The HTTP requests the round's nodes made, listed with the call (its history)."""
    CallHttpRequest.objects.bulk_create(
        [
            CallHttpRequest(
                session=session,
                step_index=item.step,
                node_id=item.node[:64],
                method=item.request.method[:8],
                url=item.request.url[:2000],
                status=item.result.status,
                ok=item.result.ok,
                error=item.result.error[:300],
                duration_ms=item.result.elapsed_ms,
                at=item.at,
            )
            for item in made
        ]
    )


@dataclass(frozen=True)
class HttpMade:
    """An HTTP request a node made between two rounds of a turn, and its answer."""

    step: int
    node: str
    request: HttpRequest
    result: HttpResult
    at: datetime
