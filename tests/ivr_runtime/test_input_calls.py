"""The `input` node in whole calls (signed webhooks following the TwiML) and over SMS."""

import pytest

from ivr_runtime.models import CallSession, CallStep

from .conftest import flow_definition, publish
from .test_sms_channel import steps, text

pytestmark = pytest.mark.django_db

NUMBER = "+442079460102"
PROMPT = "Please key in your order number, then press hash."


def bye(node_id, text):
    return {"id": node_id, "type": "hangup", "config": {"text": text}, "exits": {}}


def order_line(**config):
    node = {
        "id": "order",
        "type": "input",
        "config": {
            "prompt": PROMPT,
            "min_digits": 6,
            "max_digits": 8,
            "retries": 1,
            "invalid_prompt": "That is not an order number.",
            "save_as": "order_number",
            **config,
        },
        "exits": {"valid": "thanks", "invalid": "agent", "no_input": "quiet"},
    }
    publish(
        flow_definition(
            "orders",
            [
                node,
                bye("thanks", "Order {{ vars.order_number }} ({{ nodes.order.value }}). Bye."),
                bye("agent", "Let me find someone."),
                bye("quiet", "We did not hear you."),
            ],
        ),
        NUMBER,
    )


def path(sid):
    return list(
        CallStep.objects.filter(session__call_sid=sid)
        .order_by("index")
        .values_list("node_id", "exit")
    )


def variables(sid):
    return CallSession.objects.get(call_sid=sid).variables


# --- by keypad --------------------------------------------------------------------------------
def test_keys_then_hash_are_valid(place_call):
    order_line()
    call = place_call(NUMBER)
    assert call.heard == [PROMPT]
    gather = call.waiting
    assert (gather.get("input"), gather.get("finishOnKey"), gather.get("numDigits")) == (
        "dtmf",
        "#",
        None,
    )
    call.press("123456")
    assert call.ended and call.heard[-1] == "Order 123456 (123456). Bye."
    assert path(call.sid) == [("order", "valid"), ("thanks", "")]
    assert variables(call.sid)["order_number"] == "123456"


def test_a_fixed_length_gathers_that_many_keys(place_call):
    order_line(min_digits=4, max_digits=4)
    call = place_call(NUMBER)
    assert call.waiting.get("numDigits") == "4"
    call.press("4321")
    assert call.heard[-1] == "Order 4321 (4321). Bye."


def test_wrong_keys_ask_again_then_go_to_invalid(place_call):
    order_line()
    call = place_call(NUMBER).press("12")
    assert call.heard[-2:] == ["That is not an order number.", PROMPT]
    call.press("123456789")
    assert call.ended and call.heard[-1] == "Let me find someone."
    assert path(call.sid) == [("order", "invalid"), ("agent", "")]
    assert "order_number" not in variables(call.sid)


def test_a_pattern_refuses_keys_of_the_right_length(place_call):
    order_line(pattern="9[0-9]{5,7}", retries=0)
    call = place_call(NUMBER).press("123456")
    assert call.heard[-1] == "Let me find someone."


def test_silence_asks_again_then_goes_to_no_input(place_call):
    order_line()
    call = place_call(NUMBER).silence()
    assert call.heard[-2:] == ["That is not an order number.", PROMPT]
    call.silence()
    assert call.ended and call.heard[-1] == "We did not hear you."
    assert path(call.sid) == [("order", "no_input"), ("quiet", "")]


def test_confirm_reads_the_keys_back_and_1_accepts(place_call):
    order_line(confirm=True)
    call = place_call(NUMBER).press("123456")
    assert call.heard[-2:] == [
        "You entered 1 2 3 4 5 6.",
        "Press 1 if that is right, or any other key to enter it again.",
    ]
    assert call.waiting.get("numDigits") == "1"
    call.press("1")
    assert call.heard[-1] == "Order 123456 (123456). Bye."


