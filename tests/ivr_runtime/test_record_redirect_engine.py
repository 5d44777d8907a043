"""`record_call` and `redirect` in the pure engine, and their TwiML (no database)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from flows.nodes.runtime import ControlRecording, Event, ExpectReturn, Handover, Returned
from ivr_runtime.twilio import twiml

from .test_engine import CALL, definition, drive, hangup

HEAD = '<?xml version="1.0" encoding="UTF-8"?>'


def recorded(action="start", **config):
    node = {
        "id": "rec",
        "type": "record_call",
        "config": {"action": action, **config},
        "exits": {"next": "bye"},
    }
    return definition([node, hangup("bye", "Bye.")])


def handed(url="https://pay.example.com/twiml?account={{ caller.number }}", **config):
    node = {
        "id": "pay",
        "type": "redirect",
        "config": {"url": url, **config},
        "exits": {"return": "back", "failed": "failed"},
    }
    return definition(
        [node, hangup("back", "Back: {{ nodes.pay.returned.result }}."), hangup("failed")]
    )


@pytest.mark.parametrize(
    ("action", "config", "effect", "step_input"),
    [
        ("start", {}, ControlRecording("start", "rec", "mono"), "start (mono)"),
        ("start", {"channels": "dual"}, ControlRecording("start", "rec", "dual"), "start (dual)"),
        ("stop", {}, ControlRecording("stop", "rec", "mono"), "stop"),
    ],
)
def test_record_call_asks_for_the_recording_and_goes_on(action, config, effect, step_input):
    run = drive(recorded(action, **config), [])
    assert run.effects == [effect]
    assert run.path == [("rec", "next"), ("bye", None)]
    assert run.outcomes[0].steps[0].input == step_input
    assert run.said == ["Bye."]


def test_record_call_over_sms_records_nothing():
    from ivr_runtime import engine

    state = engine.State.new("v1")
    outcome = engine.advance(
        definitions={"v1": recorded()},
        state=state,
        event=Event(kind="start"),
        now=drive(recorded(), []).outcomes[0].steps[0].at,
        call=replace(CALL, channel="sms"),
    )
    assert outcome.effects == []
    assert outcome.steps[0].input == "not a call: nothing recorded"


def test_redirect_hands_the_call_over_and_waits():
    run = drive(handed(return_after=120), [])
    [command] = run.commands
    assert command == Handover(
        seq=1, url="https://pay.example.com/twiml?account=%2B447700900123", method="POST"
    )
    assert run.effects == [ExpectReturn(seq=1, seconds=120, node="pay")]
    assert run.state.waiting == "redirect"


@pytest.mark.parametrize(
    ("returned", "exit", "said", "step_input"),
    [
        (Returned("return", params=(("result", "paid"),)), "return", "Back: paid.", None),
        (Returned("timeout"), "failed", "failed", "not back within 3600 s"),
        (
            Returned("unreachable", error="Twilio error 11200"),
            "failed",
            "failed",
            "Twilio error 11200",
        ),
    ],
)
def test_redirect_comes_back(returned, exit, said, step_input):
    run = drive(handed(), [Event(kind="redirect", result=returned)])
    assert run.path == [("pay", exit), (exit if exit == "failed" else "back", None)]
    assert run.said[-1] == said
    pay_step = next(s for o in run.outcomes for s in o.steps if s.node == "pay" and s.exit)
    assert pay_step.input == step_input


@pytest.mark.parametrize(
    "url", ["{{ vars.missing }}", "ftp://files.example.com/x", "{{ vars.missing }}/x"]
)
def test_redirect_to_no_url_fails_at_once(url):
    run = drive(handed(url=url), [])
    assert run.path == [("pay", "failed"), ("failed", None)]
    assert run.commands[0].text == "failed"


def test_handover_twiml_carries_the_return_url(settings):
    settings.PUBLIC_BASE_URL = "https://ivr.example.com"
    command = Handover(seq=4, url="https://pay.example.com/twiml?a=1&b=x%20y", method="GET")
    assert twiml.to_xml([command]) == (
        f'{HEAD}<Response><Redirect method="GET">https://pay.example.com/twiml?a=1&amp;b=x+y'
        "&amp;ReturnUrl=https%3A%2F%2Fivr.example.com%2Fivr%2Fcontinue%3Fseq%3D4</Redirect>"
        "</Response>"
    )


def test_handover_without_a_public_base_uses_the_webhooks_origin(settings):
    settings.PUBLIC_BASE_URL = ""
    token = twiml.ORIGIN.set("http://testserver")
    try:
        xml = twiml.to_xml([Handover(seq=2, url="https://pay.example.com/t")])
    finally:
        twiml.ORIGIN.reset(token)
    assert "ReturnUrl=http%3A%2F%2Ftestserver%2Fivr%2Fcontinue%3Fseq%3D2" in xml


@pytest.mark.parametrize("outcome", ["return", "timeout", "unreachable"])
def test_redirect_keeps_how_the_call_came_back(outcome):
    run = drive(handed(), [Event(kind="redirect", result=Returned(outcome))])
    assert run.state.nodes["pay"]["outcome"] == outcome
