"""Imported Amazon Connect flows answer calls through the signed webhooks and take the path
the caller would take in Connect, from the first prompt on."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.imports import ImportSource, flows_import
from flows.models import Flow, PhoneNumber
from flows.services import flow_publish, flow_update_draft
from ivr_runtime.models import CallbackRequest, CallControl, CallStep

pytestmark = pytest.mark.django_db

CONNECT = Path(__file__).parents[1] / "flows" / "connect"
SUPPORT, ACME = "+442070000101", "+442070000102"
ALL_DAY = {day: [["00:00", "24:00"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


def import_connect() -> None:
    """Every publishable export, imported as drafts in one batch."""
    sources = [ImportSource(p.name, p.read_bytes()) for p in sorted(CONNECT.glob("*.json"))]
    flows_import(sources=sources)


def fill_in(slug: str, number: str, **configs: dict) -> None:
    """What the report asks for (the hours, a Lambda's URL), then publish and bind a number."""
    flow = Flow.objects.get(slug=slug)
    definition = flow.definition
    for node in definition["nodes"]:
        node["config"].update(configs.get(node["id"], {}))
    flow_update_draft(flow=flow, definition=definition, base_revision=flow.revision)
    flow_publish(flow=Flow.objects.get(slug=slug))
    PhoneNumber.objects.create(number=number, flow=flow)


@pytest.fixture
def connect_flows(record_server):
    import_connect()
    for slug in ("verify-caller", "after-hours"):
        flow_publish(flow=Flow.objects.get(slug=slug))
    fill_in("support-line", SUPPORT, check_hours_of_operation={"schedule": ALL_DAY})
    fill_in("acme-contact-centre", ACME, hours={"schedule": ALL_DAY},
            lookup={"url": record_server.url + "/customer"})  # fmt: skip
    return record_server


def test_the_support_line_menu_sends_each_key_to_its_queue(connect_flows, place_call):
    call = place_call(SUPPORT)
    assert call.heard == [
        "Thanks for calling Example Corp support.",
        "For sales press 1. For support press 2.",
    ]
    call.press("1")
    assert call.waits_for == "Enqueue" and call.waiting.text == "Sales"
    call = place_call(SUPPORT).press("2")
    assert call.waits_for == "Enqueue" and call.waiting.text == "Support"


def test_the_support_line_without_an_answer_apologises_and_hangs_up(connect_flows, place_call):
    call = place_call(SUPPORT).silence()
    assert call.heard[-1] == "Sorry, something went wrong. Goodbye."
    assert call.ended


def test_the_support_line_out_of_hours_says_so(connect_flows, place_call):
    flow = Flow.objects.get(slug="support-line")
    definition = flow.definition
    next(n for n in definition["nodes"] if n["type"] == "time_of_day")["config"]["schedule"] = {}
    flow_update_draft(flow=flow, definition=definition, base_revision=flow.revision)
    flow_publish(flow=Flow.objects.get(slug="support-line"))
    call = place_call(SUPPORT)
    assert call.heard == [
        "Thanks for calling Example Corp support.",
        "We are closed. Please call back between nine and five.",
    ]
    assert call.ended


def test_a_gold_customer_hears_the_lookup_then_keys_an_order_and_waits_in_the_orders_queue(
    connect_flows, place_call
):
    call = place_call(ACME)
    assert call.heard == [
        "Welcome to Acme. You are calling from +447700900123.",
        "Welcome back, Ada. You are one of our gold customers.",
        "For orders press 1. For a call back press 2. To talk to our assistant press 3. "
        "For the operator press 0.",
    ]
    method, path, body = connect_flows.requests[0]
    assert (method, path) == ("POST", "/customer")
    assert b'"phone": "+447700900123"' in body and b'"dialled": "+442070000102"' in body
    assert CallControl.objects.get().action == "start_recording"
    call.press("1")
    assert call.heard[-1] == "Please key in your order number, then press hash."
    call.press("12345")
    assert call.heard[-2:] == [
        "Thank you. Order 12345 is on its way.",
        "All our agents are busy. Please hold.",
    ]
    assert call.waits_for == "Enqueue" and call.waiting.text == "Orders"


def test_the_assistant_takes_what_the_caller_says_to_the_support_queue(connect_flows, place_call):
    call = place_call(ACME).press("3")
    assert call.heard[-1] == "In a few words, what are you calling about?"
    call.speak("I want to talk to agent please")
    assert call.waits_for == "Enqueue" and call.waiting.text == "Support"


def test_the_operator_is_dialled(connect_flows, place_call):
    call = place_call(ACME).press("0")
    assert call.waits_for == "Dial"
    assert call.waiting.find("Number").text == "+442071838750"


def test_a_callback_is_scheduled_for_the_caller(connect_flows, place_call):
    call = place_call(ACME).press("2")
    assert call.heard[-1] == "Press 1 and we will call you back on the number you are calling from."
    call.press("1")
    assert call.heard[-1] == "We will call you back on +447700900123. Goodbye."
    assert CallbackRequest.objects.get().number == "+447700900123"


def test_silence_runs_the_module_then_the_transferred_flow(connect_flows, place_call):
    call = place_call(ACME).silence()
    assert call.heard[-1] == "Please enter your four digit PIN."
    call.press("1234")
    assert call.heard[-2:] == [
        "Thank you, you are verified.",
        "You have reached Acme after hours. Goodbye.",
    ]
    assert call.ended


def test_a_failed_lookup_takes_the_error_branch_to_the_menu(connect_flows, place_call):
    flow = Flow.objects.get(slug="acme-contact-centre")
    definition = flow.definition
    next(n for n in definition["nodes"] if n["id"] == "lookup")["config"]["url"] = (
        connect_flows.url + "/error"
    )
    flow_update_draft(flow=flow, definition=definition, base_revision=flow.revision)
    flow_publish(flow=Flow.objects.get(slug="acme-contact-centre"))
    call = place_call(ACME)
    assert len(call.heard) == 2 and call.heard[1].startswith("For orders press 1.")


def test_a_placeholder_published_anyway_runs_the_fallback(place_call):
    path = CONNECT / "with-placeholders" / "queue-experiments.json"
    flows_import(
        sources=[ImportSource(path.name, path.read_bytes())], publish=True, allow_placeholders=True
    )
    PhoneNumber.objects.create(
        number="+442070000103", flow=Flow.objects.get(slug="queue-experiments")
    )
    call = place_call("+442070000103")
    assert call.heard == ["Sorry, something went wrong on our side."]
    assert call.ended
    steps = CallStep.objects.order_by("index").values_list("node_id", "node_type")
    assert list(steps)[:2] == [("split", "placeholder"), ("bye", "hangup")]
