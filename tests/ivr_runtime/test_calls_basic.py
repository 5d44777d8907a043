"""Whole calls through say, menu and hangup nodes, with signed webhooks."""

import pytest

from ivr_runtime.models import CallSession, CallStep

from .conftest import flow_definition, publish

pytestmark = pytest.mark.django_db

NUMBER = "+442079460101"


def menu_flow(**menu_config):
    config = {
        "prompt": "For bookings press 1 or say booking. For anything else press 2.",
        "input": "both",
        "timeout": 5,
        "retries": 1,
        "invalid_prompt": "Sorry, I didn't get that.",
        "options": [
            {"key": "1", "label": "Bookings", "speech": ["booking", "table"]},
            {"key": "2", "label": "Other"},
        ],
    }
    config.update(menu_config)
    return flow_definition(
        "basic",
        [
            {
                "id": "greeting",
                "type": "say",
                "config": {"text": "Welcome, caller {{ caller.number }}."},
                "exits": {"next": "menu"},
            },
            {
                "id": "menu",
                "type": "menu",
                "config": config,
                "exits": {
                    "1": "bookings",
                    "2": "other",
                    "no_input": "no_input_bye",
                    "no_match": "no_match_bye",
                },
            },
            {
                "id": "bookings",
                "type": "hangup",
                "config": {
                    "text": "Bookings, you pressed {{ nodes.menu.digits }}{{ nodes.menu.speech }}."
                },
                "exits": {},
            },
            {"id": "other", "type": "hangup", "config": {"text": "Other."}, "exits": {}},
            {
                "id": "no_input_bye",
                "type": "hangup",
                "config": {"text": "We heard nothing."},
                "exits": {},
            },
            {
                "id": "no_match_bye",
                "type": "hangup",
                "config": {"text": "We did not understand."},
                "exits": {},
            },
        ],
    )


def steps(call):
    return list(CallStep.objects.filter(session__call_sid=call.sid).values_list("node_id", "exit"))


def test_key_press_takes_the_option_exit(place_call):
    publish(menu_flow(), NUMBER)
    call = place_call(NUMBER)
    assert call.heard[:2] == [
        "Welcome, caller +447700900123.",
        "For bookings press 1 or say booking. For anything else press 2.",
    ]
    assert call.waits_for == "Gather"
    gather = call.waiting
    assert gather.get("input") == "dtmf speech" and gather.get("numDigits") == "1"
    assert gather.get("hints") == "booking, table" and gather.get("actionOnEmptyResult") == "true"
    call.press("1")
    assert call.ended and call.heard[-1] == "Bookings, you pressed 1."
    assert steps(call) == [("greeting", "next"), ("menu", "1"), ("bookings", "")]


def test_speech_chooses_by_option_words(place_call):
    publish(menu_flow(), NUMBER)
    call = place_call(NUMBER).speak("I'd like a TABLE please.")
    assert call.heard[-1] == "Bookings, you pressed I'd like a TABLE please.."
    assert steps(call)[1] == ("menu", "1")


def test_silence_retries_then_takes_no_input(place_call):
    publish(menu_flow(), NUMBER)
    call = place_call(NUMBER).silence()
    assert call.waits_for == "Gather"  # one retry
    call.silence()
    assert call.ended and call.heard[-1] == "We heard nothing."
    assert steps(call)[1] == ("menu", "no_input")


def test_wrong_keys_retry_with_invalid_prompt_then_no_match(place_call):
    publish(menu_flow(), NUMBER)
    call = place_call(NUMBER).press("9")
    assert call.heard[-2:] == [
        "Sorry, I didn't get that.",
        "For bookings press 1 or say booking. For anything else press 2.",
    ]
    call.press("7")
    assert call.heard[-1] == "We did not understand."
    session = CallSession.objects.get(call_sid=call.sid)
    assert session.current_node == "no_match_bye"


def test_dtmf_only_menu_ignores_speech(place_call):
    publish(menu_flow(input="dtmf", retries=0), NUMBER)
    call = place_call(NUMBER)
    assert call.waiting.get("input") == "dtmf" and call.waiting.get("hints") is None
    call.speak("booking")
    assert call.heard[-1] == "We heard nothing."


def test_unknown_number_hears_a_message_and_hang_up(place_call):
    call = place_call("+442079469999")
    assert call.ended and "not in service" in call.heard[0]
    assert not CallSession.objects.exists()


def test_flow_url_runs_that_flow_whatever_the_number(place_call):
    publish(menu_flow())
    call = place_call("+15005550006", path="/ivr/flows/basic/voice")
    assert call.waits_for == "Gather"
    assert place_call("+15005550006", path="/ivr/flows/nope/voice").ended
