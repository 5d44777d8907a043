"""`record_call` and `redirect` in whole calls: signed webhooks, the TwiML followed as Twilio
does (another application answering a handed-over call), Twilio's REST API faked at HTTP
level, and the worker's sweep of live-call actions run for real."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from ivr_runtime.models import CallControl, CallSession, CallStep, Recording
from ivr_runtime.twilio import twilio_client
from ivr_runtime.voice import call_control
from tests.fakes.twilio_api import FakeTwilio

from .conftest import flow_definition, publish
from .test_sms_channel import text
from .twilio_driver import Call, Signer

pytestmark = pytest.mark.django_db

NUMBER = "+442079460102"
PUBLIC = "https://ivr.example.com"
PAY = "https://pay.example.com"


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.PUBLIC_BASE_URL = PUBLIC
    yield fake
    fake.stop()


@pytest.fixture
def signer(client):
    """Twilio signs the public URLs it was given (PUBLIC_BASE_URL)."""
    return Signer(client, base=PUBLIC)


def bye(node_id, words):
    return {"id": node_id, "type": "hangup", "config": {"text": words}, "exits": {}}


def payline(*, return_after=60, url=f"{PAY}/twiml?account={{{{ vars.account }}}}"):
    nodes = [
        {
            "id": "record",
            "type": "record_call",
            "config": {"action": "start", "channels": "dual"},
            "exits": {"next": "account"},
        },
        {
            "id": "account",
            "type": "input",
            "config": {
                "prompt": "Key in or say your account number.",
                "input": "both",
                "min_digits": 4,
                "max_digits": 8,
                "save_as": "account",
            },
            "exits": {"valid": "stop", "invalid": "sorry", "no_input": "sorry"},
        },
        {
            "id": "stop",
            "type": "record_call",
            "config": {"action": "stop"},
            "exits": {"next": "pay"},
        },
        {
            "id": "pay",
            "type": "redirect",
            "config": {"url": url, "return_after": return_after},
            "exits": {"return": "done", "failed": "failed"},
        },
        bye("done", "Paid, reference {{ nodes.pay.returned.reference }}."),
        bye("failed", "Payment failed."),
        bye("sorry", "Sorry."),
    ]
    publish(flow_definition("payline", nodes, fallback={"node": "sorry"}), NUMBER)


def payment_app(seen):
    """The other application: takes the payment, sends the call back with a reference."""

    def app(url, form):
        seen.append((url, form))
        back = parse_qs(urlsplit(url).query)["ReturnUrl"][0]
        return (
            "<Response><Say>Payment taken.</Say>"
            f"<Redirect>{back.replace('&', '&amp;')}&amp;reference=R123</Redirect></Response>"
        )

    return app


def place(signer, **apps) -> Call:
    call = Call(signer, to=NUMBER)
    call.apps.update(apps)
    return call.start()


def path(call):
    return list(CallStep.objects.filter(session__call_sid=call.sid).values_list("node_id", "exit"))


def sweep(after: float = 0):
    return call_control.control_sweep(now=timezone.now() + timedelta(seconds=after))


def recording_posts(fake):
    return [r for r in fake.requests if "/Recordings" in r.path and r.method == "POST"]


# --- record_call ----------------------------------------------------------------------------------
def test_recording_starts_after_the_answer_and_is_listed_with_the_call(twilio, signer, viewer_api):
    payline()
    call = place(signer)
    assert call.heard == ["Key in or say your account number."]
    # the webhook itself never called Twilio: the inbound call is not in progress before
    assert recording_posts(twilio) == []
    assert CallControl.objects.get().status == CallControl.Status.QUEUED
    assert sweep() == 1
    [started] = recording_posts(twilio)
    assert started.path.endswith(f"/Calls/{call.sid}/Recordings.json")
    assert started.form["RecordingChannels"] == "dual"
    assert started.form["RecordingStatusCallback"] == f"{PUBLIC}/ivr/recordings/status"
    assert CallControl.objects.get().status == CallControl.Status.DONE
    assert sweep() == 0  # done once

    sid = twilio.recordings[0]["sid"]
    form = {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": call.sid,
        "RecordingSid": sid,
        "RecordingUrl": f"https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/{sid}",
        "RecordingStatus": "completed",
        "RecordingDuration": "42",
        "RecordingChannels": "2",
    }
    for _ in range(2):  # Twilio may post a callback twice
        assert signer.post("/ivr/recordings/status", form).status_code == 204
    recording = Recording.objects.get()
    assert (recording.kind, recording.duration, recording.channels) == ("call", 42, 2)
    detail = viewer_api.get(f"/api/calls/{call.sid}/").json()
    assert [(r["sid"], r["kind"], r["duration"]) for r in detail["recordings"]] == [
        (sid, "call", 42)
    ]


def test_recording_status_callbacks_must_be_signed(twilio, signer):
    response = signer.post("/ivr/recordings/status", {"CallSid": "CA1"}, signature="bad")
    assert response.status_code == 403


@pytest.mark.parametrize("by", ["keys", "speech"])
def test_recording_stops_before_the_payment(twilio, signer, by):
    payline()
    call = place(signer, **{PAY: payment_app([])})
    sweep()
    if by == "keys":
        call.press("1234#")
    else:
        call.speak("1 2 3 4.")
    assert call.waits_for is None and call.said.endswith("Paid, reference R123.")
    sweep()
    stop = recording_posts(twilio)[-1]
    assert stop.path.endswith(f"/Calls/{call.sid}/Recordings/Twilio.CURRENT.json")
    assert stop.form == {"Status": "stopped"}
    assert twilio.recordings[0]["status"] == "stopped"
    assert [c.status for c in CallControl.objects.order_by("pk")][:2] == ["done", "done"]


def test_a_call_not_answered_yet_is_recorded_on_a_later_try(twilio, signer):
    payline()
    place(signer)
    twilio.fail_next(400, code=21220, message="Call is not in-progress")
    sweep()
    control = CallControl.objects.get()
    assert control.status == CallControl.Status.QUEUED and "21220" in control.last_error
    assert sweep() == 0  # not due yet
    assert sweep(after=2) == 1
    assert CallControl.objects.get().status == CallControl.Status.DONE
    assert len(twilio.recordings) == 1


def test_a_lost_attempt_is_looked_up_and_never_records_twice(twilio, signer):
    payline()
    call = place(signer)
    # a worker started the recording, then died before it could say so
    twilio_client.recording_start(call_sid=call.sid, channels="dual", status_callback=None)
    CallControl.objects.update(
        status=CallControl.Status.WORKING,
        attempts=1,
        lease_until=timezone.now() - timedelta(seconds=1),
    )
    assert sweep() == 1
    assert CallControl.objects.get().status == CallControl.Status.DONE
    assert len(twilio.recordings) == 1


def test_a_permanent_refusal_fails_the_action_but_not_the_call(twilio, signer):
    payline()
    call = place(signer)
    twilio.fail_next(400, code=21211, message="bad request")
    sweep()
    control = CallControl.objects.get()
    assert control.status == CallControl.Status.FAILED and "21211" in control.last_error
    call.press("1234#")
    assert path(call)[:2] == [("record", "next"), ("account", "valid")]


def test_an_ended_call_is_not_recorded(twilio, signer):
    payline()
    call = place(signer)
    call.hang_up()
    sweep()
    assert CallControl.objects.get().status == CallControl.Status.SKIPPED
    assert recording_posts(twilio) == []


# --- redirect -------------------------------------------------------------------------------------
def test_the_application_gets_the_call_and_sends_it_back(twilio, signer):
    payline()
    seen = []
    call = place(signer, **{PAY: payment_app(seen)}).press("1234#")
    [(url, form)] = seen
    query = parse_qs(urlsplit(url).query)
    assert query["account"] == ["1234"]
    assert query["ReturnUrl"] == [f"{PUBLIC}/ivr/continue?seq=2"]
    assert form["CallSid"] == call.sid
    assert call.heard[-2:] == ["Payment taken.", "Paid, reference R123."]
    assert path(call)[-2:] == [("pay", "return"), ("done", "")]


def test_an_application_that_cannot_be_reached_takes_failed(twilio, signer):
    payline()
    call = place(signer).press("1234#")  # no application answers pay.example.com
    assert call.heard[-1] == "Payment failed."
    step = CallStep.objects.get(session__call_sid=call.sid, node_id="pay")
    assert (step.exit, step.input) == ("failed", f"Twilio error 11200 at {PAY}/twiml")


def test_a_call_kept_too_long_is_taken_back(twilio, signer):
    payline(return_after=60)
    held = []

    def keeps_it(url, form):
        held.append(url)
        return '<Response><Play loop="0">https://pay.example.com/music.mp3</Play></Response>'

    call = place(signer, **{PAY: keeps_it}).press("1234#")
    assert held and call.ended  # the driver reached the end of the application's document
    sweep()  # the take-back is not due yet: only the two recordings
    assert twilio.redirects == []
    sweep(after=61)
    [taken] = twilio.redirects
    assert taken["call_sid"] == call.sid
    assert taken["Url"] == f"{PUBLIC}/ivr/continue?seq=2&handover=timeout"
    call.ended = False
    call.follow(taken["Url"])  # Twilio fetches the new URL at once
    assert call.heard[-1] == "Payment failed."
    step = CallStep.objects.get(session__call_sid=call.sid, node_id="pay")
    assert (step.exit, step.input) == ("failed", "not back within 60 s")
    # the application sending it back late changes nothing
    steps = path(call)
    back = parse_qs(urlsplit(held[0]).query)["ReturnUrl"][0]
    call.follow(back + "&reference=LATE")
    assert path(call) == steps


def test_a_take_back_after_the_call_came_back_does_nothing(twilio, signer):
    payline()
    place(signer, **{PAY: payment_app([])}).press("1234#")
    sweep(after=3600)
    take_back = CallControl.objects.get(action=CallControl.Action.TAKE_BACK)
    assert take_back.status in (CallControl.Status.SKIPPED,)
    assert twilio.redirects == []


def test_a_url_that_renders_to_nothing_fails_at_once(twilio, signer):
    payline(url="{{ vars.nowhere }}")
    call = place(signer).press("1234#")
    assert call.heard[-1] == "Payment failed."
    assert not CallControl.objects.filter(action=CallControl.Action.TAKE_BACK).exists()


# --- the numbers' fallback URL --------------------------------------------------------------------
def test_the_fallback_url_runs_the_flows_fallback_for_any_other_call(twilio, signer):
    payline()
    call = place(signer)
    response = signer.post(
        "/ivr/fallback", call.params(ErrorCode="12100", ErrorUrl=f"{PUBLIC}/ivr/continue")
    )
    assert response.status_code == 200
    assert "Sorry." in response.content.decode()
    assert "Twilio error 12100" in " ".join(CallSession.objects.get().errors)


def test_the_fallback_url_for_an_unknown_call_apologises(twilio, signer):
    call = Call(signer, to=NUMBER)
    response = signer.post("/ivr/fallback", call.params(ErrorCode="11200"))
    assert response.status_code == 200
    assert re.search(r"<Say>Sorry, we cannot take your call", response.content.decode())
    assert signer.post("/ivr/fallback", call.params(), signature="x").status_code == 403


# --- over SMS -------------------------------------------------------------------------------------
def test_over_sms_nothing_is_recorded_and_nothing_handed_over(twilio, signer):
    payline()
    assert text(signer, "hi") == ["Key in or say your account number."]
    assert text(signer, "1234") == ["Payment failed."]
    assert not CallControl.objects.exists()
    session = CallSession.objects.get()
    steps = list(CallStep.objects.filter(session=session).values_list("node_id", "exit", "input"))
    assert steps[0] == ("record", "next", "not a call: nothing recorded")
    assert steps[3] == ("pay", "failed", "not a call: nothing to hand over")


# --- the simulator --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("result", "exit", "last"),
    [
        ("return", "return", "Paid, reference ."),
        ("timeout", "failed", "Payment failed."),
        ("unreachable", "failed", "Payment failed."),
    ],
)
def test_the_simulator_answers_a_handed_over_call(twilio, publisher_api, result, exit, last):
    payline()

    def simulate(body, expect=200):
        response = publisher_api.post("/api/flows/payline/simulate/", body, format="json")
        assert response.status_code == expect, response.content
        return response.json()

    started = simulate({"source": "published", "event": {"type": "start"}})
    answer = simulate(
        {"session": started["session"], "event": {"type": "digits", "digits": "1234"}}
    )
    assert answer["waiting_for"] == "redirect"
    refused = simulate(
        {"session": started["session"], "event": {"type": "redirect", "result": "bridged"}},
        expect=400,
    )
    assert "return, timeout, unreachable" in str(refused)
    done = simulate(
        {"session": started["session"], "event": {"type": "redirect", "result": result}}
    )
    assert done["prompts"][-1] == last and done["ended"]
    assert {"node": "pay", "exit": exit} in done["path"]
    # a simulated call's recordings are never asked of Twilio
    assert set(CallControl.objects.values_list("status", flat=True)) == {"simulated"}
    sweep(after=3600)
    assert twilio.requests == []
