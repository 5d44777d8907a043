"""Test calls without a phone: the designer's simulator, through the real runtime services.

A simulated call is a CallSession with `simulated=True` (its steps too, so statistics
leave it out), driven by the same `call_start` / `call_resume` / `call_status` as a real
call: the same engine, the same session and step tables, real HTTP requests. Texts become
outbox rows marked simulated that are never handed to the worker; the answer lists them.
The answer also describes what the call waits for, from the engine's commands of the turn,
so the designer offers the keypad, the speech box or the buttons that fit. A simulated
outbound call starts as `ivr_runtime.voice.outbound` starts a real one once it is answered (the
person called is the caller, `call.direction` is outbound, `call.answered_by` as chosen)
and never reaches Twilio. See docs/runtime.md for the request and answer.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from django.utils import timezone

from flows.models import Flow
from flows.nodes.runtime import (
    Command,
    Dial,
    Enqueue,
    Gather,
    Handover,
    HttpRequest,
    HttpResult,
    Record,
    Say,
)
from ivr_runtime import engine, outbound_http
from ivr_runtime.models import CallSession, CallStep
from ivr_runtime.turns import sessions
from ivr_runtime.twilio import twiml
from ivr_runtime.twilio.forms import VoiceRequest
from ivr_runtime.voice import outbound, services

DEFAULT_CALLER = "+447700900123"
#: a "no-answer" in the simulator means the phone rang out: the clock moves past any timeout
RING_OUT = timedelta(seconds=601)
RECORDING_URL = "https://simulator.invalid/recording.wav"
#: Twilio's AnsweredBy values (answering-machine detection); "" when it was not asked for
ANSWERED_BY = (
    "",
    "human",
    "machine_start",
    "machine_end_beep",
    "machine_end_silence",
    "machine_end_other",
    "fax",
    "unknown",
)

EventType = Literal[
    "start", "digits", "speech", "silence", "dial", "queue", "record", "redirect", "hangup"
]
#: which events answer which wait
ANSWERS = {
    "input": {"digits", "speech", "silence"},
    "dial": {"dial"},
    "queue": {"queue"},
    "record": {"record"},
    "redirect": {"redirect"},
}


class SimulationError(Exception):
    """The request cannot be simulated (400), or names no simulated call of this flow (404)."""

    def __init__(self, message: str, *, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class SimEvent:
    type: EventType
    digits: str = ""
    speech: str = ""
    status: str = ""
    result: str = ""
    duration: int = 0


@dataclass(frozen=True)
class SimOutbound:
    """A simulated outbound call: whom we call, who answers, the call's vars."""

    to: str
    answered_by: str = ""
    variables: dict[str, Any] = field(default_factory=dict)


