"""Whole calls through the demo flows in fixtures/, as Twilio places them.

The demo's systems of record (crm.example.com, bank.example.com) are pointed at a local
server so that the calls stay on this machine.
"""

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command

from flows.models import Flow, PhoneNumber
from ivr_runtime.models import Agent, CallbackRequest, CallStep, OutboundMessage, Recording

from .conftest import publish

pytestmark = pytest.mark.django_db

FIXTURES = Path(settings.BASE_DIR) / "fixtures"
RESTAURANT, CARDS, COMPLAINTS = "+442079460001", "+442079460002", "+442079460003"
ADA, BOB, STRANGER = "+447700900123", "+447700900456", "+447700900999"
MONDAY_LUNCH = datetime(2026, 11, 23, 12, 30, tzinfo=UTC)
MONDAY_AFTERNOON = datetime(2026, 11, 23, 16, 0, tzinfo=UTC)
CHRISTMAS = datetime(2026, 12, 25, 13, 0, tzinfo=UTC)


@pytest.fixture
def demo(record_server):
    text_of = {}
    for name in ("shared-auth", "restaurant", "card-services", "complaints", "order-status"):
        text = (FIXTURES / f"{name}.json").read_text()
        for host in ("https://crm.example.com", "https://bank.example.com"):
            text = text.replace(host, record_server.url)
        text_of[name] = json.loads(text)
        publish(text_of[name])
    for row in json.loads((FIXTURES / "numbers.json").read_text()):
        PhoneNumber.objects.create(number=row["number"], flow=Flow.objects.get(slug=row["flow"]))
    call_command("load_directory", stdout=io.StringIO())
    return record_server


def path(call):
    return [
        (n, e)
        for n, e in CallStep.objects.filter(session__call_sid=call.sid).values_list(
            "node_id", "exit"
        )
    ]


def at(moment):
    return mock.patch("django.utils.timezone.now", return_value=moment)


# --- restaurant --------------------------------------------------------------------------------
def test_restaurant_open_booking_link(demo, place_call):
    with at(MONDAY_LUNCH):
        call = place_call(RESTAURANT)
        assert call.heard[0] == "Thank you for calling The Riverside Kitchen."
        call.press("1")
    assert call.ended and "sent you a text" in call.heard[-2]
    assert OutboundMessage.objects.get().to == ADA
    assert [n for n, _ in path(call)] == [
        "greeting",
        "hours",
        "main_menu",
        "booking_sms",
        "booking_sent",
        "goodbye",
    ]


def test_restaurant_hours_then_staff_unavailable(demo, place_call):
    with at(MONDAY_LUNCH):
        call = place_call(RESTAURANT).press("2")
        assert "We are open for lunch" in call.said and call.waits_for == "Gather"
        call.press("3")
        assert call.waits_for == "Dial" and call.waiting.find("Number").text == "+442079460100"
        call.dial_ends("busy")
    assert ("staff", "unavailable") in path(call) and call.ended


def test_restaurant_closed_and_holiday(demo, place_call):
    with at(MONDAY_AFTERNOON):
        closed = place_call(RESTAURANT)
    assert closed.ended and "We are closed right now" in closed.heard[-1]
    with at(CHRISTMAS):
        holiday = place_call(RESTAURANT, caller=BOB)
    assert "closed today for the holiday" in holiday.said
    assert OutboundMessage.objects.filter(to=BOB).count() == 1


def test_restaurant_menu_silence_says_goodbye(demo, place_call):
    with at(MONDAY_LUNCH):
        call = place_call(RESTAURANT).silence().silence().silence()
    assert call.ended and call.heard[-1] == "Thank you for calling. Goodbye."
    assert ("main_menu", "no_input") in path(call)


# --- card services -----------------------------------------------------------------------------
def test_cards_lost_card_to_an_agent_with_skills(demo, place_call):
    call = place_call(CARDS, caller=STRANGER).press("12345678").press("4321")
    assert "Hello Ada Lovelace." in call.said
    call.press("1")
    assert call.waits_for == "Dial" and call.waiting.find("Number").text == "+442079460201"
    assert Agent.objects.get(name="Sam Okafor").status == Agent.Status.BUSY
    call.dial_ends("completed", 120)
    assert Agent.objects.get(name="Sam Okafor").status == Agent.Status.AVAILABLE
    assert call.heard[-1] == "Thank you for calling Card Services. Goodbye."


def test_cards_balance_lookup(demo, place_call):
    call = place_call(CARDS).press("87654321").press("1111").press("2")
    assert "Your balance is 1,024.00 pounds." in call.said
    assert any("/api/balance?account=87654321" in r[1] for r in demo.requests)


