"""validate(): every class of problem in the SPEC, with its message, JSON path and node."""

import copy

import pytest

from flows.spec import Problem, errors, parse_definition, validate
from flows.spec.validate import DefinitionParseError
from tests.flows.spec_helpers import flow, hangup, menu, node, say, simple_flow

HOURS = {"timezone": "Europe/London", "schedule": {"mon": [["09:00", "17:00"]]}}


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_a_valid_flow_has_no_problems():
    assert validate(simple_flow()) == []
    assert validate(simple_flow(), publish=True) == []


# (case, definition, severity, path, node, words of the message)
ERRORS = [
    (
        "unknown format",
        {**simple_flow(), "format": "callflow/9"},
        "$.format",
        None,
        "The format 'callflow/9' is not known; known formats: callflow/1.",
    ),
    (
        "no format",
        {k: v for k, v in simple_flow().items() if k != "format"},
        "$.format",
        None,
        "no `format`",
    ),
    (
        "missing name",
        {k: v for k, v in simple_flow().items() if k != "name"},
        "$.name",
        None,
        "'name' is required here.",
    ),
    (
        "bad slug",
        {**simple_flow(), "slug": "Acme Support"},
        "$.slug",
        None,
        "'Acme Support' is not a valid slug",
    ),
    (
        "unknown top-level key",
        {**simple_flow(), "colour": "red"},
        "$.colour",
        None,
        "Unknown key 'colour'",
    ),
    (
        "menu option without key",
        flow(
            node(
                "m",
                "menu",
                {"prompt": "Hi", "options": [{"label": "x"}]},
                no_input="m",
                no_match="m",
            )
        ),
        "$.nodes[0].config.options[0].key",
        "m",
        "'key' is required here.",
    ),
    (
        "wrong type in config",
        flow(
            node(
                "m",
                "menu",
                {"prompt": "Hi", "options": [{"key": "1"}], "timeout": "5"},
                **{"1": "m"},
                no_input="m",
                no_match="m",
            )
        ),
        "$.nodes[0].config.timeout",
        "m",
        "Expected an integer, found a string.",
    ),
    (
        "typo in a config key",
        flow(
            node("hi", "say", {"text": "Hello", "voise": "Polly.Amy"}, next=None),
            fallback={"node": "hi"},
        ),
        "$.nodes[0].config.voise",
        "hi",
        "Unknown key 'voise'; allowed keys here: text, audio_url, language, voice, loop.",
    ),
    (
        "enum value",
        flow(
            node(
                "m",
                "menu",
                {"prompt": "Hi", "options": [{"key": "1"}], "input": "voice"},
                **{"1": "m"},
                no_input="m",
                no_match="m",
            )
        ),
        "$.nodes[0].config.input",
        "m",
        '\'voice\' is not one of: "dtmf", "speech", "both".',
    ),
    ("no nodes", flow(start="hi"), "$.nodes", None, "This list must not be empty."),
    (
        "text too long",
        flow(node("hi", "say", {"text": "x" * 4001}, next=None), fallback={"node": "hi"}),
        "$.nodes[0].config.text",
        "hi",
        "Too long: at most 4000 characters (4001 given).",
    ),
    (
        "number out of range",
        flow(
            node(
                "v", "voicemail", {"prompt": "Speak.", "max_length": 2}, recorded=None, empty=None
            ),
            fallback={"node": "v"},
        ),
        "$.nodes[0].config.max_length",
        "v",
        "2 is less than the minimum of 5.",
    ),
    (
        "config that is not an object",
        flow(node("hi", "say", None, next=None) | {"config": "Hello"}, fallback={"node": "hi"}),
        "$.nodes[0].config",
        "hi",
        "Expected an object, found a string.",
    ),
    (
        "node without a type",
        flow({"id": "hi", "config": {}}, fallback={"node": "hi"}),
        "$.nodes[0].type",
        "hi",
        "'type' is required here.",
    ),
    (
        "unknown node type",
        flow(say("hi", "dance"), node("dance", "dance", {}, next="bye"), hangup()),
        "$.nodes[1].type",
        "dance",
        "Unknown node type 'dance'; the known types are: authenticate, branch,",
    ),
    (
        "duplicate id",
        flow(say("hi", "bye"), hangup("bye"), hangup("bye")),
        "$.nodes[2].id",
        "bye",
        "Node id 'bye' is used twice (also by node #2); ids must be unique.",
    ),
    (
        "malformed id",
        flow(say("Greeting", None), fallback={"node": "Greeting"}),
        "$.nodes[0].id",
        "Greeting",
        "'Greeting' is not a valid node id",
    ),
    (
        "start names a missing node",
        flow(say("hi", "bye"), hangup(), start="welcome"),
        "$.start",
        None,
        "The flow starts at 'welcome', which is not a node of this flow.",
    ),
    (
        "dangling exit",
        flow(say("hi", "nowhere")),
        "$.nodes[0].exits.next",
        "hi",
        "Exit 'next' leads to 'nowhere', which is not a node of this flow.",
    ),
    (
        "exit of another node type",
        flow(node("hi", "say", {"text": "Hi"}, next="bye", foo="bye"), hangup()),
        "$.nodes[0].exits.foo",
        "hi",
        "A say node has no exit 'foo'; its exits are: next.",
    ),
    (
        "exit on a hangup",
        flow(say("hi", "bye"), node("bye", "hangup", {}, next="hi")),
        "$.nodes[1].exits.next",
        "bye",
        "A hangup node has no exit 'next'; it has no exits.",
    ),
    (
        "malformed exit name",
        flow(node("hi", "say", {"text": "Hi"}, Next="bye"), hangup(), fallback={"node": "bye"}),
        "$.nodes[0].exits.Next",
        "hi",
        "'Next' is not a valid name here.",
    ),
    (
        "fallback names a missing node",
        flow(say("hi", "bye"), hangup(), fallback={"node": "sorry"}),
        "$.fallback.node",
        None,
        "The fallback node 'sorry' is not a node of this flow.",
    ),
    (
        "invalid flow time zone",
        {**simple_flow(), "timezone": "Europe/Londres"},
        "$.timezone",
        None,
        "'Europe/Londres' is not a known time zone",
    ),
    (
        "invalid node time zone",
        flow(
            node(
                "hours",
                "time_of_day",
                {**HOURS, "timezone": "Mars/Olympus"},
                open="bye",
                closed="bye",
            ),
            hangup(),
        ),
        "$.nodes[0].config.timezone",
        "hours",
        "'Mars/Olympus' is not a known time zone",
    ),
    (
        "invalid hours",
        flow(
            node(
                "hours",
                "time_of_day",
                {"schedule": {"mon": [["09:00", "25:00"]]}},
                open="bye",
                closed="bye",
            ),
            hangup(),
        ),
        "$.nodes[0].config.schedule.mon[0]",
        "hours",
        "['09:00', '25:00'] is not a pair of times HH:MM.",
    ),
    (
        "closing before opening",
        flow(
            node(
                "hours",
                "time_of_day",
                {"schedule": {"tue": [["17:00", "09:00"]]}},
                open="bye",
                closed="bye",
            ),
            hangup(),
        ),
        "$.nodes[0].config.schedule.tue[0]",
        "hours",
        "Closing time 09:00 is not after opening time 17:00.",
    ),
    (
        "holiday of the wrong type",
        flow(
            node("h", "time_of_day", {**HOURS, "holidays": [20261225]}, open="bye", closed="bye"),
            hangup(),
        ),
        "$.nodes[0].config.holidays[0]",
        "h",
        "Expected a string or an object, found a number.",
    ),
    (
        "holiday not in ISO form",
        flow(
            node(
                "h", "time_of_day", {**HOURS, "holidays": ["25/12/2026"]}, open="bye", closed="bye"
            ),
            hangup(),
        ),
        "$.nodes[0].config.holidays[0]",
        "h",
        "'25/12/2026' does not have the expected form",
    ),
    (
        "holiday object without a date",
        flow(
            node(
                "h",
                "time_of_day",
                {**HOURS, "holidays": [{"name": "Xmas"}]},
                open="bye",
                closed="bye",
            ),
            hangup(),
        ),
        "$.nodes[0].config.holidays[0].date",
        "h",
        "'date' is required here.",
    ),
    (
        "endless loop",
        flow(say("a", "b"), node("b", "set", {"vars": {"x": "1"}}, next="c"), say("c", "a")),
        "$.nodes[0]",
        "a",
        "Endless loop: a -> b -> c lead back to one another and none of them waits for the caller",
    ),
    (
        "node exiting to itself",
        flow(say("hi", "hi")),
        "$.nodes[0]",
        "hi",
        "Node 'hi' exits to itself without waiting for the caller: an endless loop.",
    ),
    (
        "say without text or audio",
        flow(node("hi", "say", {"loop": 2}, next="bye"), hangup()),
        "$.nodes[0].config",
        "hi",
        "Give 'text' or 'audio_url'.",
    ),
    (
        "route target of no known kind",
        flow(
            node(
                "r",
                "route",
                {"target": {"phone": "+441632960001"}},
                connected="bye",
                unavailable="bye",
                timeout="bye",
            ),
            hangup(),
        ),
        "$.nodes[0].config.target",
        "r",
        "Give exactly one of 'number', 'sip', 'client', 'queue' or 'skills'.",
    ),
    (
        "route to a badly named queue",
        flow(
            node(
                "r",
                "route",
                {"target": {"queue": "cards!"}},
                connected="bye",
                unavailable="bye",
                timeout="bye",
            ),
            hangup(),
        ),
        "$.nodes[0].config.target.queue",
        "r",
        "'cards!' does not have the expected form (^[A-Za-z0-9_ -]{1,64}$).",
    ),
]


