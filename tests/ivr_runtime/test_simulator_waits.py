"""The simulator's answer says what the call waits for (from the engine's commands), and it
places simulated outbound calls (the person called as the caller, never through Twilio)."""

import pytest

from ivr_runtime.models import CallSession, OutboundCall
from ivr_runtime.voice import simulator

from .conftest import ANSWERED_BY_MACHINE, flow_definition, publish
from .test_api import simulate

pytestmark = pytest.mark.django_db

NUMBER = "+442079460104"


def waits_flow():
    return flow_definition(
        "waits",
        [
            {
                "id": "menu",
                "type": "menu",
                "config": {
                    "prompt": "Press 1 for an order, 2 to speak, 3 for a PIN, 4 to leave a message.",
                    "retries": 0,
                    "options": [{"key": "1"}, {"key": "2"}, {"key": "3"}, {"key": "4"}],
                },
                "exits": {"1": "order", "2": "spoken", "3": "pin", "4": "vm", "no_input": "bye"},
            },
            {
                "id": "order",
                "type": "input",
                "config": {
                    "prompt": "Key in your order number, then press star.",
                    "min_digits": 4,
                    "max_digits": 10,
                    "finish_on_key": "*",
                    "retries": 0,
                    "save_as": "order",
                },
                "exits": {"valid": "said", "invalid": "bye", "no_input": "bye"},
            },
            {
                "id": "spoken",
                "type": "input",
                "config": {"prompt": "Say your reason.", "input": "speech", "retries": 0},
                "exits": {"valid": "bye", "invalid": "bye", "no_input": "bye"},
            },
            {
                "id": "pin",
                "type": "input",
                "config": {
                    "prompt": "Key in your 6-digit PIN.",
                    "input": "both",
                    "min_digits": 6,
                    "max_digits": 6,
                    "retries": 0,
                },
                "exits": {"valid": "bye", "invalid": "bye", "no_input": "bye"},
            },
            {
                "id": "vm",
                "type": "voicemail",
                "config": {"prompt": "Leave a message."},
                "exits": {"recorded": "bye", "empty": "bye"},
            },
            {
                "id": "said",
                "type": "say",
                "config": {"text": "Order {{ vars.order }}."},
                "exits": {"next": "bye"},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}},
        ],
    )


def started(api, key):
    sid = simulate(api, {"event": {"type": "start"}}, slug="waits")["session"]
    answer = simulate(
        api, {"session": sid, "event": {"type": "digits", "digits": key}}, slug="waits"
    )
    return sid, answer


def test_the_wait_is_described_from_the_engines_commands(editor_api):
    publish(waits_flow(), NUMBER)
    first = simulate(editor_api, {"event": {"type": "start"}}, slug="waits")
    assert first["wait"] == {
        "kind": "input",
        "node": "menu",
        "input": "dtmf",
        "dtmf": True,
        "speech": False,
        "num_digits": 1,
        "finish_on_key": "#",
        "timeout": 5,
    }
    assert first["input"] == {"dtmf": True, "speech": False, "num_digits": 1}
    assert first["call"] == {
        "direction": "inbound",
        "caller": "+447700900123",
        "to": NUMBER,
        "answered_by": "",
    }

    _, order = started(editor_api, "1")
    assert order["wait"]["node"] == "order"
    assert (order["wait"]["num_digits"], order["wait"]["finish_on_key"]) == (None, "*")
    _, spoken = started(editor_api, "2")
    assert spoken["wait"]["input"] == "speech" and spoken["wait"]["dtmf"] is False
    assert (spoken["wait"]["num_digits"], spoken["wait"]["finish_on_key"]) == (None, "")
    _, pin = started(editor_api, "3")
    assert pin["wait"]["input"] == "both" and pin["wait"]["speech"] is True
    assert pin["wait"]["num_digits"] == 6
    _, vm = started(editor_api, "4")
    assert vm["waiting_for"] == "record" and vm["input"] is None
    assert vm["wait"]["kind"] == "record" and vm["wait"]["finish_on_key"] == "#"

    ended = simulate(
        editor_api, {"session": vm["session"], "event": {"type": "hangup"}}, slug="waits"
    )
    assert ended["ended"] is True and ended["wait"] is None


def test_a_whole_number_is_one_answer(editor_api):
    publish(waits_flow(), NUMBER)
    sid, _ = started(editor_api, "1")
    answer = simulate(
        editor_api, {"session": sid, "event": {"type": "digits", "digits": "123456"}}, slug="waits"
    )
    assert answer["prompts"] == ["Order 123456.", "Goodbye."] and answer["ended"]


def outbound_flow():
    return flow_definition(
        "dialout",
        [
            {
                "id": "who",
                "type": "branch",
                "config": {
                    "rules": [
                        ANSWERED_BY_MACHINE,
                        {"exit": "out", "var": "call.direction", "op": "eq", "value": "outbound"},
                    ]
                },
                "exits": {"machine": "message", "out": "hello", "else": "bye"},
            },
            {
                "id": "message",
                "type": "hangup",
                "config": {"text": "Message for {{ caller.number }}: {{ vars.reason }}."},
                "exits": {},
            },
            {
                "id": "hello",
                "type": "hangup",
                "config": {"text": "Hello {{ vars.name }}, {{ call.direction }}."},
                "exits": {},
            },
            {"id": "bye", "type": "hangup", "config": {"text": "Inbound."}, "exits": {}},
        ],
    )