def test_cards_no_agent_then_callback(demo, place_call):
    Agent.objects.update(status=Agent.Status.OFFLINE)
    call = place_call(CARDS).press("12345678").press("4321").press("1")
    assert "All our card team are busy" in call.heard[-1]
    call.press("1").press("1")
    assert call.heard[-1].startswith("Thank you. We will call you back")
    assert CallbackRequest.objects.get().number == ADA


def test_cards_failed_authentication_goes_to_the_queue_then_voicemail(demo, place_call):
    call = place_call(CARDS)
    for _ in range(3):
        call.press("00000000").press("0000")
    assert call.waits_for == "Enqueue" and call.waiting.text == "cards-general"
    assert "<Leave />" in call.queue_wait(601)
    call.queue_ends("leave", 601)
    assert call.waits_for == "Record"
    call.record(25)
    assert call.heard[-1] == "Thank you, we have your message. Goodbye."
    assert Recording.objects.get().duration == 25
    assert ("auth", "failure") in path(call) and ("agent_queue", "timeout") in path(call)


# --- complaints (with the shared-auth subflow) ---------------------------------------------------
def test_complaints_gold_caller_goes_to_the_priority_queue(demo, place_call):
    call = place_call(COMPLAINTS)
    assert "Welcome back, Ada Lovelace." in call.said
    assert call.waits_for == "Enqueue" and call.waiting.text == "complaints-priority"
    call.queue_ends("bridged", 40)
    assert call.ended and call.heard[-1] == "Thank you for calling. Goodbye."
    nodes = [n for n, _ in path(call)]
    assert nodes[:4] == ["intro", "identify", "by_caller_id", "welcome_back"]
    assert ("identify", "return") in path(call)


def test_complaints_speech_reason_then_voicemail_and_text(demo, place_call):
    call = place_call(COMPLAINTS, caller=STRANGER)
    assert call.waits_for == "Gather"  # the PIN of the shared-auth subflow
    call.press("0000").press("0000").press("0000")
    assert "could not identify you" in call.said
    call.speak("my parcel is missing")
    assert call.heard[-1] == "If you have your order number, key it in now, then press hash."
    call.press("123")
    assert call.heard[-2] == "Sorry, order numbers have 6 to 10 digits."
    call.press("12345678")
    assert call.heard[-2:] == [
        "You entered 1 2 3 4 5 6 7 8.",
        "Press 1 if that is right, or any other key to enter it again.",
    ]
    call.press("1")
    assert call.waits_for == "Enqueue" and call.waiting.text == "complaints"
    call.queue_ends("queue-full")
    call.record(40)
    assert OutboundMessage.objects.get().body.startswith("We have received your complaint")
    assert ("complaint_menu", "3") in path(call) and ("order_number", "valid") in path(call)
    from ivr_runtime.models import CallSession

    variables = CallSession.objects.get(call_sid=call.sid).variables
    assert (variables["reason"], variables["order_number"]) == ("my parcel is missing", "12345678")


def test_complaints_crm_down_still_reaches_the_menu(demo, place_call):
    demo.stop()
    call = place_call(COMPLAINTS, caller=BOB)
    assert "Welcome back, Bob Marsh." in call.said
    assert ("lookup", "failure") in path(call) and ("by_tier", "else") in path(call)
    assert call.waits_for == "Gather"


def test_complaints_open_orders_are_remembered(demo, place_call):
    call = place_call(COMPLAINTS, caller=BOB)
    assert ("lookup", "success") in path(call)
    from ivr_runtime.models import CallSession

    assert CallSession.objects.get(call_sid=call.sid).variables["open_orders"] == "2"


def test_cards_payment_is_handed_to_the_payment_line_unrecorded(demo, signer, settings):
    from urllib.parse import parse_qs, urlsplit

    from ivr_runtime.models import CallControl

    from .twilio_driver import Call

    def payments(url, form):
        back = parse_qs(urlsplit(url).query)["ReturnUrl"][0]
        assert parse_qs(urlsplit(url).query)["account"] == ["12345678"]
        return f"<Response><Redirect>{back.replace('&', '&amp;')}&amp;reference=P-889</Redirect></Response>"

    call = Call(signer, to=CARDS)
    call.apps["https://payments.example.com"] = payments
    call.start().press("12345678").press("4321")
    assert "To make a card payment press 3." in call.said
    call.press("3")
    assert call.heard[-2:] == [
        "Thank you. Your payment reference is P-889.",
        "Thank you for calling Card Services. Goodbye.",
    ]
    assert list(CallControl.objects.order_by("pk").values_list("action", "channels")) == [
        ("start_recording", "dual"),
        ("stop_recording", "mono"),
        ("take_back", ""),
    ]
