"""Each call's outcome, from calls placed through the signed webhooks; the fold itself as a
table; voicemail transcriptions posted by Twilio."""

from __future__ import annotations

import pytest

from ivr_runtime.models import CallSession, OutboundMessage, Recording
from ivr_runtime.reports import outcomes
from ivr_runtime.reports.outcomes import Visit

from .conftest import publish
from .history_flows import NUMBER, support_line

pytestmark = pytest.mark.django_db

TRANSCRIPTION = "/ivr/recordings/transcription"
RECORDING_SID = "RE" + "1" * 32


@pytest.fixture
def line():
    return publish(support_line(), NUMBER)


def outcome_of(call) -> tuple[str, str]:
    session = CallSession.objects.get(call_sid=call.sid)
    return session.outcome, session.outcome_node


def test_a_call_answered_by_a_person_is_routed(line, place_call):
    call = place_call(NUMBER).press("1").dial_ends("completed", duration=95)
    assert outcome_of(call) == ("routed", "")  # known when the flow ends, before the status
    call.hang_up()
    assert outcome_of(call) == ("routed", "")


def test_a_caller_who_hangs_up_in_the_queue_abandoned_it_there(line, place_call):
    call = place_call(NUMBER).press("2").queue_ends("hangup", queue_time=40)
    call.hang_up()
    assert outcome_of(call) == ("abandoned", "queue")


def test_a_caller_who_hangs_up_at_the_menu_abandoned_it_there(line, place_call):
    call = place_call(NUMBER)
    assert outcome_of(call) == ("in_progress", "")
    call.hang_up()
    assert outcome_of(call) == ("abandoned", "main")


def test_an_agent_who_does_not_answer_then_a_voicemail(line, place_call):
    call = place_call(NUMBER).press("1").dial_ends("no-answer").record(12)
    call.hang_up()
    assert outcome_of(call) == ("voicemail", "")


def test_a_scheduled_callback(line, place_call):
    call = place_call(NUMBER).press("4").press("1")
    call.hang_up()
    assert outcome_of(call) == ("callback", "")


def test_hearing_the_hours_is_self_service(line, place_call):
    call = place_call(NUMBER).press("5")
    assert call.ended and "nine to five" in call.said
    call.hang_up()
    assert outcome_of(call) == ("self_served", "")


def test_a_self_service_link_by_sms(line, place_call):
    call = place_call(NUMBER).press("6")
    call.hang_up()
    assert outcome_of(call) == ("sms_fallback", "")
    assert OutboundMessage.objects.get(session__call_sid=call.sid).body.startswith("Book here:")


def test_a_node_that_fails_makes_the_call_failed(line, place_call):
    call = place_call(NUMBER).press("7")
    assert call.ended and "went wrong" in call.said
    call.hang_up()
    assert outcome_of(call) == ("failed", "")


def test_the_fallback_sms_counts_as_sms_fallback(place_call):
    definition = support_line("texting")
    definition["fallback"] = {"sms": "Sorry, call us later."}
    publish(definition, NUMBER)
    call = place_call(NUMBER).press("7")
    call.hang_up()
    assert outcome_of(call) == ("sms_fallback", "")


def test_a_later_status_keeps_the_outcome(line, place_call):
    call = place_call(NUMBER).press("1").dial_ends("completed")
    call.hang_up("completed")
    call.hang_up("completed")  # a duplicate status changes nothing
    assert outcome_of(call) == ("routed", "")


# --- voicemail transcriptions ---------------------------------------------------------------
def transcription(call, text: str = "Please call me about my card.", **extra: str):
    form = {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": call.sid,
        "RecordingSid": RECORDING_SID,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE1",
        "TranscriptionSid": "TR" + "2" * 32,
        "TranscriptionStatus": "completed",
        "TranscriptionText": text,
        "TranscriptionType": "fast",
        "url": "",
        **extra,
    }
    return call.signer.post(TRANSCRIPTION, form)


def test_the_voicemail_asks_for_its_transcription_here(line, place_call):
    call = place_call(NUMBER).press("3")
    assert call.waits_for == "Record"
    assert call.waiting.get("transcribe") == "true"
    assert call.waiting.get("transcribeCallback") == TRANSCRIPTION


def test_a_transcription_is_kept_with_its_voicemail_once(line, place_call):
    call = place_call(NUMBER).press("3").record(20)
    call.hang_up()
    assert transcription(call).status_code == 204
    assert transcription(call).status_code == 204  # Twilio's retry: the same row, unchanged
    recording = Recording.objects.get()
    assert (recording.transcription, recording.transcription_status) == (
        "Please call me about my card.",
        "completed",
    )
    assert recording.transcription_sid == "TR" + "2" * 32
    assert (recording.duration, recording.node_id) == (20, "message")
    assert outcome_of(call) == ("voicemail", "")


