"""Whole calls and texts through the order-status demo, against the demo orders service.

The service (callflow/demo_orders.py, what `make serve` runs) listens on a free port here;
the flow's `api` node, which holds the service's address, is pointed at it.
"""

import json
import threading
from pathlib import Path

import pytest
from django.conf import settings

from callflow import demo_orders
from ivr_runtime.models import CallSession, CallStep, OutboundMessage

from .conftest import publish
from .test_input_calls import path
from .test_sms_channel import steps, text

pytestmark = pytest.mark.django_db

FIXTURE = Path(settings.BASE_DIR) / "fixtures" / "order-status.json"
ORDERS = "+442079460004"
ADA = "+447700900123"
PROMPT = "Please key in or say your 6 digit order number."
READ_BACK = "Press 1 if that is right, or any other key to enter it again."
SHIPPED = (
    "Your order was shipped yesterday with Royal Mail and should arrive within 2 working "
    "days. We are texting you a link to track it."
)
TRACKING = demo_orders.ORDERS["123456"]["tracking_url"]
MORE = "To check another order, press 1. To speak to someone, press 2. Or just hang up."
NOT_FOUND = (
    "Sorry, we could not find that order. To try another number, press 1. "
    "To speak to someone, press 2."
)


class OrdersService:
    """The demo service on a free port, in a thread of the test process."""

    def __init__(self) -> None:
        self.server = demo_orders.make_server(port=0)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        host, port = self.server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def service(settings):
    settings.HTTP_NODE_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    running = OrdersService()
    definition = json.loads(FIXTURE.read_text())
    api = next(n for n in definition["nodes"] if n["id"] == "api")
    assert api["config"]["vars"]["orders_api"] == demo_orders.DEFAULT_URL
    api["config"]["vars"]["orders_api"] = running.url
    publish(definition, ORDERS)
    yield running
    running.stop()


def variables(call):
    return CallSession.objects.get(call_sid=call.sid).variables


# --- by keypad --------------------------------------------------------------------------------
def test_a_shipped_order_by_keypad_is_said_and_its_tracking_link_texted(service, place_call):
    call = place_call(ORDERS)
    assert call.heard == ["Thank you for calling the Acme order line.", PROMPT]
    assert call.waiting.get("numDigits") == "6"
    call.press("123456")
    assert call.heard[-2:] == ["You entered 1 2 3 4 5 6.", READ_BACK]
    call.press("1")
    assert call.heard[-2:] == [SHIPPED, MORE]
    message = OutboundMessage.objects.get()
    assert message.to == ADA and message.status == OutboundMessage.Status.QUEUED
    assert message.body == (
        "Acme: your order 123456 was shipped yesterday with Royal Mail and should arrive "
        f"within 2 working days. Track it: {TRACKING}"
    )
    call.silence()
    assert call.ended and call.heard[-1] == "Thank you for calling Acme. Goodbye."
    assert path(call.sid) == [
        ("welcome", "next"),
        ("api", "next"),
        ("order", "valid"),
        ("lookup", "success"),
        ("status", "next"),
        ("has_tracking", "tracked"),
        ("tracking_sms", "next"),
        ("more", "no_input"),
        ("goodbye", ""),
    ]
    assert variables(call)["order"]["status"] == "shipped"


def test_an_order_without_tracking_sends_no_text_then_another_order(service, place_call):
    call = place_call(ORDERS).press("234567").press("1")
    assert call.heard[-2:] == [
        "Your order is being packed and will ship within 2 working days.",
        MORE,
    ]
    assert ("has_tracking", "else") in path(call.sid)
    assert not OutboundMessage.objects.exists()
    call.press("1")
    assert call.heard[-1] == PROMPT
    call.press("345678").press("1")
    assert call.heard[-2].startswith("Your order was delivered on Monday")
    assert OutboundMessage.objects.get().body.endswith(demo_orders.ORDERS["345678"]["tracking_url"])


