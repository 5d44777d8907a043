"""Studio exports imported with `import_flows --publish`, then run as Twilio runs them: calls
through the signed webhooks take the path they take in Studio (first prompt included), the
messaging flow answers texts, the REST-triggered flow runs as an outbound call, and the
flows with placeholders stay drafts.

The exports (tests/flows/studio/) were written from Twilio's public widget documentation;
their web services (clinic.example.com, clinic-1234.twil.io) point at a local server.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from urllib.parse import parse_qs

import pytest
from django.conf import settings
from django.core.management import call_command

from flows.models import Flow, PhoneNumber
from ivr_runtime.models import CallStep, OutboundMessage
from tests.fakes.twilio_api import FakeTwilio

from .test_outbound import PUBLIC, answer, created
from .test_sms_channel import text
from .twilio_driver import Signer

pytestmark = pytest.mark.django_db

STUDIO = Path(settings.BASE_DIR) / "tests" / "flows" / "studio"
CLINIC, SURVEY, REMINDERS = "+442079460500", "+442079460501", "+442079460502"
PAYMENTS = "+442079460503"
ADA, PERSON = "+447700900123", "+447700900777"
HOSTS = ("https://clinic.example.com", "https://clinic-1234.twil.io")


@pytest.fixture
def studio(record_server, tmp_path):
    """Every export of tests/flows/studio imported and published in one go."""
    for source in STUDIO.glob("*.json"):
        content = source.read_text()
        for host in HOSTS:
            content = content.replace(host, record_server.url)
        (tmp_path / source.name).write_text(content)
    out = io.StringIO()
    call_command("import_flows", str(tmp_path), "--publish", stdout=out)
    for number, slug in (
        (PAYMENTS, "card-payments"),
        (CLINIC, "clinic-ivr"),
        (SURVEY, "sms-survey"),
        (REMINDERS, "appointment-reminder"),
    ):
        PhoneNumber.objects.create(number=number, flow=Flow.objects.get(slug=slug))
    record_server.report = out.getvalue()
    return record_server


def path(call) -> list[tuple[str, str]]:
    steps = CallStep.objects.filter(session__call_sid=call.sid).order_by("pk")
    return list(steps.values_list("node_id", "exit"))


def request(server, route: str) -> tuple[str, str, bytes]:
    return next(r for r in server.requests if r[1].split("?")[0] == route)


def test_every_export_imports_the_ones_without_placeholders_publish(studio):
    published = dict(Flow.objects.values_list("slug", "published_version__number"))
    assert published == {
        "clinic-ivr": 1,
        "studio-fw0123456789abcdef0123456789abcdef": 1,
        "sms-survey": 1,
        "appointment-reminder": 1,
        "card-payments": 1,
        "acme-ivr": None,
        "extras": None,
    }
    extras = Flow.objects.get(slug="extras").definition
    assert [n["type"] for n in extras["nodes"]].count("placeholder") == 3
    record = next(n for n in extras["nodes"] if n["id"] == "record")
    assert (record["type"], record["exits"]) == ("record_call", {"next": "pay_intro"})
    assert "Not published: the flow has placeholder nodes" in studio.report
    clinic = Flow.objects.get(slug="clinic-ivr").definition
    assert len(clinic["nodes"]) >= 60
    assert all("position" in n for n in clinic["nodes"] if n["id"] != "end")


def test_a_known_patient_books_an_appointment(studio, place_call):
    studio.answers["/patients"] = (200, {"found": True, "name": "ada"})
    studio.answers["/book"] = (
        200,
        {"status": "booked", "slot": "3 December at 10:00", "reference": "c42"},
    )
    call = place_call(CLINIC, caller=ADA)
    assert call.heard == [
        "Welcome to RIVERSIDE CLINIC. You are calling from +447700900123.",
        "Hello Ada.",
        "For appointments press 1 or say appointments. For prescriptions press 2 or say "
        "prescriptions. For test results press 3. For the front desk press 0.",
    ]
    assert call.waiting.get("input") == "dtmf speech"
    call.press("1").press("1").press("0312")
    assert call.heard[-2:] == [
        "You are booked for 3 December at 10:00. Your reference is C42.",
        "Thank you for calling Riverside Clinic. Goodbye.",
    ]
    assert call.ended
    assert [n for n, _ in path(call)] == [
        "set_defaults", "welcome", "lookup_patient", "is_known", "greet_known", "main_menu",
        "appointments_menu", "book_date", "check_date", "book_request", "book_result",
        "booked_say", "booked_sms", "goodbye", "end",
    ]  # fmt: skip
    assert request(studio, "/patients")[1] == "/patients?phone=%2B447700900123"
    method, _, body = request(studio, "/book")
    assert (method, parse_qs(body.decode())) == ("POST", {"date": ["0312"], "phone": [ADA]})
    sms = OutboundMessage.objects.get()
    assert (sms.to, sms.body) == (ADA, "Riverside Clinic: you are booked for 3 December at 10:00.")


def test_a_prescription_by_speech_with_a_number_too_short_then_right(studio, place_call):
    studio.answers["/patients"] = (200, {"found": False})
    studio.answers["/prescriptions/1234567"] = (200, {"status": "ready", "pharmacy": "High Street"})
    call = place_call(CLINIC, caller=ADA)
    call.speak("I need a refill please")
    assert call.heard[-2].startswith("[play http://127.0.0.1:")
    assert call.heard[-1] == "Key in your prescription number, then press hash."
    call.press("123#")
    assert call.heard[-2:] == [
        "That number is too short or too long.",
        "Key in your prescription number, then press hash.",
    ]
    call.press("1234567#")
    assert call.heard[-2:] == [
        "Your prescription is ready at High Street.",
        "Thank you for calling Riverside Clinic. Goodbye.",
    ]
    steps = path(call)
    assert ("main_menu", "2") in steps and ("rx_check", "next") in steps
    assert [s for s in steps if s[0].startswith("rx_check")][:2] == [
        ("rx_check", "next"),
        ("rx_check_test", "too_short"),
    ]


def test_no_answer_three_times_reaches_the_front_desk_busy_then_its_voicemail(studio, place_call):
    call = place_call(CLINIC, caller=ADA)
    call.press("7")
    assert call.heard[-2] == "Sorry, that is not an option."
    call.silence()
    assert call.heard[-2] == "We did not hear anything."
    call.press("8")
    assert call.waits_for == "Dial"
    dial = call.waiting
    assert (dial.find("Number").text, dial.get("callerId"), dial.get("timeout")) == (
        "+442079460599",
        CLINIC,
        "20",
    )
    call.dial_ends("busy")
    assert call.waits_for == "Enqueue" and call.waiting.text == "front desk"
    call.queue_ends("error")
    assert call.waits_for == "Record"
    call.record(12)
    assert call.heard[-1] == "Message saved." and call.ended
    assert ("too_many", "too_many") in path(call)
    assert ("desk_outcome", "else") in path(call)


def test_test_results_run_the_verification_sub_flow_with_its_parameters(studio, place_call):
    studio.answers["/verify"] = (200, {"match": True, "id": "P7"})
    studio.answers["/results"] = (
        200,
        {
            "results": [
                {"name": "Blood", "status": "READY"},
                {"name": "X-ray", "status": "Pending"},
                {"name": "ECG", "status": "ready"},
            ]
        },
    )
    call = place_call(CLINIC, caller=ADA)
    call.press("3")
    assert call.heard[-1] == "To hear your results, key in your date of birth, eight digits."
    call.press("01021990")
    assert call.heard[-2:] == [
        "You have 3 results. 1: Blood is ready. 2: X-ray is pending.",
        "Thank you for calling Riverside Clinic. Goodbye.",
    ]
    assert json.loads(request(studio, "/verify")[2]) == {
        "dob": "01021990",
        "phone": ADA,
        "purpose": "results",
    }
    assert request(studio, "/results")[1] == "/results?patient=P7"
    assert OutboundMessage.objects.get().body == "Your results: Blood, X-ray, ECG."


@pytest.mark.parametrize(
    ("entry", "reference", "said"),
    [
        (lambda call: call.speak("c 42"), "C42", "Your booking C42 is cancelled."),
        (lambda call: call.press("55#"), None, "References start with C."),
    ],
)
def test_cancelling_takes_a_reference_by_speech_or_keys(studio, place_call, entry, reference, said):
    studio.answers["/cancel"] = (200, {"reference": "C42"})
    call = place_call(CLINIC, caller=ADA)
    call.press("1").press("2")
    assert call.heard[-1] == "Please say or key in your booking reference."
    entry(call)
    assert call.heard[-2:] == [said, "Thank you for calling Riverside Clinic. Goodbye."]
    if reference:
        assert json.loads(request(studio, "/cancel")[2]) == {"reference": reference}


def test_staff_reach_a_client_or_the_flex_queue(studio, place_call):
    call = place_call(CLINIC, caller=ADA)
    call.press("9").press("0123")
    assert call.waits_for == "Dial" and call.waiting.find("Client").text == "reception"
    call.dial_ends("completed", 30)
    assert call.heard[-1] == "Thank you for calling Riverside Clinic. Goodbye."
    lead = place_call(CLINIC, caller=ADA)
    lead.press("9").press("4321")
    assert lead.waits_for == "Enqueue"
    assert lead.waiting.text == "flex WW0123456789abcdef0123456789abcdef"
    lead.queue_ends("bridged")
    assert lead.heard[-1] == "Thank you for calling Riverside Clinic. Goodbye."


def test_the_messaging_flow_answers_texts(studio, signer):
    assert text(signer, "hi", to=SURVEY) == [
        "Thanks for texting Riverside Clinic.\nHow would you rate your visit, from 1 to 5?"
    ]
    assert text(signer, "5", to=SURVEY) == ["Great! Anything you would like to add?"]
    assert text(signer, "The nurse was lovely", to=SURVEY) == ["Thanks, we noted 20 characters."]
    _, _, body = request(studio, "/survey")
    assert parse_qs(body.decode()) == {"rating": ["5"], "comment": ["The nurse was lovely"]}
    other = "+447700900456"
    assert text(signer, "hello", sender=other, to=SURVEY)[-1].endswith("from 1 to 5?")
    assert text(signer, "2", sender=other, to=SURVEY) == [
        "Sorry to hear that. Reply YES and we will call you."
    ]
    assert text(signer, " Yes ", sender=other, to=SURVEY) == [f"We will call {other} today."]


@pytest.fixture
def twilio(settings):
    fake = FakeTwilio().start()
    settings.TWILIO_API_BASE_URL = fake.base_url
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.OUTBOUND_CALLS_PER_SECOND = 1000
    yield fake
    fake.stop()


def test_the_rest_triggered_flow_runs_as_an_outbound_call(studio, twilio, publisher_api, client):
    body = {"to": PERSON, "vars": {"name": "Ada", "date": "2026-12-03", "appointment": "AP1"}}
    response = publisher_api.post("/api/flows/appointment-reminder/calls/", body, format="json")
    assert response.status_code == 201, response.content
    call = created(twilio)
    assert (call["To"], call["From"]) == (PERSON, REMINDERS)
    signer = Signer(client, base=PUBLIC)
    first = answer(signer, call).content.decode()
    assert (
        "Hello Ada, this is Riverside Clinic reminding you of your appointment on 03 December. "
        "Press 1 to confirm or 2 to cancel."
    ) in first
    studio.answers["/confirm"] = (200, {"ok": True})
    row = Flow.objects.get(slug="appointment-reminder")
    assert row.published_version is not None
    pressed = answer_action(signer, call, first, Digits="1")
    assert "Thank you, see you then." in pressed and "<Hangup" in pressed
    _, _, sent = request(studio, "/confirm")
    assert parse_qs(sent.decode()) == {"appointment": ["AP1"], "answer": ["1"]}


def answer_action(signer, call: dict, document: str, **params: str) -> str:
    """The person called pressing keys at the Gather of `document`."""
    import xml.etree.ElementTree as ET

    gather = ET.fromstring(document).find("Gather")
    form = {"CallSid": call["sid"], "AccountSid": "AC" + "0" * 32, "From": call["From"],
            "To": call["To"], "CallStatus": "in-progress", "Direction": "outbound-api", **params}  # fmt: skip
    return signer.post(gather.get("action"), form).content.decode()


def _payment_line(seen, reference=None):
    def app(url, form):
        seen.append(url)
        if reference is None:
            return '<Response><Play loop="0">https://pay.example.com/hold.mp3</Play></Response>'
        back = parse_qs(url.split("?", 1)[1])["ReturnUrl"][0]
        return f"<Response><Redirect>{back}</Redirect></Response>".replace("&", "&amp;")

    return app


def test_call_recording_and_the_twiml_redirect_run_as_in_studio(studio, settings, client):
    from ivr_runtime.models import CallControl
    from ivr_runtime.voice import call_control

    from .twilio_driver import Call

    fake = FakeTwilio().start()
    try:
        settings.TWILIO_API_BASE_URL, settings.PUBLIC_BASE_URL = fake.base_url, PUBLIC
        seen = []
        call = Call(Signer(client, base=PUBLIC), to=PAYMENTS)
        call.apps["https://pay.example.com"] = _payment_line(seen, reference="R1")
        call.start()
        assert call.heard == [
            "Welcome to card payments. This call is recorded.",
            "Payment complete.",
        ]
        assert parse_qs(seen[0].split("?", 1)[1])["from"] == [ADA]
        assert [n for n, _ in path(call)] == [
            "welcome",
            "record_on",
            "record_off",
            "pay",
            "paid",
            "end",
        ]
        call_control.control_sweep()
        posted = [r.path.split(f"/Calls/{call.sid}/")[1] for r in fake.requests]
        assert posted == ["Recordings.json", "Recordings/Twilio.CURRENT.json"]
        actions = list(CallControl.objects.order_by("pk").values_list("action", "status"))
        assert actions[:2] == [("start_recording", "done"), ("stop_recording", "done")]
    finally:
        fake.stop()


@pytest.mark.parametrize(
    ("reachable", "said"),
    [(True, "The payment took too long."), (False, "Payments are not available.")],
)
def test_the_twiml_redirects_timeout_and_fail_paths_are_told_apart(
    studio, settings, client, reachable, said
):
    from datetime import timedelta

    from django.utils import timezone

    from ivr_runtime.voice import call_control

    from .twilio_driver import Call

    fake = FakeTwilio().start()
    try:
        settings.TWILIO_API_BASE_URL, settings.PUBLIC_BASE_URL = fake.base_url, PUBLIC
        call = Call(Signer(client, base=PUBLIC), to=PAYMENTS)
        if reachable:
            call.apps["https://pay.example.com"] = _payment_line([])
        call.start()
        if reachable:  # the payment line keeps the call: taken back after `timeout`
            call_control.control_sweep(now=timezone.now() + timedelta(seconds=301))
            call.ended = False
            call.follow(fake.redirects[0]["Url"])
        assert call.heard[-1] == said
    finally:
        fake.stop()