def test_a_simulated_outbound_call_is_answered_by_whom_you_choose(editor_api):
    publish(outbound_flow(), NUMBER)
    machine = simulate(
        editor_api,
        {
            "event": {"type": "start"},
            "outbound": {
                "to": "+447700900456",
                "answered_by": "machine_start",
                "vars": {"reason": "your delivery"},
            },
        },
        slug="dialout",
    )
    assert machine["prompts"] == ["Message for +447700900456: your delivery."]
    assert machine["call"] == {
        "direction": "outbound",
        "caller": "+447700900456",
        "to": NUMBER,
        "answered_by": "machine_start",
    }
    assert machine["path"][0] == {"node": "who", "exit": "machine"}
    person = simulate(
        editor_api,
        {
            "event": {"type": "start"},
            "outbound": {"to": "+447700900456", "answered_by": "human", "vars": {"name": "Ann"}},
        },
        slug="dialout",
    )
    assert person["prompts"] == ["Hello Ann, outbound."]
    assert simulate(editor_api, {"event": {"type": "start"}}, slug="dialout")["prompts"] == [
        "Inbound."
    ]
    calls = CallSession.objects.filter(direction="outbound")
    assert calls.count() == 2 and all(c.simulated for c in calls)
    assert not OutboundCall.objects.exists()  # nothing asked of Twilio


@pytest.mark.parametrize(
    ("outbound", "message"),
    [
        ({"to": "07700 900456"}, "outbound.to: '07700 900456' is not a possible phone number"),
        ({"to": ""}, "outbound.to: '' is not a possible phone number (E.164: +44...)"),
        ({"to": "+447700900456", "vars": {"1st": "x"}}, "outbound.vars: '1st' is not a variable"),
        ({"to": "+447700900456", "vars": ["x"]}, "outbound.vars: vars must be an object"),
    ],
)
def test_a_bad_outbound_call_is_refused_clearly(editor_api, outbound, message):
    publish(outbound_flow(), NUMBER)
    answer = simulate(
        editor_api, {"event": {"type": "start"}, "outbound": outbound}, slug="dialout", expect=400
    )
    assert answer["detail"].startswith(message), answer
    assert not CallSession.objects.exists()


def test_outbound_is_chosen_at_the_start_only(editor_api):
    publish(waits_flow(), NUMBER)
    sid = simulate(editor_api, {"event": {"type": "start"}}, slug="waits")["session"]
    answer = simulate(
        editor_api,
        {
            "session": sid,
            "event": {"type": "digits", "digits": "1"},
            "outbound": {"to": "+447700900456"},
        },
        slug="waits",
        expect=400,
    )
    assert "when it starts" in answer["detail"]
    refused = simulate(
        editor_api,
        {"event": {"type": "start"}, "outbound": {"to": "+447700900456", "answered_by": "robot"}},
        slug="waits",
        expect=400,
    )
    assert refused["fields"]["outbound"]["answered_by"] == ['"robot" is not a valid choice.']


def test_each_wait_command_is_told():
    from flows.nodes.runtime import Dial, Enqueue, Gather, Record, Say

    assert simulator.describe_wait(Gather(seq=1, input="both"))["finish_on_key"] == "#"
    assert simulator.describe_wait(Gather(seq=1, finish_on_key=""))["finish_on_key"] == ""
    speech = simulator.describe_wait(Gather(seq=1, input="speech", num_digits=4))
    assert (speech["dtmf"], speech["num_digits"], speech["finish_on_key"]) == (False, None, "")
    assert simulator.describe_wait(Record(seq=1, max_length=30)) == {
        "kind": "record",
        "finish_on_key": "#",
        "max_length": 30,
    }
    assert simulator.describe_wait(Dial(seq=1, number="+442071838750"))["kind"] == "dial"
    assert simulator.describe_wait(Enqueue(seq=1, queue="support", max_wait=60)) == {
        "kind": "queue",
        "queue": "support",
        "max_wait": 60,
    }
    assert simulator.describe_wait(Say(text="Hello.")) is None


def test_a_handed_over_call_waits_for_its_return(editor_api):
    publish(
        flow_definition(
            "handover",
            [
                {
                    "id": "pay",
                    "type": "redirect",
                    "config": {"url": "https://pay.example.com/twiml", "return_after": 600},
                    "exits": {"return": "back", "failed": "bye"},
                },
                {"id": "back", "type": "hangup", "config": {"text": "Welcome back."}, "exits": {}},
                {"id": "bye", "type": "hangup", "config": {"text": "Sorry."}, "exits": {}},
            ],
        ),
        NUMBER,
    )
    answer = simulate(editor_api, {"event": {"type": "start"}}, slug="handover")
    assert answer["waiting_for"] == "redirect" and answer["input"] is None
    assert answer["wait"] == {
        "kind": "redirect",
        "url": "https://pay.example.com/twiml",
        "node": "pay",
    }
    back = simulate(
        editor_api,
        {"session": answer["session"], "event": {"type": "redirect", "result": "return"}},
        slug="handover",
    )
    assert back["prompts"] == ["Welcome back."] and back["wait"] is None
