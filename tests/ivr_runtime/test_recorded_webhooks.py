"""Replays the Twilio webhook forms recorded in fixtures/webhooks/ (all of Twilio's fields)."""

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from django.conf import settings

from ivr_runtime.models import CallSession, CallStep, Recording

from .conftest import flow_definition, publish
from .twilio_driver import new_sid

pytestmark = pytest.mark.django_db

RECORDED = Path(settings.BASE_DIR) / "fixtures" / "webhooks"
NUMBER = "+442079460001"  # the number in the recorded forms


def recorded(name: str, sid: str) -> dict[str, str]:
    form = json.loads((RECORDED / f"{name}.json").read_text())["form"]
    return {**form, "CallSid": sid}


@pytest.fixture
def flow():
    publish(
        flow_definition(
            "recorded",
            [
                {
                    "id": "menu",
                    "type": "menu",
                    "config": {
                        "prompt": "Press 1 for the desk, 2 or say book for bookings.",
                        "input": "both",
                        "retries": 1,
                        "options": [{"key": "1"}, {"key": "2", "speech": ["book", "table"]}],
                    },
                    "exits": {"1": "desk", "2": "queue", "no_input": "vm", "no_match": "vm"},
                },
                {
                    "id": "desk",
                    "type": "route",
                    "config": {"target": {"number": "+442071838750"}, "timeout": 20},
                    "exits": {"connected": "bye", "unavailable": "vm", "timeout": "vm"},
                },
                {
                    "id": "queue",
                    "type": "route",
                    "config": {"target": {"queue": "bookings"}, "max_wait": 300},
                    "exits": {"connected": "vm", "unavailable": "vm", "timeout": "vm"},
                },
                {
                    "id": "vm",
                    "type": "voicemail",
                    "config": {"prompt": "Leave a message."},
                    "exits": {"recorded": "bye", "empty": "bye"},
                },
                {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
            ],
        ),
        NUMBER,
    )


def action(response) -> str:
    assert response.status_code == 200, response.content
    root = ET.fromstring(response.content)
    waiting = [el for el in root if el.tag in ("Gather", "Dial", "Enqueue", "Record")]
    return waiting[0].get("action") if waiting else ""


def steps(sid):
    return list(CallStep.objects.filter(session__call_sid=sid).values_list("node_id", "exit"))


def test_every_recorded_form_is_valid_json_with_twilio_fields():
    names = sorted(p.stem for p in RECORDED.glob("*.json"))
    assert len(names) >= 10
    for name in names:
        form = recorded(name, "CAx")
        assert {"AccountSid", "CallSid", "From", "To", "CallStatus"} <= set(form), name


def test_silence_then_keys_then_no_answer_then_voicemail(flow, signer):
    sid = new_sid()
    url = action(signer.post("/ivr/voice", recorded("voice-incoming", sid)))
    assert url == "/ivr/continue?seq=1"
    url = action(signer.post(url, recorded("gather-empty", sid)))
    assert url == "/ivr/continue?seq=2"
    dial = signer.post(url, recorded("gather-digits", sid))
    assert b"<Number>+442071838750</Number>" in dial.content
    url = action(dial)
    url = action(signer.post(url, recorded("dial-no-answer", sid)))
    record = signer.post(url, recorded("record-done", sid))
    assert b"Goodbye." in record.content
    assert signer.post("/ivr/status", recorded("status-completed", sid)).status_code == 204
    assert steps(sid) == [("menu", "1"), ("desk", "unavailable"), ("vm", "recorded"), ("bye", "")]
    assert Recording.objects.get().duration == 14
    assert CallSession.objects.get(call_sid=sid).status == CallSession.Status.COMPLETED


def test_speech_to_the_queue_and_bridged(flow, signer):
    sid = new_sid()
    url = action(signer.post("/ivr/voice", recorded("voice-incoming", sid)))
    url = action(signer.post(url, recorded("gather-speech", sid)))
    wait = signer.post("/ivr/queue-wait?max_wait=300", recorded("enqueue-wait", sid))
    assert b"<Play>" in wait.content and b"<Leave" not in wait.content
    url = action(signer.post(url, recorded("enqueue-bridged", sid)))
    assert url  # the voicemail after the queue in this test flow
    assert steps(sid)[:2] == [("menu", "2"), ("queue", "connected")]


def test_dial_completed(flow, signer):
    sid = new_sid()
    url = action(signer.post("/ivr/voice", recorded("voice-incoming", sid)))
    url = action(signer.post(url, recorded("gather-digits", sid)))
    assert b"Goodbye." in signer.post(url, recorded("dial-completed", sid)).content
    assert steps(sid)[1] == ("desk", "connected")
