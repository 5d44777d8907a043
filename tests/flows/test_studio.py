"""Twilio Studio exports: widget -> node conversion (pure), and importing a whole export."""

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from flows.models import Flow
from flows.spec import errors, validate
from flows.spec.studio import StudioExportError, convert_studio, is_studio_export
from tests.flows.db_helpers import counts, snapshot

FIXTURE = Path(__file__).parent / "studio" / "acme-ivr.json"


def export(*widgets: dict, start: str | None = None, **trigger_paths: str) -> dict:
    """A Studio export: the trigger's incomingCall leads to `start` (the first widget)."""
    first = start or (widgets[0]["name"] if widgets else None)
    transitions = [{"event": "incomingCall", "next": first}] if first else []
    transitions += [{"event": e, "next": t} for e, t in trigger_paths.items()]
    trigger = {"name": "Trigger", "type": "trigger", "transitions": transitions}
    return {
        "description": "Test IVR",
        "states": [trigger, *widgets],
        "initial_state": "Trigger",
        "flags": {"allow_concurrent_calls": True},
    }


def widget(name: str, type_: str, props: dict | None = None, **events) -> dict:
    transitions = [{"event": e, "next": t} for e, t in events.items() if not isinstance(t, list)]
    transitions += [m for t in events.values() if isinstance(t, list) for m in t]
    return {"name": name, "type": type_, "properties": props or {}, "transitions": transitions}


def match(target: str, type_: str, value: str | None = None, name: str = "") -> dict:
    condition = {"friendly_name": name or f"If value {type_} {value}", "type": type_}
    if value is not None:
        condition["value"] = value
    return {"event": "match", "next": target, "conditions": [condition]}


BYE = widget("bye", "say-play", {"say": "Bye."})


def convert(*widgets: dict, **kwargs):
    return convert_studio(export(*widgets, BYE, **kwargs), source_name="test.json")


def node_of(result, node_id: str) -> dict:
    return next(n for n in result.definition["nodes"] if n["id"] == node_id)