@pytest.mark.parametrize(
    ("case", "definition", "path", "node_id", "message"), ERRORS, ids=[c[0] for c in ERRORS]
)
def test_errors(case, definition, path, node_id, message):
    problem = only(errors(validate(definition)))
    assert problem.severity == "error"
    assert problem.path == path
    assert problem.node == node_id
    assert message in problem.message
    assert problem.message.endswith(".")


def test_errors_block_publishing_too():
    for _, definition, path, _, _ in ERRORS:
        assert path in [p.path for p in errors(validate(definition, publish=True))]


def test_a_definition_that_is_not_an_object():
    assert validate(["not", "a", "flow"]) == [
        Problem("A flow definition is a JSON object, not an array.")
    ]


def test_several_problems_are_all_reported_in_document_order():
    definition = flow(say("hi", "nowhere"), say("hi", "bye"), node("bye", "dance"))
    messages = [p.message for p in validate(definition)]
    assert messages[0].startswith("Node id 'hi' is used twice")
    assert any("'nowhere'" in m for m in messages)
    assert any("Unknown node type 'dance'" in m for m in messages)


def test_a_loop_through_a_node_that_waits_is_not_endless():
    definition = flow(
        say("hi", "m"),
        menu("m", {"1": "info"}, no_input="bye", no_match="m"),
        say("info", "m"),
        hangup(),
    )
    assert validate(definition, publish=True) == []