def simulate(
    *,
    flow: Flow,
    session_id: str | None,
    source: str,
    caller: str | None,
    event: SimEvent,
    outbound_call: SimOutbound | None = None,
    variables: dict[str, Any] | None = None,
    now: datetime | None = None,
    definition: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One event of a simulated call. `variables`: the call's vars when it starts (as an
    outbound call's); `now`: the clock the turn runs at (a flow test's); `definition`: run
    this definition (a version's) instead of the draft or the published version."""
    if outbound_call is not None and event.type != "start":
        raise SimulationError("outbound: an outbound call is chosen when it starts ('start')")
    with outbound_http.recorded() as made:
        turn = _turn(
            flow, session_id, source, caller, event, outbound_call, variables, now, definition
        )
    session = CallSession.objects.get(pk=turn.session.pk) if turn.session else None
    return {**_answer(session, turn), "http": [_made(request, result) for request, result in made]}


def _turn(
    flow: Flow,
    session_id: str | None,
    source: str,
    caller: str | None,
    event: SimEvent,
    outbound_call: SimOutbound | None,
    variables: dict[str, Any] | None,
    now: datetime | None,
    definition: dict[str, Any] | None,
) -> services.Turn:
    if event.type == "start" or not session_id:
        if event.type != "start":
            raise SimulationError("start a simulated call first (event type 'start')")
        draft = definition if definition is not None else _definition(flow, source)
        if outbound_call is not None:
            turn = _start_written(flow, draft, call=outbound_call, now=now)
        elif variables:
            # the vars go in before the flow starts: the row is written first, as an
            # outbound call's is, the caller calling in
            call = SimOutbound(to=caller or DEFAULT_CALLER, variables=variables)
            turn = _start_written(flow, draft, call=call, now=now, inbound=True)
        else:
            turn = _start(flow=flow, draft=draft, caller=caller or DEFAULT_CALLER, now=now)
    else:
        session = CallSession.objects.filter(call_sid=session_id, flow=flow, simulated=True).first()
        if session is None:
            raise SimulationError(
                f"no simulated call {session_id!r} of flow {flow.slug!r}", status=404
            )
        turn = _resume(session, event, now)
    return turn


def _made(request: HttpRequest, result: HttpResult) -> dict[str, Any]:
    """A request the turn made and what came of it: its JSON, a status that is not 2xx, or
    its error (a 2xx that is not JSON included)."""
    refused = result.status is not None and not 200 <= result.status < 300
    return {
        "method": request.method,
        "url": request.url,
        "status": result.status,
        "json": result.data if result.ok else None,
        "error": None if result.ok or refused else result.error,
    }


def _definition(flow: Flow, source: str) -> dict[str, Any] | None:
    """The draft to run, or None for the published version."""
    if source != "published":
        return flow.definition
    if flow.published_version_id is None:
        raise SimulationError(f"flow {flow.slug!r} has no published version")
    return None


def _our_number(flow: Flow) -> str:
    return flow.numbers.values_list("number", flat=True).first() or ""


def _start(
    *, flow: Flow, draft: dict[str, Any] | None, caller: str, now: datetime | None
) -> services.Turn:
    number = _our_number(flow)
    request = _request(f"SIM{uuid.uuid4().hex}", caller=caller, to=number, seq=None)
    turn = services.call_start(
        request=request, flow_slug=flow.slug, simulated=True, draft=draft, now=now
    )
    if turn.session is None:
        raise SimulationError(f"flow {flow.slug!r} cannot be started")
    return turn


def _start_written(
    flow: Flow,
    draft: dict[str, Any] | None,
    *,
    call: SimOutbound,
    now: datetime | None,
    inbound: bool = False,
) -> services.Turn:
    """As a real outbound call once answered: the session written first (the person called
    as the caller, the vars in), then the flow begins (`services.call_begin`). `inbound`:
    the same for a caller calling in whose call starts with vars (a flow test's)."""
    try:
        person = outbound.possible_number(call.to)
        variables = outbound.checked_vars(call.variables)
    except outbound.Refused as exc:
        raise SimulationError(f"outbound.{exc.field}: {exc}") from exc
    if call.answered_by not in ANSWERED_BY:
        raise SimulationError(f"outbound.answered_by: {call.answered_by!r} is not one of Twilio's")
    direction = CallSession.Direction.INBOUND if inbound else CallSession.Direction.OUTBOUND
    session = CallSession(
        call_sid=f"SIM{uuid.uuid4().hex}",
        flow=flow,
        flow_version_id=flow.published_version_id if draft is None else None,
        draft_definition=draft,
        simulated=True,
        direction=direction,
        from_number=person,
        to_number=_our_number(flow),
        answered_by=call.answered_by,
        provider_status="in-progress",
        variables=variables,
    )
    state = engine.State.from_dict(sessions.new_state(session))
    state.vars = dict(variables)
    session.state = state.to_dict()
    session.save()
    fields = {"AnsweredBy": call.answered_by} if call.answered_by else {}
    ends = (person, session.to_number) if inbound else (session.to_number, person)
    request = _request(session.call_sid, caller=ends[0], to=ends[1], seq=None, **fields)
    return services.call_begin(request=request, now=now)


def _resume(session: CallSession, event: SimEvent, now: datetime | None = None) -> services.Turn:
    state = session.state
    if event.type == "hangup":
        services.call_status(call_sid=session.call_sid, status="completed", now=now)
        return services.Turn(twiml=twiml.to_xml([]), session=session)
    waiting = state.get("waiting")
    if state.get("ended") or session.ended_at is not None:
        raise SimulationError("the call has ended")
    if waiting is None or event.type not in ANSWERS.get(waiting, set()):
        raise SimulationError(
            f"the call is waiting for {waiting or 'nothing'}, not for {event.type!r}"
        )
    form: dict[str, str] = {}
    now = now or timezone.now()
    if event.type == "digits":
        form["Digits"] = event.digits
    elif event.type == "speech":
        form.update(SpeechResult=event.speech, Confidence="0.9")
    elif event.type == "dial":
        form["DialCallStatus"] = event.status
        if event.status == "completed":
            form["DialCallDuration"] = "60"
        if event.status == "no-answer":
            now += RING_OUT
    elif event.type == "queue":
        form.update(QueueResult=event.result, QueueTime="30")
    elif event.type == "record" and event.duration > 0:
        form.update(
            RecordingUrl=RECORDING_URL,
            RecordingSid="RE" + uuid.uuid4().hex,
            RecordingDuration=str(event.duration),
        )
    # Twilio's From and To are the numbers dialling and dialled: ours first on an outbound call
    ends = (session.from_number, session.to_number)
    if session.direction == CallSession.Direction.OUTBOUND:
        ends = ends[::-1]
    request = _request(session.call_sid, caller=ends[0], to=ends[1], seq=session.seq, **form)
    if event.type == "redirect":
        # the application the call was handed to sent it back, kept it too long, or was
        # never reached (result "return", "timeout", "unreachable")
        if event.result == "unreachable":
            return services.call_unreachable(
                request=request, error="simulated: not reached", now=now
            )
        if event.result == "timeout":
            request = replace(request, handover="timeout")
    return services.call_resume(request=request, now=now)


def _request(call_sid: str, *, caller: str, to: str, seq: int | None, **form: str) -> VoiceRequest:
    fields = {"CallSid": call_sid, "From": caller, "To": to, "CallStatus": "in-progress", **form}
    query = {"seq": str(seq)} if seq is not None else {}
    # Every simulator event is a new request: a unique path makes its fingerprint unique.
    return VoiceRequest.parse(fields, query, f"/simulator/{uuid.uuid4().hex}")


def _prompts(turn: services.Turn) -> list[str]:
    """What the caller hears, from the engine's commands; a turn that only replayed a stored
    answer (a retry, a stale event) has none, and its TwiML says it."""
    if not turn.commands:
        document = ET.fromstring(turn.twiml.split("?>", 1)[-1])
        return [el.text or "" for el in document.iter("Say")]
    said: list[str] = []
    for command in turn.commands:
        if isinstance(command, Say):
            said.append(command.text)
        elif isinstance(command, Gather):
            said.extend(p.text for p in command.prompts if isinstance(p, Say))
    return said


def _answer(session: CallSession | None, turn: services.Turn) -> dict[str, Any]:
    state = session.state if session else {}
    ended = session is None or bool(state.get("ended")) or session.ended_at is not None
    wait = None if ended or session is None else _wait(session, turn.commands)
    steps = (
        CallStep.objects.filter(session=session).order_by("index").values_list("node_id", "exit")
        if session
        else []
    )
    return {
        "session": session.call_sid if session else None,
        "twiml": turn.twiml.split("?>", 1)[-1] if turn.twiml.startswith("<?xml") else turn.twiml,
        "prompts": _prompts(turn),
        "waiting_for": None if ended else state.get("waiting"),
        "wait": wait,
        "input": None
        if wait is None or wait["kind"] != "input"
        else {
            "dtmf": wait["dtmf"],
            "speech": wait["speech"],
            "num_digits": wait["num_digits"],
        },
        "call": _call(session),
        "path": [{"node": node, "exit": exit or None} for node, exit in steps],
        "current_node": (session.current_node or None) if session else None,
        "sms": [{"to": m.to, "body": m.body} for m in turn.messages],
        "ended": ended,
    }


def _call(session: CallSession | None) -> dict[str, str] | None:
    """The call as the flow sees it (`caller.number`, `call.direction`, `call.answered_by`)."""
    if session is None:
        return None
    return {
        "direction": session.direction,
        "caller": session.from_number,
        "to": session.to_number,
        "answered_by": session.answered_by,
    }


def _wait(session: CallSession, commands: list[Command]) -> dict[str, Any] | None:
    """What the call waits for: the turn's last wait command (the engine's own words), or,
    on a turn that only replayed the wait (no commands of its own), the stored wait."""
    waiting = session.state.get("waiting")
    if not waiting:
        return None
    for command in reversed(commands):
        described = describe_wait(command)
        if described is not None:
            return {**described, "node": session.current_node or None}
    return {**_stored_wait(session, waiting), "node": session.current_node or None}


def describe_wait(command: Command) -> dict[str, Any] | None:
    """A wait command as the simulator tells it: what answers it and how Twilio would end it.
    `finish_on_key` is the key that sends what was keyed in ("" for none: Twilio's default
    is "#"); with `num_digits`, Twilio sends as soon as that many keys are in."""
    if isinstance(command, Gather):
        keys = command.input != "speech"
        finish = command.finish_on_key
        return {
            "kind": "input",
            "input": command.input,
            "dtmf": keys,
            "speech": command.input != "dtmf",
            "num_digits": command.num_digits if keys else None,
            "finish_on_key": ("#" if finish is None else finish) if keys else "",
            "timeout": command.timeout,
        }
    if isinstance(command, Record):
        return {
            "kind": "record",
            "finish_on_key": command.finish_on_key,
            "max_length": command.max_length,
        }
    if isinstance(command, Dial):
        return {
            "kind": "dial",
            "to": command.number or command.sip or "",
            "timeout": command.timeout,
        }
    if isinstance(command, Enqueue):
        return {"kind": "queue", "queue": command.queue, "max_wait": command.max_wait}
    if isinstance(command, Handover):
        return {"kind": "redirect", "url": command.url}
    return None


def _stored_wait(session: CallSession, waiting: str) -> dict[str, Any]:
    """The wait as the stored TwiML of it says (a replayed turn carries no commands)."""
    if waiting != "input":
        return {"kind": waiting}
    text = session.wait_twiml or session.last_twiml
    gather = ET.fromstring(text.split("?>", 1)[-1]).find(".//Gather") if text else None
    modes = (gather.get("input") if gather is not None else None) or "dtmf"
    keys, digits = "dtmf" in modes.split(), gather.get("numDigits") if gather is not None else None
    return {
        "kind": "input",
        "input": "both" if keys and "speech" in modes else ("dtmf" if keys else "speech"),
        "dtmf": keys,
        "speech": "speech" in modes.split(),
        "num_digits": int(digits) if keys and digits else None,
        "finish_on_key": (gather.get("finishOnKey", "#") if gather is not None else "#")
        if keys
        else "",
        "timeout": int(gather.get("timeout") or 5) if gather is not None else 5,
    }
