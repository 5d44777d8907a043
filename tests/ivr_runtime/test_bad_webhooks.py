"""Signed webhooks carrying what Twilio never sends: odd digits, control characters, bodies
over the limit, malformed status callbacks. Each gets a clear answer (the current wait
again, a 400, a 413) before any database query, and a bounded log line; and what publish
refuses is exactly what a call would fail on."""

import logging
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from flows import services as flow_services
from flows.models import Flow, FlowVersion, PhoneNumber
from flows.numbers import number_bind
from flows.spec import graph
from ivr_runtime import engine
from ivr_runtime.models import CallSession, CallStep, OutboundMessage
from ivr_runtime.twilio.forms import form_summary, int_field, seq_field

from .conftest import flow_definition, publish
from .twilio_driver import new_sid

pytestmark = pytest.mark.django_db

NUMBER = "+442079460177"
LIMIT = 2_500_000


def rows() -> tuple[int, ...]:
    return tuple(
        model.objects.count()
        for model in (Flow, FlowVersion, PhoneNumber, CallSession, CallStep, OutboundMessage)
    )


def menu_flow(slug="odd"):
    return flow_definition(
        slug,
        [
            {
                "id": "menu",
                "type": "menu",
                "config": {"prompt": "Press 1 or 2.", "options": [{"key": "1"}, {"key": "2"}]},
                "exits": {"1": "one", "2": "one", "no_input": "one", "no_match": "one"},
            },
            {"id": "one", "type": "hangup", "config": {"text": "One."}, "exits": {}},
        ],
    )


# --- digits that are not ASCII ------------------------------------------------------------


def test_seq_superscript_two_gets_the_current_wait_again(signer, place_call):
    """'²'.isdigit() is true but int('²') fails: the turn is stale input, not a crash."""
    publish(menu_flow(), NUMBER)
    call = place_call(NUMBER)
    assert call.waits_for == "Gather" and call.said == "Press 1 or 2."
    before = rows()
    seq = CallSession.objects.get(call_sid=call.sid).seq

    response = signer.post("/ivr/continue?seq=%C2%B2", call.params(Digits="1"))
    assert response.status_code == 200
    again = response.content.decode()
    assert "<Gather" in again and "Press 1 or 2." in again and "<Hangup" not in again
    assert f"seq={seq}" in again  # the same wait, asked again: nothing advanced
    assert rows() == before
    assert CallSession.objects.get(call_sid=call.sid).seq == seq

    call.press("1")  # the real answer still works
    assert call.said.endswith("One.") and call.ended


@pytest.mark.parametrize("text", ["²", "٣", "１", "3", " 3 "])
def test_only_ascii_digits_are_numbers(text):
    wanted = 3 if text.strip().isascii() and text.strip().isdigit() else None
    assert seq_field({"seq": text}) == wanted
    assert int_field({"n": text}, "n", 7) == (3 if wanted else 7)


# --- control characters --------------------------------------------------------------------


@pytest.mark.parametrize("field", ["CallSid", "From", "To"])
def test_a_nul_in_a_voice_webhook_is_a_400_before_any_query(signer, field):
    publish(menu_flow(), NUMBER)
    params = {"CallSid": new_sid(), "From": "+447700900123", "To": NUMBER}
    params[field] = params[field][:5] + "\x00" + params[field][5:]
    before = rows()
    with CaptureQueriesContext(connection) as queries:
        response = signer.post("/ivr/voice", params)
    assert response.status_code == 400, response.content
    assert field.encode() in response.content
    assert len(queries) == 0
    assert rows() == before


@pytest.mark.parametrize("path", ["/ivr/status", "/ivr/callbacks/1/status"])
def test_a_nul_in_a_status_callback_is_a_400_before_any_query(signer, caplog, path):
    before = rows()
    params = {"CallSid": "CA\x00" + "1" * 32, "CallStatus": "completed"}
    with CaptureQueriesContext(connection) as queries, caplog.at_level(logging.WARNING):
        response = signer.post(path, params)
    assert response.status_code == 400, response.content
    assert b"CallSid and CallStatus are required" in response.content
    assert len(queries) == 0
    assert rows() == before
    (record,) = [r for r in caplog.records if "malformed" in r.getMessage()]
    assert "'CA?111" in record.getMessage()  # shown, without the NUL


def test_a_malformed_status_callback_is_logged_in_a_bounded_line(signer, caplog):
    params = {"CallStatus": "completed", "Padding": "x" * 500_000}
    params.update({f"Extra{i:03}": "y" * 1000 for i in range(100)})
    with caplog.at_level(logging.WARNING):
        response = signer.post("/ivr/status", params)
    assert response.status_code == 400
    (record,) = [r for r in caplog.records if "malformed webhook /ivr/status" in r.getMessage()]
    line = record.getMessage()
    assert len(line) < 2000 and "more fields" in line