def test_authenticate_by_caller_id_does_not_wait_but_by_pin_does():
    def looping(method):
        config = {"method": method, "prompt": "PIN?"}
        return flow(
            node("auth", "authenticate", config, success="bye", failure="again"),
            say("again", "auth"),
            hangup(),
        )

    assert errors(validate(looping("pin"))) == []
    assert "Endless loop" in only(errors(validate(looping("caller_id")))).message


# ---- warnings on a draft, errors on publish ---------------------------------------------


def test_unreachable_nodes_warn_on_a_draft_and_block_publishing():
    definition = flow(say("hi", "bye"), hangup(), say("orphan", "bye"))
    draft = only(validate(definition))
    assert (draft.severity, draft.path, draft.node) == ("warning", "$.nodes[2]", "orphan")
    assert draft.message == "Node 'orphan' cannot be reached from the start of the flow."
    published = only(validate(definition, publish=True))
    assert (published.severity, published.path, published.node) == ("error", "$.nodes[2]", "orphan")


def test_the_fallback_node_is_reachable():
    definition = flow(
        say("hi", "bye"), hangup(), hangup("sorry"), fallback={"node": "sorry", "sms": "Sorry."}
    )
    assert validate(definition, publish=True) == []


def test_unconnected_required_exits_warn_without_a_fallback():
    definition = flow(menu("m", {"1": "bye"}, no_input="bye", no_match=None), hangup())
    draft = only(validate(definition))
    assert (draft.severity, draft.path, draft.node) == ("warning", "$.nodes[0].exits.no_match", "m")
    assert draft.message.startswith("Exit 'no_match' is not connected and the flow has no fallback")
    assert only(validate(definition, publish=True)).severity == "error"
    missing_key = flow(menu("m", {"1": "bye"}, no_input="bye"), hangup())
    assert only(validate(missing_key)).path == "$.nodes[0].exits.no_match"


