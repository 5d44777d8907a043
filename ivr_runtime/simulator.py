"""Test calls without a phone: the designer's simulator, through the real runtime services.

A simulated call is a CallSession with `simulated=True` (its steps too, so statistics
leave it out), driven by the same `call_start` / `call_resume` / `call_status` as a real
call: the same engine, the same session and step tables, real HTTP requests. Texts become
outbox rows marked simulated that are never handed to the worker; the answer lists them.
See docs/runtime.md for the request and answer.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any, Literal

from django.utils import timezone

from flows.models import Flow

from . import services, twiml
from .forms import VoiceRequest
from .models import CallSession, CallStep

DEFAULT_CALLER = "+447700900123"
#: a "no-answer" in the simulator means the phone rang out: the clock moves past any timeout
RING_OUT = timedelta(seconds=601)
RECORDING_URL = "https://simulator.invalid/recording.wav"

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


def simulate(
    *, flow: Flow, session_id: str | None, source: str, caller: str | None, event: SimEvent
) -> dict[str, Any]:
    if event.type == "start" or not session_id:
        if event.type != "start":
            raise SimulationError("start a simulated call first (event type 'start')")
        turn = _start(flow=flow, source=source, caller=caller or DEFAULT_CALLER)
    else:
        session = CallSession.objects.filter(call_sid=session_id, flow=flow, simulated=True).first()
        if session is None:
            raise SimulationError(
                f"no simulated call {session_id!r} of flow {flow.slug!r}", status=404
            )
        turn = _resume(session, event)
    session = CallSession.objects.get(pk=turn.session.pk) if turn.session else None
    return _answer(session, turn)


def _start(*, flow: Flow, source: str, caller: str) -> services.Turn:
    if source == "published":
        if flow.published_version_id is None:
            raise SimulationError(f"flow {flow.slug!r} has no published version")
        draft = None
    else:
        draft = flow.definition
    number = flow.numbers.values_list("number", flat=True).first() or ""
    request = _request(f"SIM{uuid.uuid4().hex}", caller=caller, to=number, seq=None)
    turn = services.call_start(request=request, flow_slug=flow.slug, simulated=True, draft=draft)
    if turn.session is None:
        raise SimulationError(f"flow {flow.slug!r} cannot be started")
    return turn


def _resume(session: CallSession, event: SimEvent) -> services.Turn:
    state = session.state
    if event.type == "hangup":
        services.call_status(call_sid=session.call_sid, status="completed")
        return services.Turn(twiml=twiml.to_xml([]), session=session)
    waiting = state.get("waiting")
    if state.get("ended") or session.ended_at is not None:
        raise SimulationError("the call has ended")
    if waiting is None or event.type not in ANSWERS.get(waiting, set()):
        raise SimulationError(
            f"the call is waiting for {waiting or 'nothing'}, not for {event.type!r}"
        )
    form: dict[str, str] = {}
    now = timezone.now()
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
    request = _request(
        session.call_sid, caller=session.from_number, to=session.to_number, seq=session.seq, **form
    )
    if event.type == "redirect":
        # the application the call was handed to sent it back, kept it too long, or was
        # never reached (result "return", "timeout", "unreachable")
        if event.result == "unreachable":
            return services.call_unreachable(request=request, error="simulated: not reached")
        if event.result == "timeout":
            request = replace(request, handover="timeout")
    return services.call_resume(request=request, now=now)


def _request(call_sid: str, *, caller: str, to: str, seq: int | None, **form: str) -> VoiceRequest:
    fields = {"CallSid": call_sid, "From": caller, "To": to, "CallStatus": "in-progress", **form}
    query = {"seq": str(seq)} if seq is not None else {}
    # Every simulator event is a new request: a unique path makes its fingerprint unique.
    return VoiceRequest.parse(fields, query, f"/simulator/{uuid.uuid4().hex}")


def _answer(session: CallSession | None, turn: services.Turn) -> dict[str, Any]:
    document = ET.fromstring(turn.twiml.split("?>", 1)[-1])
    state = session.state if session else {}
    ended = session is None or bool(state.get("ended")) or session.ended_at is not None
    gather = None if ended else document.find(".//Gather")
    if (
        gather is None
        and not ended
        and state.get("waiting") == "input"
        and session
        and session.wait_twiml
    ):
        gather = ET.fromstring(session.wait_twiml.split("?>", 1)[-1]).find(".//Gather")
    modes = (gather.get("input") or "dtmf").split() if gather is not None else []
    steps = (
        CallStep.objects.filter(session=session).order_by("index").values_list("node_id", "exit")
        if session
        else []
    )
    return {
        "session": session.call_sid if session else None,
        "twiml": turn.twiml.split("?>", 1)[-1] if turn.twiml.startswith("<?xml") else turn.twiml,
        "prompts": [el.text or "" for el in document.iter("Say")],
        "waiting_for": None if ended else state.get("waiting"),
        "input": None
        if gather is None
        else {
            "dtmf": "dtmf" in modes,
            "speech": "speech" in modes,
            "num_digits": int(gather.get("numDigits")) if gather.get("numDigits") else None,
        },
        "path": [{"node": node, "exit": exit or None} for node, exit in steps],
        "current_node": (session.current_node or None) if session else None,
        "sms": [{"to": m.to, "body": m.body} for m in turn.messages],
        "ended": ended,
    }