# --- by speech --------------------------------------------------------------------------------
def test_an_order_number_said_is_read_back_and_yes_looks_it_up(service, place_call):
    call = place_call(ORDERS)
    call.speak("I don't know")
    assert call.heard[-2:] == ["Sorry, order numbers have 6 digits.", PROMPT]
    call.speak("1 2 3 4 5 6.")
    assert call.heard[-2:] == ["You said 1 2 3 4 5 6.", READ_BACK]
    call.speak("Yes, that's right.")
    assert call.heard[-2:] == [SHIPPED, MORE]
    assert TRACKING in OutboundMessage.objects.get().body
    assert variables(call)["order_number"] == "123456"


# --- failures ---------------------------------------------------------------------------------
def test_an_unknown_order_offers_to_try_again_or_a_person(service, place_call):
    call = place_call(ORDERS).press("999999").press("1")
    assert call.heard[-1] == NOT_FOUND
    assert ("lookup", "failure") in path(call.sid) and ("why_failed", "unknown") in path(call.sid)
    assert CallStep.objects.get(node_id="lookup").input == "HTTP 404"
    call.press("1")
    assert call.heard[-1] == PROMPT
    call.press("999998").press("1").press("2")
    assert call.waits_for == "Enqueue" and call.waiting.text == "orders"
    assert "Please hold while we connect you" in call.heard[-1]
    call.queue_ends("bridged", 40)
    assert call.ended and call.heard[-1] == "Thank you for calling Acme. Goodbye."
    assert not OutboundMessage.objects.exists()


def test_the_service_down_apologises_and_goes_to_a_person(service, place_call):
    service.stop()
    call = place_call(ORDERS).press("123456").press("1")
    assert "Sorry, we cannot look up orders right now." in call.heard
    assert ("lookup", "failure") in path(call.sid) and ("why_failed", "else") in path(call.sid)
    assert CallStep.objects.get(node_id="lookup").input == "connection failed"
    assert call.waits_for == "Enqueue" and call.waiting.text == "orders"
    call.queue_ends("queue-full")
    assert call.ended and call.heard[-1].startswith("Sorry, everyone is busy")
    assert ("agent", "unavailable") in path(call.sid)
    assert not OutboundMessage.objects.exists()


def test_without_an_order_number_the_caller_reaches_a_person(service, place_call):
    call = place_call(ORDERS).silence().silence().silence()
    assert ("order", "no_input") in path(call.sid)
    assert "Sorry, I need the order number to look it up." in call.said
    assert call.waits_for == "Enqueue" and call.waiting.text == "orders"


# --- by SMS -----------------------------------------------------------------------------------
def test_by_text_the_status_and_the_tracking_link_are_in_the_reply(service, signer):
    assert text(signer, "hi", to=ORDERS) == [
        f"Thank you for calling the Acme order line.\n{PROMPT}"
    ]
    assert text(signer, "my parcel", to=ORDERS) == [
        f"Sorry, order numbers have 6 digits.\n{PROMPT}"
    ]
    assert text(signer, "123456", to=ORDERS) == [
        "You entered 123456.\nReply YES or 1 if that is right, or anything else to enter it again."
    ]
    [reply] = text(signer, "yes", to=ORDERS)
    assert reply.startswith(SHIPPED + "\nAcme: your order 123456 was shipped")
    assert f"Track it: {TRACKING}\n{MORE}" in reply
    assert not OutboundMessage.objects.exists()  # to the sender: in the reply itself
    [reply] = text(signer, "2", to=ORDERS)
    assert reply == "Sorry, everyone is busy right now. Please try again later. Goodbye."
    session = CallSession.objects.get()
    assert session.status == CallSession.Status.COMPLETED
    assert ("agent", "unavailable") in steps(session)


def test_by_text_an_unknown_order_then_a_known_one(service, signer):
    text(signer, "hi", to=ORDERS)
    text(signer, "999999", to=ORDERS)
    [reply] = text(signer, "1", to=ORDERS)
    assert reply.startswith(NOT_FOUND)
    assert text(signer, "1", to=ORDERS) == [PROMPT]
    text(signer, "234567", to=ORDERS)
    [reply] = text(signer, "YES", to=ORDERS)
    assert reply.startswith("Your order is being packed")