def test_a_malformed_sms_status_callback_is_logged_in_a_bounded_line(signer, caplog):
    params = {"MessageSid": "not a sid", "MessageStatus": "sent", "Body": "z" * 500_000}
    with caplog.at_level(logging.WARNING):
        response = signer.post("/ivr/messages/status", params)
    assert response.status_code == 400
    (record,) = [r for r in caplog.records if "malformed SMS status" in r.getMessage()]
    assert len(record.getMessage()) < 2000


def test_an_sms_status_with_a_superscript_message_id_is_not_a_crash(signer):
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    response = signer.post("/ivr/messages/status?m=%C2%B2", params)
    assert response.status_code == 204  # no such message: logged, nothing to do


def test_form_summary_is_bounded_and_printable():
    summary = form_summary({"A\x00": "b" * 10_000, **{f"k{i}": "v" for i in range(40)}})
    assert summary.startswith("{'A?': 'bbb") and "... 29 more fields" in summary
    assert len(summary) < 1000 and summary.isprintable()


# --- bodies over the limit -----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ivr/voice", "/ivr/status", "/ivr/sms"])
def test_a_signed_form_over_the_limit_is_a_413_not_a_bad_signature(signer, caplog, path):
    publish(menu_flow(), NUMBER)
    params = {"CallSid": new_sid(), "From": "+447700900123", "To": NUMBER, "Padding": "x" * LIMIT}
    assert len(urlencode(params)) > LIMIT
    signature = signer.signature("http://testserver" + path, params)
    before = rows()
    with caplog.at_level(logging.WARNING):
        response = signer.post(path, params, signature=signature)
    assert response.status_code == 413, response.content[:200]
    assert response.content == (
        b"The request body is larger than the limit of 2,500,000 bytes "
        b"(DATA_UPLOAD_MAX_MEMORY_SIZE)."
    )
    assert rows() == before
    assert all(len(r.getMessage()) < 300 for r in caplog.records)


def test_a_form_just_under_the_limit_is_still_read(signer, place_call):
    publish(menu_flow(), NUMBER)
    params = {"CallSid": new_sid(), "From": "+447700900123", "To": NUMBER, "CallStatus": "ringing"}
    params["Padding"] = "x" * (LIMIT - len(urlencode(params)) - len("&Padding="))
    assert len(urlencode(params)) == LIMIT
    response = signer.post("/ivr/voice", params)
    assert response.status_code == 200 and b"Press 1 or 2." in response.content


# --- what publish refuses is what a call fails on --------------------------------------------


def says(length: int, *, after_menu: bool) -> dict:
    nodes = [
        {
            "id": f"s{i}",
            "type": "say",
            "config": {"text": f"{i}."},
            "exits": {"next": f"s{i + 1}" if i + 1 < length else "bye"},
        }
        for i in range(length)
    ]
    if after_menu:
        nodes.insert(
            0,
            {
                "id": "m",
                "type": "menu",
                "config": {"prompt": "Press 1.", "options": [{"key": "1"}]},
                "exits": {"1": "s0", "no_input": "bye", "no_match": "bye"},
            },
        )
    nodes.append({"id": "bye", "type": "hangup", "config": {"text": "Bye."}, "exits": {}})
    return flow_definition("chain", nodes)


@pytest.mark.parametrize(
    ("length", "after_menu"), [(100, False), (101, False), (99, True), (100, True)]
)
def test_a_chain_publish_refuses_is_a_chain_the_engine_stops(place_call, length, after_menu):
    assert engine.MAX_VISITS == graph.MAX_RUN_WITHOUT_WAITING
    definition = says(length, after_menu=after_menu)
    refused = any(
        p.severity == "error"
        for p in flow_services.definition_validate(definition=definition, publish=True)
    )
    publish(definition, NUMBER)  # as it is, to see what a call would do
    call = place_call(NUMBER)
    if after_menu:
        call.press("1")
    assert call.ended
    assert refused == (engine.SORRY in call.said)
    assert refused == (length + after_menu > graph.MAX_RUN_WITHOUT_WAITING)


def test_a_sub_flow_returns_through_its_unconnected_exit(place_call):
    child = flow_definition(
        "child",
        [{"id": "hi", "type": "say", "config": {"text": "In the child."}, "exits": {}}],
        subflow=True,
    )
    parent = flow_definition(
        "parent",
        [
            {
                "id": "go",
                "type": "subflow",
                "config": {"flow": "child"},
                "exits": {"return": "bye"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Back in the parent."}, "exits": {}},
        ],
    )
    for definition in (child, parent):  # through the publish rules
        flow_services.flow_publish(flow=flow_services.flow_create(definition=definition))
    number_bind(number=NUMBER, flow=Flow.objects.get(slug="parent"))
    call = place_call(NUMBER)
    assert call.said == "In the child. | Back in the parent." and call.ended