# (case, widgets, the node id, its type, its config, its exits)
WIDGETS = [
    (
        "say",
        [
            widget(
                "Welcome Message",
                "say-play",
                {
                    "say": "Hi {{trigger.call.From}}",
                    "voice": "Polly.Amy",
                    "language": "en-GB",
                    "loop": 2,
                },
                audioComplete="bye",
            )
        ],
        "welcome_message",
        "say",
        {"text": "Hi {{ caller.number }}", "language": "en-GB", "voice": "Polly.Amy", "loop": 2},
        {"next": "bye"},
    ),
    (
        "play",
        [widget("music", "say-play", {"play": "https://example.com/a.mp3"}, audioComplete="bye")],
        "music",
        "say",
        {"audio_url": "https://example.com/a.mp3"},
        {"next": "bye"},
    ),
    (
        "gather + split on digits",
        [
            widget(
                "menu",
                "gather-input-on-call",
                {"say": "Press 1 or 2.", "timeout": 7, "number_of_digits": 1},
                keypress="split",
                timeout="bye",
            ),
            widget(
                "split",
                "split-based-on",
                {"input": "{{widgets.menu.Digits}}"},
                noMatch="bye",
                m=[match("one", "equal_to", "1"), match("two", "equal_to", "2")],
            ),
            widget("one", "say-play", {"say": "One."}),
            widget("two", "say-play", {"say": "Two."}),
        ],
        "menu",
        "menu",
        {
            "prompt": "Press 1 or 2.",
            "timeout": 7,
            "retries": 0,
            "input": "dtmf",
            "options": [{"key": "1"}, {"key": "2"}],
        },
        {"no_input": "bye", "1": "one", "2": "two", "no_match": "bye"},
    ),
    (
        "gather + split on speech",
        [
            widget(
                "ask",
                "gather-input-on-call",
                {"say": "Sales or support?", "gather_language": "en_GB"},
                speech="split",
            ),
            widget(
                "split",
                "split-based-on",
                {"input": "{{widgets.ask.SpeechResult}}"},
                m=[match("bye", "equal_to", "Sales"), match("bye", "equal_to", "Support")],
            ),
        ],
        "ask",
        "menu",
        {
            "prompt": "Sales or support?",
            "timeout": 5,
            "retries": 0,
            "input": "speech",
            "options": [
                {"key": "sales", "label": "Sales", "speech": ["Sales"]},
                {"key": "support", "label": "Support", "speech": ["Support"]},
            ],
            "language": "en-GB",
        },
        {"no_input": "end", "sales": "bye", "support": "bye", "no_match": "end"},
    ),
    (
        "one-key gather without a split",
        [
            widget(
                "anykey",
                "gather-input-on-call",
                {"say": "Press any key.", "number_of_digits": 1},
                keypress="bye",
            )
        ],
        "anykey",
        "input",
        {
            "prompt": "Press any key.",
            "timeout": 5,
            "retries": 0,
            "input": "dtmf",
            "min_digits": 1,
            "max_digits": 1,
            "finish_on_key": "#",
        },
        {"valid": "bye", "invalid": "bye", "no_input": "end"},
    ),
    (
        "free input by keys or speech",
        [
            widget(
                "account",
                "gather-input-on-call",
                {
                    "say": "Say or key in your account number.",
                    "finish_on_key": "",
                    "timeout": "8",
                    "hints": "account, number",
                    "language": "en-GB",
                    "gather_language": "en-IE",
                },
                keypress="bye",
                speech="bye",
                timeout="bye",
            )
        ],
        "account",
        "input",
        {
            "prompt": "Say or key in your account number.",
            "timeout": 8,
            "retries": 0,
            "language": "en-IE",
            "input": "both",
            "min_digits": 1,
            "max_digits": 64,
            "finish_on_key": "",
            "hints": ["account", "number"],
        },
        {"valid": "bye", "invalid": "bye", "no_input": "bye"},
    ),
    (
        "gather + splits on digits and on speech: one menu",
        [
            widget(
                "menu",
                "gather-input-on-call",
                {"say": "Sales or support?"},
                keypress="keys",
                speech="words",
                timeout="bye",
            ),
            widget(
                "keys",
                "split-based-on",
                {"input": "{{widgets.menu.Digits}}"},
                noMatch="bye",
                m=[match("sales", "matches_any_of", "1,5"), match("support", "equal_to", "2")],
            ),
            widget(
                "words",
                "split-based-on",
                {"input": "{{widgets.menu.SpeechResult}}"},
                noMatch="bye",
                m=[match("sales", "contains", "sales"), match("bye", "equal_to", "goodbye")],
            ),
            widget("sales", "say-play", {"say": "Sales."}, audioComplete="bye"),
            widget("support", "say-play", {"say": "Support."}, audioComplete="bye"),
        ],
        "menu",
        "menu",
        {
            "prompt": "Sales or support?",
            "timeout": 5,
            "retries": 0,
            "input": "both",
            "options": [
                {"key": "1", "speech": ["sales"]},
                {"key": "5"},
                {"key": "2"},
                {"key": "goodbye", "label": "goodbye", "speech": ["goodbye"]},
            ],
        },
        {
            "no_input": "bye",
            "1": "sales",
            "5": "sales",
            "2": "support",
            "goodbye": "bye",
            "no_match": "bye",
        },
    ),
    (
        "run a function",
        [
            widget(
                "fn",
                "run-function",
                {
                    "service_sid": "ZS0123",
                    "function_sid": "ZH0123",
                    "url": "https://acme-1234.twil.io/lookup",
                    "parameters": [
                        {"key": "phone", "value": "{{trigger.call.From}}"},
                        {"key": "kind", "value": "a b"},
                    ],
                },
                success="bye",
                fail="bye",
            )
        ],
        "fn",
        "http",
        {
            "url": "https://acme-1234.twil.io/lookup",
            "method": "POST",
            "timeout": 5,
            "body": "phone={% filter urlencode %}{{ caller.number }}{% endfilter %}&kind=a%20b",
            "headers": {"Content-Type": "application/x-www-form-urlencoded"},
        },
        {"success": "bye", "failure": "bye"},
    ),
    (
        "connect to a client",
        [
            widget(
                "desk",
                "connect-call-to",
                {"noun": "client", "to": "reception", "caller_id": "{{contact.channel.address}}"},
                callCompleted="bye",
            )
        ],
        "desk",
        "route",
        {"target": {"client": "reception"}, "caller_id": "{{ caller.number }}"},
        {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
    ),
    (
        "connect to SIP",
        [
            widget(
                "pbx",
                "connect-call-to",
                {"noun": "sip", "sip_endpoint": "sip:desk@pbx.example.com", "timeout": 15},
                callCompleted="bye",
            )
        ],
        "pbx",
        "route",
        {"target": {"sip": "sip:desk@pbx.example.com"}, "timeout": 15},
        {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
    ),
    (
        "send to Flex",
        [
            widget(
                "flex",
                "send-to-flex",
                {"workflow": "WW0123", "channel": "TC0123", "timeout": "600"},
                callComplete="bye",
                failedToEnqueue="bye",
            )
        ],
        "flex",
        "route",
        {"target": {"queue": "flex WW0123"}, "max_wait": 600},
        {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
    ),
    (
        "send and wait for a reply",
        [
            widget(
                "ask",
                "send-and-wait-for-reply",
                {"body": "Reply 1 or 2.", "from": "{{flow.channel.address}}", "timeout": "3600"},
                incomingMessage="bye",
            )
        ],
        "ask",
        "input",
        {
            "prompt": "Reply 1 or 2.",
            "input": "both",
            "min_digits": 1,
            "max_digits": 64,
            "timeout": 60,
            "retries": 0,
        },
        {"valid": "bye", "invalid": "bye", "no_input": "end"},
    ),
    (
        "split on a variable",
        [
            widget(
                "by_tier",
                "split-based-on",
                {"input": "{{flow.variables.tier}}"},
                noMatch="bye",
                m=[
                    match("bye", "equal_to", "gold", "Gold"),
                    match("bye", "not_equal_to", "x"),
                    match("bye", "contains", "ol"),
                    match("bye", "starts_with", "g"),
                    match("bye", "less_than", "5", "Low"),
                    match("bye", "greater_than", "9", "High"),
                    match("bye", "is_blank", name="Blank"),
                    match("bye", "is_not_blank", name="Not blank"),
                    match("bye", "matches_any_of", "a, b", "Any"),
                    match("bye", "regex", "^g", "Pattern"),
                ],
            )
        ],
        "by_tier",
        "branch",
        {
            "rules": [
                {"exit": "gold", "var": "vars.tier", "op": "eq", "value": "gold"},
                {"exit": "if_value_not_equal_to_x", "var": "vars.tier", "op": "ne", "value": "x"},
                {
                    "exit": "if_value_contains_ol",
                    "var": "vars.tier",
                    "op": "contains",
                    "value": "ol",
                },
                {
                    "exit": "if_value_starts_with_g",
                    "var": "vars.tier",
                    "op": "starts_with",
                    "value": "g",
                },
                {"exit": "low", "var": "vars.tier", "op": "lt", "value": "5"},
                {"exit": "high", "var": "vars.tier", "op": "gt", "value": "9"},
                {"exit": "blank", "var": "vars.tier", "op": "empty"},
                {"exit": "not_blank", "var": "vars.tier", "op": "not_empty"},
                {"exit": "any", "var": "vars.tier", "op": "in", "value": ["a", "b"]},
                {"exit": "pattern", "var": "vars.tier", "op": "matches", "value": "^g"},
            ]
        },
        {
            "gold": "bye",
            "if_value_not_equal_to_x": "bye",
            "if_value_contains_ol": "bye",
            "if_value_starts_with_g": "bye",
            "low": "bye",
            "high": "bye",
            "blank": "bye",
            "not_blank": "bye",
            "any": "bye",
            "pattern": "bye",
            "else": "bye",
        },
    ),
    (
        "split on the caller",
        [
            widget(
                "vip",
                "split-based-on",
                {"input": "{{trigger.call.From}}"},
                m=[match("bye", "equal_to", "+442079460001", "Boss")],
            )
        ],
        "vip",
        "branch",
        {"rules": [{"exit": "boss", "var": "caller.number", "op": "eq", "value": "+442079460001"}]},
        {"boss": "bye", "else": "end"},
    ),
    (
        "connect to a number",
        [
            widget(
                "agent",
                "connect-call-to",
                {
                    "noun": "number",
                    "to": "+15005550006",
                    "timeout": 20,
                    "caller_id": "{{flow.channel.address}}",
                },
                callCompleted="bye",
            )
        ],
        "agent",
        "route",
        {"target": {"number": "+15005550006"}, "timeout": 20, "caller_id": "{{ call.to }}"},
        {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
    ),
    (
        "enqueue",
        [
            widget(
                "queue",
                "enqueue-call",
                {"queue_name": "support"},
                callComplete="bye",
                failedToEnqueue="bye",
            )
        ],
        "queue",
        "route",
        {"target": {"queue": "support"}},
        {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
    ),
    (
        "voicemail",
        [
            widget(
                "vm",
                "record-voicemail",
                {"max_length": 60, "transcribe": "true", "finish_on_key": "*", "play_beep": "true"},
                recordingComplete="bye",
                noAudio="bye",
            )
        ],
        "vm",
        "voicemail",
        {"prompt": "", "max_length": 60, "transcribe": True, "finish_on_key": "*"},
        {"recorded": "bye", "empty": "bye"},
    ),
    (
        "http GET with parameters",
        [
            widget(
                "crm",
                "make-http-request",
                {
                    "method": "GET",
                    "url": "https://crm.example.com/c",
                    "parameters": [{"key": "phone", "value": "{{trigger.call.From}}"}],
                },
                success="bye",
                failed="bye",
            )
        ],
        "crm",
        "http",
        {"url": "https://crm.example.com/c?phone={{ caller.number }}", "method": "GET"},
        {"success": "bye", "failure": "bye"},
    ),
    (
        "http POST with a JSON body",
        [
            widget(
                "crm",
                "make-http-request",
                {
                    "method": "POST",
                    "url": "https://crm.example.com/c",
                    "content_type": "application/json;charset=utf-8",
                    "body": '{"caller": "{{trigger.call.From}}"}',
                },
                success="bye",
            )
        ],
        "crm",
        "http",
        {
            "url": "https://crm.example.com/c",
            "method": "POST",
            "body": '{"caller": "{{ caller.number }}"}',
            "headers": {"Content-Type": "application/json;charset=utf-8"},
        },
        {"success": "bye", "failure": "end"},
    ),
    (
        "set variables",
        [
            widget(
                "keep",
                "set-variables",
                {
                    "variables": [
                        {"key": "pin", "value": "{{widgets.ask.Digits}}"},
                        {"key": "tier", "value": "{{widgets.crm.parsed.customer.tier}}"},
                    ]
                },
                next="bye",
            ),
            widget(
                "ask",
                "gather-input-on-call",
                {"say": "PIN?", "number_of_digits": 1},
                keypress="bye",
            ),
            widget("crm", "make-http-request", {"url": "https://crm.example.com"}),
        ],
        "keep",
        "set",
        {
            "vars": {
                "pin": "{{ nodes.ask.digits }}",
                "tier": "{{ nodes.crm.response.customer.tier }}",
            }
        },
        {"next": "bye"},
    ),
    (
        "send a message",
        [
            widget(
                "text",
                "send-message",
                {"body": "Thanks, {{flow.variables.name}}.", "to": "{{contact.channel.address}}"},
                sent="bye",
            )
        ],
        "text",
        "sms",
        {"body": "Thanks, {{ vars.name }}."},
        {"next": "bye"},
    ),
    (
        "run a subflow",
        [
            widget(
                "auth",
                "run-subflow",
                {
                    "flow_sid": "FW0123456789abcdef0123456789abcdef",
                    "flow_revision": "LatestPublished",
                },
                completed="bye",
            )
        ],
        "auth",
        "subflow",
        {"flow": "studio-fw0123456789abcdef0123456789abcdef"},
        {"return": "bye"},
    ),
]


@pytest.mark.parametrize(
    ("case", "widgets", "node_id", "type_", "config", "exits"), WIDGETS, ids=[w[0] for w in WIDGETS]
)
def test_a_widget_becomes_a_node(case, widgets, node_id, type_, config, exits):
    result = convert(*widgets)
    node = node_of(result, node_id)
    assert (node["type"], node["config"], node["exits"]) == (type_, config, exits)
    assert node["label"] == widgets[0]["name"]
    assert errors(validate(result.definition)) == []


def test_a_split_a_menu_took_over_is_not_a_node_unless_something_else_leads_to_it():
    gather = widget("menu", "gather-input-on-call", {"say": "Press 1."}, keypress="split")
    split = widget(
        "split",
        "split-based-on",
        {"input": "{{widgets.menu.Digits}}"},
        m=[match("bye", "equal_to", "1")],
    )
    assert [n["id"] for n in convert(gather, split).definition["nodes"]] == ["menu", "bye", "end"]
    back = widget("again", "say-play", {"say": "Again."}, audioComplete="split")
    gather = widget(
        "menu", "gather-input-on-call", {"say": "Press 1."}, keypress="split", timeout="again"
    )
    result = convert(gather, split, back)
    assert node_of(result, "split")["config"]["rules"] == [
        {"exit": "if_value_equal_to_1", "var": "nodes.menu.digits", "op": "eq", "value": "1"}
    ]
    assert node_of(result, "again")["exits"] == {"next": "split"}


def test_a_gather_with_an_audio_prompt_plays_it_first():
    result = convert(
        widget(
            "menu",
            "gather-input-on-call",
            {"play": "https://example.com/p.mp3", "number_of_digits": 1},
            keypress="bye",
        )
    )
    assert result.definition["start"] == "menu_prompt"
    assert node_of(result, "menu_prompt")["exits"] == {"next": "menu"}
    assert node_of(result, "menu")["config"]["prompt"] == ""


def test_the_flow_takes_slug_name_and_positions_from_the_export():
    data = export(widget("Hello!", "say-play", {"say": "Hi", "offset": {"x": 10, "y": -20}}))
    result = convert_studio(data, source_name="exports/Acme IVR (v2).json")
    definition = result.definition
    assert definition["slug"] == "acme-ivr-v2"
    assert (definition["name"], definition["description"]) == ("Test IVR", "Test IVR")
    assert definition["language"] == "en-US" and "timezone" not in definition
    assert "fallback" not in definition
    node, end = definition["nodes"]
    assert end == {
        "id": "end",
        "type": "hangup",
        "label": "End (a Studio transition with no next)",
        "config": {},
        "exits": {},
        "position": {"x": 10, "y": 230},  # below the flow
    }
    assert (node["id"], node["label"], node["position"]) == ("hello", "Hello!", {"x": 10, "y": -20})
    wrapped = convert_studio(
        {"friendly_name": "Main line", "definition": data}, source_name="x.json"
    )
    assert wrapped.definition["name"] == "Main line"


def test_widget_names_become_unique_node_ids():
    result = convert(
        widget("1st step", "say-play", {"say": "a"}, audioComplete="1st-step"),
        widget("1st-step", "say-play", {"say": "b"}, audioComplete="bye"),
    )
    assert [n["id"] for n in result.definition["nodes"]] == [
        "w_1st_step",
        "w_1st_step_2",
        "bye",
        "end",
    ]
    assert node_of(result, "w_1st_step")["exits"] == {"next": "w_1st_step_2"}


@pytest.mark.parametrize(
    ("widget_", "note", "exits"),
    [
        (
            widget("pay", "capture-payments", {"payment_amount": "10"}, success="bye", hangup=""),
            "callflow does not take card payments",
            {"success": "bye", "hangup": "end"},
        ),
        (
            widget(
                "bot", "connect-virtual-agent", {"connector": "df"}, hangup="", **{"return": "bye"}
            ),
            "callflow has no virtual agents",
            {"hangup": "end", "return": "bye"},
        ),
        (
            widget("tap", "fork-stream", {"stream_url": "wss://x.example.com"}, next="bye"),
            "callflow does not stream call audio",
            {"next": "bye"},
        ),
        (
            widget("fax", "some-future-widget", {}, done="bye"),
            "callflow has no node that does this",
            {"done": "bye"},
        ),
        (
            widget(
                "conf", "connect-call-to", {"noun": "conference", "to": "room"}, callCompleted="bye"
            ),
            "connecting to conference 'room' does not convert",
            {"call_completed": "bye"},
        ),
    ],
)
def test_a_widget_with_no_equivalent_becomes_a_placeholder_keeping_its_exits(widget_, note, exits):
    start = widget("hello", "say-play", {"say": "Hi"}, audioComplete=widget_["name"])
    result = convert(start, widget_)
    node = node_of(result, widget_["name"])
    assert node["type"] == "placeholder" and node["exits"] == exits
    config = node["config"]
    assert (config["source"], config["source_type"], config["source_name"]) == (
        "studio",
        widget_["type"],
        widget_["name"],
    )
    assert config["exit_names"] == list(exits) and note in config["note"]
    assert config["original"] == widget_["properties"]
    assert f"widget {widget_['name']!r} ({widget_['type']}): left as a placeholder: " in "\n".join(
        result.notes
    )
    assert node_of(result, "hello")["exits"] == {"next": widget_["name"]}
    assert node_of(result, "bye")["type"] == "say"  # what follows it stays part of the flow
    assert errors(validate(result.definition, publish=True)) == []


def test_a_transition_with_no_next_ends_the_call_at_one_shared_hangup():
    result = convert(
        widget("ask", "gather-input-on-call", {"say": "Press 1."}, keypress="split"),
        widget(
            "split",
            "split-based-on",
            {"input": "{{widgets.ask.Digits}}"},
            m=[match("bye", "equal_to", "1")],
        ),
    )
    assert node_of(result, "ask")["exits"] == {"no_input": "end", "1": "bye", "no_match": "end"}
    assert node_of(result, "bye")["exits"] == {"next": "end"}
    assert node_of(result, "end")["type"] == "hangup"
    assert node_of(result, "end")["config"] == {}
    assert errors(validate(result.definition, publish=True)) == []


def test_widgets_that_do_nothing_here_pass_the_call_on():
    result = convert(
        widget("tones", "say-play", {"digits": "1234"}, audioComplete="nothing"),
        widget("nothing", "set-variables", {"variables": []}, next="bye"),
    )
    assert result.definition["start"] == "bye"
    assert [n["id"] for n in result.definition["nodes"]] == ["bye", "end"]
    assert any("'tones' (say-play): became no node: it sends DTMF tones" in n for n in result.notes)


def test_widgets_nothing_leads_to_are_left_out_and_noted():
    result = convert(
        widget("hi", "say-play", {"say": "Hi"}), widget("old", "say-play", {"say": "Old."})
    )
    assert [n["id"] for n in result.definition["nodes"]] == ["hi", "end"]
    assert "widget 'old' (say-play): was left out: nothing leads to it" in "\n".join(result.notes)
    assert "widget 'bye' (say-play): was left out" in "\n".join(result.notes)


def test_liquid_without_a_callflow_equivalent_is_kept_and_noted():
    result = convert(
        widget("hi", "say-play", {"say": "You called from {{trigger.call.FromCity}}."})
    )
    assert node_of(result, "hi")["config"]["text"] == "You called from {{ trigger.call.FromCity }}."
    assert (
        "widget 'hi' (say-play): {{trigger.call.FromCity}} has no callflow equivalent and was "
        "kept as written (it renders as empty text)."
    ) in result.notes


def test_liquid_filters_and_tags_become_template_filters_and_tags():
    text = "Hi {{flow.variables.name | upcase}}{% if flow.variables.vip == 'yes' %}!{% endif %}"
    result = convert(widget("hi", "say-play", {"say": text}))
    assert node_of(result, "hi")["config"]["text"] == (
        'Hi {{ (vars.name | upper) }}{% if vars.vip == "yes" %}!{% endif %}'
    )
    assert not any(n.startswith("widget 'hi'") for n in result.notes)


def test_one_trigger_path_starts_the_flow_the_others_are_noted_and_left_out():
    reply = widget("reply", "send-message", {"body": "Call us."})
    result = convert(widget("hi", "say-play", {"say": "Hi"}), reply, incomingMessage="reply")
    assert [n["id"] for n in result.definition["nodes"]] == ["hi", "end"]
    notes = "\n".join(result.notes)
    assert (
        "widget 'Trigger' (trigger): its incomingMessage path (to 'reply') was left out: a "
        "callflow flow starts at one node, and this one runs calls from 'hi'."
    ) in notes
    assert "widget 'reply' (send-message): was left out: nothing leads to it" in notes


@pytest.mark.parametrize(
    ("event", "start", "subflow"),
    [
        ("incomingRequest", "hello", None),
        ("incomingMessage", "hello", None),
        ("incomingParent", "hello", True),
    ],
)
def test_a_flow_started_by_a_request_a_message_or_a_parent_converts(event, start, subflow):
    data = export(widget("hello", "say-play", {"say": "Hi"}))
    data["states"][0]["transitions"] = [
        {"event": "incomingCall"},
        {"event": event, "next": "hello"},
    ]
    result = convert_studio(data, source_name="other.json")
    assert result.definition["start"] == start
    assert result.definition.get("subflow") is subflow
    exits = node_of(result, "hello")["exits"]
    assert exits == {"next": None if subflow else "end"}  # a sub-flow returns where it ends
    assert errors(validate(result.definition, publish=True)) == []


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ({"initial_state": "Trigger", "flags": {}}, "$.states", "no widgets: `states` is missing"),
        (
            {"definition": {"initial_state": "Trigger", "states": []}},
            "$.definition.states",
            "no widgets",
        ),
        (
            export(widget("hello", "say-play", {"say": "Hi"}, audioComplete="nowhere")),
            "$.states[1].transitions",
            "Widget 'hello' has a transition (audioComplete) to 'nowhere', which is not a widget",
        ),
        (export(), "$.states[0].transitions", "'Trigger' leads nowhere"),
        (
            export(widget("a", "say-play"), widget("a", "say-play")),
            "$.states[2].name",
            "Two widgets are named 'a'.",
        ),
        ({"states": ["x"]}, "$.states[0]", "A widget should be an object, not str."),
        ({"states": [{"name": "t", "type": 3}]}, "$.states[0].type", "Widget 't' has no type."),
        (
            export(widget("hello", "say-play", {"say": {"text": "Hi"}})),
            "$.states[1].properties.say",
            "Widget 'hello': `say` should be text, not an object.",
        ),
        (
            export({"name": "hello", "type": "say-play", "properties": ["say"]}),
            "$.states[1].properties",
            "`properties` should be an object, not a list.",
        ),
        (
            export({"name": "hello", "type": "say-play", "transitions": {"next": "x"}}),
            "$.states[1].transitions",
            "`transitions` is not a list.",
        ),
        (
            export({"name": "hello", "type": "say-play", "transitions": [{"event": 1}]}),
            "$.states[1].transitions[0]",
            "a transition should be an object with a text `event`",
        ),
        (
            export(
                {"name": "hello", "type": "say-play", "transitions": [{"event": "a", "next": 5}]}
            ),
            "$.states[1].transitions[0].next",
            "`next` should be a widget name, not int.",
        ),
        (
            export(widget("ask", "gather-input-on-call", {"timeout": "soon"}, keypress="bye"), BYE),
            "$.states[1].properties.timeout",
            "Widget 'ask': `timeout` should be a number, not 'soon'.",
        ),
        (
            export(widget("keep", "set-variables", {"variables": {"a": "1"}}, next="bye"), BYE),
            "$.states[1].properties.variables",
            "`variables` should be a list, not an object.",
        ),
        (
            export(widget("keep", "set-variables", {"variables": ["a"]}, next="bye"), BYE),
            "$.states[1].properties.variables[0]",
            "each of `variables` should be an object with a text `key`",
        ),
        (
            export(
                widget(
                    "split",
                    "split-based-on",
                    {"input": "{{flow.variables.a}}"},
                    m=[{"event": "match", "next": "split", "conditions": {"type": "is_blank"}}],
                )
            ),
            "$.states[1].transitions[0].conditions",
            "`conditions` should be a list of objects",
        ),
    ],
)
def test_a_broken_export_is_refused(data, path, message):
    assert is_studio_export(data)
    with pytest.raises(StudioExportError) as raised:
        convert_studio(data, source_name="broken.json")
    assert raised.value.path == path
    assert message in raised.value.message


def test_callflow_files_are_not_taken_for_studio_exports():
    assert not is_studio_export({"format": "callflow/1", "states": []})
    assert not is_studio_export({"slug": "x", "nodes": []})


def test_the_fixture_converts_to_a_valid_flow():
    result = convert_studio(json.loads(FIXTURE.read_text()), source_name=str(FIXTURE))
    definition = result.definition
    assert errors(validate(definition, publish=True)) == []
    assert (definition["slug"], definition["name"], definition["start"]) == (
        "acme-ivr",
        "Acme IVR",
        "greeting",
    )
    assert {n["id"]: n["type"] for n in definition["nodes"]} == {
        "greeting": "say",
        "lookup_caller": "http",
        "remember": "set",
        "main_menu": "menu",
        "by_tier": "branch",
        "connect_sales": "route",
        "connect_vip": "route",
        "voicemail": "voicemail",
        "goodbye_sms": "sms",
        "pay": "placeholder",
        "end": "hangup",
    }
    assert node_of(result, "main_menu")["exits"] == {
        "no_input": "goodbye_sms",
        "1": "connect_sales",
        "2": "voicemail",
        "3": "pay",
        "no_match": "by_tier",
    }
    assert any(
        n.startswith("widget 'pay' (capture-payments): left as a placeholder") for n in result.notes
    )


# --- importing ------------------------------------------------------------------------------


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_import_flows_converts_the_export_prints_the_notes_and_a_second_import_changes_nothing():
    out = run("import_flows", str(FIXTURE))
    lines = out.splitlines()
    assert lines[0] == f"acme-ivr ({FIXTURE}): created"
    assert lines[1] == "  converted from Twilio Studio; not converted, or converted with changes:"
    assert (
        "    - widget 'pay' (capture-payments): left as a placeholder: callflow does not take card "
        "payments: take them with an agent (a route node) or text a payment link (an sms node), "
        "then replace this placeholder."
    ) in lines
    assert any("incomingRequest path (to 'sms_reply') was left out" in line for line in lines)
    flow = Flow.objects.get(slug="acme-ivr")
    assert flow.name == "Acme IVR"
    assert errors(validate(flow.definition)) == []
    before = snapshot()
    again = run("import_flows", str(FIXTURE))
    assert again.splitlines()[0] == f"acme-ivr ({FIXTURE}): unchanged"
    assert snapshot() == before


@pytest.mark.django_db
def test_export_of_an_imported_studio_flow_is_the_converted_definition(tmp_path):
    run("import_flows", str(FIXTURE))
    exported = json.loads(run("export_flow", "acme-ivr"))
    converted = convert_studio(json.loads(FIXTURE.read_text()), source_name=str(FIXTURE))
    assert exported == converted.definition


@pytest.mark.parametrize(
    ("content", "path", "reason"),
    [
        ({"description": "x", "initial_state": "Trigger", "flags": {}}, "$.states", "no widgets"),
        (
            export(widget("hello", "say-play", {"say": "Hi"}, audioComplete="nowhere")),
            "$.states[1].transitions",
            "Widget 'hello' has a transition (audioComplete) to 'nowhere'",
        ),
    ],
    ids=["states missing", "unknown widget"],
)
@pytest.mark.django_db
def test_a_broken_studio_file_names_the_file_and_the_widget_and_changes_nothing(
    tmp_path, content, path, reason
):
    good = tmp_path / "good.json"
    good.write_text(FIXTURE.read_text())
    run("import_flows", str(good))
    before = snapshot()
    bad = tmp_path / "broken.json"
    bad.write_text(json.dumps(content))
    with pytest.raises(CommandError) as raised:
        run("import_flows", str(FIXTURE), str(bad))
    message = str(raised.value)
    assert message.startswith("Nothing was imported: 1 error(s).")
    assert f"{bad}: {path}: Twilio Studio export that cannot be converted: " in message
    assert reason in message
    assert snapshot() == before
    assert counts() == (1, 0, 0)


@pytest.mark.django_db
def test_the_api_import_reports_the_notes(publisher_api):
    response = publisher_api.post(
        "/api/import/", {"definitions": [json.loads(FIXTURE.read_text())]}, format="json"
    )
    assert response.status_code == 200, response.content
    (imported,) = response.json()["flows"]
    assert imported["slug"] == "acme-ivr"  # from the description: no file name
    assert imported["converted_from"] == "Twilio Studio"
    assert any("capture-payments" in note for note in imported["notes"])


def _with_wrong_types(data: dict):
    """Each property of each widget, and each transition, replaced by every wrong type."""
    states = data.get("states") or data["definition"]["states"]
    for i, state in enumerate(states):
        for key in [*state.get("properties", {}), "properties", "transitions"]:
            for wrong in ({}, [], 3.5, True, None, {"a": [1]}):
                broken = json.loads(json.dumps(data))
                target = (broken.get("states") or broken["definition"]["states"])[i]
                if key in ("properties", "transitions"):
                    target[key] = wrong
                else:
                    target["properties"][key] = wrong
                yield broken


QUEUES = export(
    widget("queue", "enqueue-call", {"queue_name": "q", "timeout": 60}, callComplete="flex"),
    widget("flex", "send-to-flex", {"workflow": "WW1", "timeout": "60"}, callComplete="auth"),
    widget(
        "auth",
        "run-subflow",
        {"flow_sid": "FW1", "parameters": [{"key": "a", "value": "1"}]},
        completed="desk",
    ),
    widget("desk", "connect-call-to", {"noun": "client", "to": "desk", "timeout": 9}),
)


@pytest.mark.parametrize(
    "name",
    [
        "sms-survey.json",
        "appointment-reminder.json",
        "extras.json",
        "acme-ivr.json",
        "studio-fw0123456789abcdef0123456789abcdef.json",
        "queues",
    ],
)
def test_wrong_types_anywhere_give_an_error_with_a_json_path_or_convert(name):
    data = QUEUES if name == "queues" else json.loads((FIXTURE.parent / name).read_text())
    for broken in _with_wrong_types(data):
        try:
            result = convert_studio(broken, source_name=name)
        except StudioExportError as exc:
            assert exc.path.startswith("$") and exc.message
        else:
            assert errors(validate(result.definition)) == [], result.definition


def test_a_placeholder_keeps_the_liquid_of_its_settings_which_is_not_read_as_a_template():
    pay = widget("pay", "capture-payments", {"payment_amount": "{{flow.data.amount | default: 0}}"})
    result = convert(widget("hi", "say-play", {"say": "Hi"}, audioComplete="pay"), pay)
    node = node_of(result, "pay")
    assert node["config"]["original"] == {"payment_amount": "{{flow.data.amount | default: 0}}"}
    assert [p for p in validate(result.definition, publish=True) if p.node == "pay"] == []


def test_positions_are_studio_offsets_moved_down_only_where_a_taller_node_would_cover_another():
    from flows.spec.studio.layout import NODE_WIDTH, node_height

    data = json.loads((FIXTURE.parent / "clinic-ivr.json").read_text())
    offsets = {w["name"]: w["properties"]["offset"] for w in data["definition"]["states"]}
    nodes = convert_studio(data, source_name="clinic-ivr.json").definition["nodes"]
    for node in nodes:
        offset = offsets.get(node["label"])
        if offset:
            assert node["position"]["x"] == offset["x"]  # never moved sideways
            assert node["position"]["y"] >= offset["y"]
    assert node_of_list(nodes, "welcome")["position"] == {"x": 0, "y": 420}  # nothing covers it
    for i, a in enumerate(nodes):
        for b in nodes[i + 1 :]:
            (ax, ay), (bx, by) = a["position"].values(), b["position"].values()
            apart = (
                abs(ax - bx) >= NODE_WIDTH or ay + node_height(a) <= by or by + node_height(b) <= ay
            )
            assert apart, (a["id"], b["id"])


def node_of_list(nodes: list[dict], node_id: str) -> dict:
    return next(n for n in nodes if n["id"] == node_id)


def test_numbers_written_with_spaces_convert_and_speech_answers_never_take_a_menu_exit_name():
    result = convert(
        widget("desk", "connect-call-to", {"noun": "number", "to": "+44 (20) 7946-0599"}),
        widget("ask", "gather-input-on-call", {"say": "Yes or no?"}, speech="split"),
        widget(
            "split",
            "split-based-on",
            {"input": "{{widgets.ask.SpeechResult}}"},
            m=[match("desk", "equal_to", "no match"), match("bye", "equal_to", "no input")],
        ),
        start="ask",
    )
    assert node_of(result, "desk")["config"]["target"] == {"number": "+442079460599"}
    options = node_of(result, "ask")["config"]["options"]
    assert [o["key"] for o in options] == ["no_match_2", "no_input_2"]
    assert errors(validate(result.definition, publish=True)) == []


@pytest.mark.parametrize(
    ("props", "config"),
    [
        (
            {"record_call": True, "recording_channels": "dual"},
            {"action": "start", "channels": "dual"},
        ),
        ({"record_call": True}, {"action": "start", "channels": "mono"}),
        ({"record_call": False}, {"action": "stop"}),
    ],
)
def test_call_recording_becomes_a_record_call_node(props, config):
    start = widget("hello", "say-play", {"say": "Hi"}, audioComplete="rec")
    result = convert(
        start,
        widget("rec", "record-call", props, success="bye", failed="other"),
        widget("other", "say-play", {"say": "Other"}),
    )
    node = node_of(result, "rec")
    assert (node["type"], node["config"], node["exits"]) == ("record_call", config, {"next": "bye"})
    assert "its failed path (to 'other') was not converted" in "\n".join(result.notes)


def test_twiml_redirect_becomes_a_redirect_node_back_on_return():
    start = widget("hello", "say-play", {"say": "Hi"}, audioComplete="tw")
    tw = widget(
        "tw",
        "add-twiml-redirect",
        {
            "url": "https://x.example.com/t?c={{contact.channel.address}}",
            "method": "GET",
            "timeout": "600",
        },
        **{"return": "bye", "timeout": "late", "fail": "broken"},
    )
    result = convert(
        start,
        tw,
        widget("late", "say-play", {"say": "Late"}),
        widget("broken", "say-play", {"say": "Broken"}),
    )
    node = node_of(result, "tw")
    assert node["type"] == "redirect"
    assert node["config"] == {
        "url": "https://x.example.com/t?c={{ caller.number }}",
        "method": "GET",
        "return_after": 600,
    }
    split = node_of(result, node["exits"]["failed"])
    assert split["type"] == "branch" and split["exits"] == {"timeout": "late", "else": "broken"}
    assert split["config"]["rules"][0]["var"] == "nodes.tw.outcome"
    assert "ReturnUrl" in "\n".join(result.notes)


def test_a_regex_the_runtime_cannot_match_is_noted_not_converted():
    split = widget(
        "by_code",
        "split-based-on",
        {"input": "{{flow.variables.code}}"},
        noMatch="bye",
        m=[match("bye", "regex", "(?!0)\\d+", "Code"), match("bye", "equal_to", "7", "Seven")],
    )
    result = convert(split)
    notes = "\n".join(result.notes)
    assert "its regex '(?!0)\\\\d+' (to 'bye') is not one callflow reads" in notes
    assert "lookaheads" in notes
    rules = node_of(result, "by_code")["config"]["rules"]
    assert [rule["op"] for rule in rules] == ["eq"]
    assert errors(validate(result.definition)) == []