def test_unconnected_exits_are_fine_with_a_fallback_or_when_optional():
    with_fallback = flow(menu("m", {"1": "bye"}), hangup(), fallback={"node": "bye"})
    assert validate(with_fallback, publish=True) == []
    holiday_unset = flow(
        node("hours", "time_of_day", HOURS, open="bye", closed="bye", holiday=None), hangup()
    )
    assert validate(holiday_unset, publish=True) == []


def test_exit_paths_quote_names_that_are_not_identifiers():
    definition = flow(menu("m", {"1": "gone"}, no_input="m", no_match="m"))
    assert only(validate(definition)).path == '$.nodes[0].exits["1"]'


# ---- sub-flows ---------------------------------------------------------------------------


def _subflow_to(slug, target):
    return flow(node("go", "subflow", {"flow": target}, **{"return": "bye"}), hangup(), slug=slug)


def test_subflow_cycles_between_flows_are_errors():
    others = {"b": _subflow_to("b", "c"), "c": _subflow_to("c", "a")}
    problem = only(validate(_subflow_to("a", "b"), flow_lookup=others.get))
    assert (problem.severity, problem.path, problem.node) == (
        "error",
        "$.nodes[0].config.flow",
        "go",
    )
    assert problem.message == "Sub-flow 'go' goes round in a circle of flows: a -> b -> c -> a."


def test_a_subflow_calling_its_own_flow_is_an_error():
    problem = only(validate(_subflow_to("a", "a"), flow_lookup={}.get))
    assert problem.message == "Sub-flow 'go' calls this same flow: an endless loop."


def test_subflows_without_a_cycle_are_fine():
    others = {"b": _subflow_to("b", "c"), "c": simple_flow("c")}
    assert validate(_subflow_to("a", "b"), flow_lookup=others.get, publish=True) == []


def test_a_cycle_among_other_flows_does_not_hang_the_check():
    others = {"b": _subflow_to("b", "c"), "c": _subflow_to("c", "b")}
    assert validate(_subflow_to("a", "b"), flow_lookup=others.get) == []


def test_a_missing_subflow_warns_on_a_draft_and_blocks_publishing():
    definition = _subflow_to("a", "ghost")
    assert only(validate(definition, flow_lookup={}.get)).severity == "warning"
    problem = only(validate(definition, flow_lookup={}.get, publish=True))
    assert (problem.severity, problem.path) == ("error", "$.nodes[0].config.flow")
    assert problem.message == "Sub-flow 'go' names flow 'ghost', which is not published."
    assert only(validate(definition, flow_lookup={}.get)).message == (
        "Sub-flow 'go' names flow 'ghost', which does not exist."
    )
    assert validate(definition) == []  # no lookup: sub-flows are not followed