def test_a_transcription_before_its_recording_makes_one_row(line, place_call):
    call = place_call(NUMBER).press("3")
    assert transcription(call, "Early words.").status_code == 204
    call.record(20)
    recording = Recording.objects.get()
    assert (recording.transcription, recording.duration, recording.node_id) == (
        "Early words.",
        20,
        "message",
    )


def test_a_failed_transcription_is_kept_as_failed(line, place_call):
    call = place_call(NUMBER).press("3").record(20)
    transcription(call, "", TranscriptionStatus="failed")
    assert Recording.objects.get().transcription_status == "failed"


def test_the_transcription_callback_is_signed(line, place_call):
    call = place_call(NUMBER).press("3").record(20)
    form = {"CallSid": call.sid, "RecordingSid": RECORDING_SID, "TranscriptionStatus": "completed"}
    assert call.signer.post(TRANSCRIPTION, form, signature="bad").status_code == 403
    assert call.signer.post(TRANSCRIPTION, form, signature="").status_code == 403
    assert Recording.objects.get().transcription_status == ""


@pytest.mark.parametrize(
    "form",
    [
        {"TranscriptionStatus": "completed"},
        {"RecordingSid": "RE 1", "TranscriptionStatus": "completed"},
        {"RecordingSid": RECORDING_SID, "TranscriptionStatus": "maybe"},
    ],
)
def test_a_malformed_transcription_callback_is_refused(signer, form):
    assert signer.post(TRANSCRIPTION, form).status_code == 400


def test_a_transcription_of_an_unknown_call_is_dropped(signer):
    form = {
        "CallSid": "CA" + "9" * 32,
        "RecordingSid": RECORDING_SID,
        "TranscriptionStatus": "completed",
        "RecordingUrl": "https://api.twilio.com/x",
        "TranscriptionText": "hi",
    }
    assert signer.post(TRANSCRIPTION, form).status_code == 204
    assert not Recording.objects.exists()


# --- the fold ---------------------------------------------------------------------------------
def visit(node_type: str, exit: str = "", **extra) -> Visit:
    return Visit(node=extra.pop("node", node_type), node_type=node_type, exit=exit, **extra)


@pytest.mark.parametrize(
    ("visits", "counters", "expected"),
    [
        ([visit("menu", "1"), visit("hangup")], {}, ("self_served", "")),
        ([visit("route", "connected"), visit("menu", hung_up=True)], {}, ("routed", "")),
        ([visit("route", "timeout"), visit("voicemail", "recorded")], {}, ("voicemail", "")),
        (
            [visit("voicemail", "empty"), visit("menu", hung_up=True, node="m")],
            {},
            ("abandoned", "m"),
        ),
        ([visit("callback", "scheduled"), visit("voicemail", "recorded")], {}, ("voicemail", "")),
        ([visit("self_service", "done", texts_link=True)], {}, ("sms_fallback", "")),
        ([visit("self_service", "done")], {}, ("self_served", "")),
        ([visit("route", error="bad number")], {"fallbacks": 1}, ("failed", "")),
        ([visit("route", error="x")], {"fallbacks": 1, "fallback_sms": True}, ("sms_fallback", "")),
        ([visit("say"), visit("route", "connected")], {"fallbacks": 1}, ("routed", "")),
    ],
)
def test_outcomes_table(visits, counters, expected):
    reached = outcomes.reached("", visits, **counters)
    end = outcomes.ending(reached, visits, started=True)
    assert (end.outcome, end.node) == expected


def test_what_was_reached_in_an_earlier_turn_stays():
    reached = outcomes.reached("", [visit("route", "connected")])
    reached = outcomes.reached(reached, [visit("voicemail", "recorded")])
    assert (
        outcomes.ending(reached, [visit("hangup", hung_up=True)], started=True).outcome == "routed"
    )


def test_a_flow_that_never_started_failed():
    assert outcomes.ending("", [], started=False).outcome == "failed"


def test_an_sms_conversation_gets_its_outcome(line, signer):
    def text(body: str, n: int) -> None:
        form = {
            "MessageSid": f"SM{n:032d}",
            "AccountSid": "AC" + "0" * 32,
            "From": "+447700900123",
            "To": NUMBER,
            "Body": body,
        }
        assert signer.post("/ivr/sms", form).status_code == 200

    text("hello", 1)
    session = CallSession.objects.get(channel="sms")
    assert session.outcome == "in_progress"
    text("5", 2)  # the opening hours, then goodbye: the conversation ends
    session.refresh_from_db()
    assert (session.outcome, session.ended_at is not None) == ("self_served", True)