def test_confirm_refused_enters_it_again(place_call):
    order_line(confirm=True)
    call = place_call(NUMBER).press("123456").press("2")
    assert call.heard[-1] == PROMPT
    call.press("654321").press("1")
    assert call.heard[-1] == "Order 654321 (654321). Bye."
    call = place_call(NUMBER).press("123456").press("3").press("123456").press("3")
    assert call.heard[-1] == "Let me find someone."


# --- by speech --------------------------------------------------------------------------------
def test_speech_is_the_value_with_the_flows_language(place_call):
    order_line(input="speech", prompt="Tell us what happened.", hints=["boiler", "leak"])
    call = place_call(NUMBER)
    gather = call.waiting
    assert (gather.get("input"), gather.get("language"), gather.get("hints")) == (
        "speech",
        "en-GB",
        "boiler, leak",
    )
    assert gather.get("finishOnKey") is None
    call.speak("The boiler is leaking")
    assert call.heard[-1] == "Order The boiler is leaking (The boiler is leaking). Bye."


def test_spoken_digits_and_keys_both_count(place_call):
    order_line(input="both", language="en-US")
    call = place_call(NUMBER)
    assert (call.waiting.get("input"), call.waiting.get("language")) == ("dtmf speech", "en-US")
    call.speak("1 2 3 4 5 6.")
    assert call.heard[-1] == "Order 123456 (123456). Bye."


def test_speech_that_does_not_match_goes_to_invalid(place_call):
    order_line(input="both", pattern="[0-9]{6,8}")
    call = place_call(NUMBER).speak("I don't know it").speak("no idea")
    assert call.heard[-1] == "Let me find someone."
    assert path(call.sid) == [("order", "invalid"), ("agent", "")]


def test_no_speech_goes_to_no_input(place_call):
    order_line(input="speech", retries=0)
    call = place_call(NUMBER).silence()
    assert call.heard[-1] == "We did not hear you."


def test_speech_read_back_and_yes(place_call):
    order_line(input="speech", prompt="Tell us what happened.", confirm=True)
    call = place_call(NUMBER).speak("a lost parcel")
    assert call.heard[-2] == "You said a lost parcel."
    call.speak("Yes, that's right.")
    assert call.heard[-1] == "Order a lost parcel (a lost parcel). Bye."
    call = place_call(NUMBER).speak("a lost parcel").speak("no").speak("a late parcel")
    call.speak("yes")
    assert call.heard[-1] == "Order a late parcel (a late parcel). Bye."


# --- over SMS ---------------------------------------------------------------------------------
def test_by_text_the_reply_is_the_value(signer):
    order_line()
    assert text(signer, "hi") == [PROMPT]
    assert text(signer, "1234 5678") == ["Order 12345678 (12345678). Bye."]
    session = CallSession.objects.get()
    assert steps(session) == [("order", "valid"), ("thanks", "")]
    assert session.variables["order_number"] == "12345678"


def test_by_text_a_wrong_reply_asks_again_then_invalid(signer):
    order_line()
    text(signer, "hi")
    assert text(signer, "my order is lost") == ["That is not an order number.\n" + PROMPT]
    assert text(signer, "12") == ["Let me find someone."]
    assert steps(CallSession.objects.get()) == [("order", "invalid"), ("agent", "")]


def test_by_text_words_are_the_value_of_a_speech_node(signer):
    order_line(input="speech", prompt="What happened?", pattern="[A-Za-z ]{3,40}")
    text(signer, "hi")
    assert text(signer, "a broken window") == ["Order a broken window (a broken window). Bye."]


def test_by_text_confirm_takes_yes_or_1(signer):
    order_line(confirm=True)
    text(signer, "hi")
    assert text(signer, "123456") == [
        "You entered 123456.\nReply YES or 1 if that is right, or anything else to enter it again."
    ]
    assert text(signer, "YES") == ["Order 123456 (123456). Bye."]
    order_line(confirm=True, min_digits=4)
    text(signer, "hi again", sender="+447700900999")
    text(signer, "9876", sender="+447700900999")
    assert text(signer, "nope", sender="+447700900999") == [PROMPT]
    text(signer, "5555", sender="+447700900999")
    assert text(signer, "1", sender="+447700900999") == ["Order 5555 (5555). Bye."]