def test_validate_does_not_modify_the_definition():
    definition = flow(say("hi", "nowhere"), node("x", "dance"))
    before = copy.deepcopy(definition)
    validate(definition, publish=True)
    assert definition == before


# ---- parse_definition ----------------------------------------------------------------------

PARSE_ERRORS = [
    (
        "not JSON",
        '{"format": "callflow/1",\n "slug": }',
        "Not valid JSON: Expecting value at line 2, column 10.",
        2,
        10,
    ),
    ("empty", "", "The file is empty: expected a callflow/1 JSON object.", None, None),
    (
        "only whitespace",
        b"  \n\t",
        "The file is empty: expected a callflow/1 JSON object.",
        None,
        None,
    ),
    (
        "a list",
        "[1, 2]",
        "The top level must be a JSON object {...} describing one flow, not an array.",
        None,
        None,
    ),
    (
        "a string",
        '"flow"',
        "The top level must be a JSON object {...} describing one flow, not a string.",
        None,
        None,
    ),
    (
        "nested too deeply",
        "[" * 100_000 + "]" * 100_000,
        "The JSON is nested more than 64 levels deep (at line 1, column 65); a flow needs far fewer.",
        1,
        65,
    ),
    ("not UTF-8", b'{"name": "caf\xe9"}', "The file is not UTF-8 text (byte 13).", None, None),
]


@pytest.mark.parametrize(
    ("case", "text", "message", "line", "column"), PARSE_ERRORS, ids=[c[0] for c in PARSE_ERRORS]
)
def test_parse_errors(case, text, message, line, column):
    with pytest.raises(DefinitionParseError) as raised:
        parse_definition(text)
    assert (raised.value.message, raised.value.line, raised.value.column) == (message, line, column)
    assert raised.value.as_problem() == Problem(message, "$")


def test_parse_accepts_bytes_with_a_bom_and_keeps_key_order():
    parsed = parse_definition('\ufeff{"slug": "a", "format": "callflow/1"}'.encode())
    assert list(parsed) == ["slug", "format"]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("(", "This pattern is refused: not a valid regular expression: missing ): (."),
        ("(?!0)\\d+", "This pattern is refused: lookaheads ((?=...), (?!...)) are not supported."),
    ],
)
def test_a_branch_pattern_the_runtime_cannot_use_is_an_error_on_the_rule(value, message):
    rule = {"exit": "hit", "var": "caller.number", "op": "matches", "value": value}
    definition = flow(
        node("b", "branch", {"rules": [rule]}, hit="bye", **{"else": "bye"}), hangup("bye")
    )
    problem = only(errors(validate(definition)))
    assert (problem.node, problem.path, problem.message) == (
        "b",
        "$.nodes[0].config.rules[0].value",
        message,
    )


def test_a_branch_pattern_made_by_a_template_is_checked_when_the_call_runs():
    rule = {"exit": "hit", "var": "caller.number", "op": "matches", "value": "{{ vars.p }}"}
    definition = flow(
        node("b", "branch", {"rules": [rule]}, hit="bye", **{"else": "bye"}), hangup("bye")
    )
    assert errors(validate(definition)) == []


def test_a_branch_pattern_made_by_a_template_statement_is_checked_when_the_call_runs():
    rule = {
        "exit": "hit",
        "var": "caller.number",
        "op": "matches",
        "value": "{% if 1 %}({% endif %}",
    }
    definition = flow(
        node("b", "branch", {"rules": [rule]}, hit="bye", **{"else": "bye"}), hangup("bye")
    )
    assert errors(validate(definition)) == []
