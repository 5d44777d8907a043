"""Validation of templates: a text that cannot be read is an error, a value nothing sets a warning."""

import pytest

from flows.spec import errors, validate, warnings

from .spec_helpers import flow, hangup, node, say


def test_a_template_syntax_error_is_an_error_on_the_node_and_blocks_publishing():
    definition = flow(say("greeting", "bye", "Your number is {{ caller.number"), hangup())
    for publish in (False, True):
        problems = validate(definition, publish=publish)
        assert [(p.severity, p.node, p.path) for p in problems] == [
            ("error", "greeting", "$.nodes[0].config.text")
        ]
        assert problems[0].message.startswith(
            "This template cannot be read: Unexpected end of template"
        )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{% if vars.x %}open", "This template cannot be read: Unexpected end of template"),
        ("A\nB\n{{ caller.number }", "This template cannot be read (line 3): Unexpected '}'"),
        (
            "{% include 'x' %}",
            "This template cannot be read: {% include %} is not available in templates.",
        ),
        (
            "{% for i in x recursive %}{% endfor %}",
            "This template cannot be read: Recursive loops are not",
        ),
    ],
)
def test_templates_that_cannot_be_read(text, message):
    (problem,) = validate(flow(say("greeting", "bye", text), hangup()))
    assert problem.severity == "error"
    assert problem.message.startswith(message), problem.message


def test_templates_anywhere_in_a_config_and_in_the_fallback_sms_are_checked():
    definition = flow(
        node(
            "lookup",
            "http",
            {
                "url": "https://crm.example.com/?p={{ caller.number }}",
                "body": {"who": ["{{ caller.number"]},
            },
            success="bye",
            failure="bye",
        ),
        hangup(),
        fallback={"node": "bye", "sms": "Sorry {{ customer.name"},
    )
    assert [(p.severity, p.node, p.path) for p in validate(definition)] == [
        ("error", "lookup", "$.nodes[0].config.body.who[0]"),
        ("error", None, "$.fallback.sms"),
    ]


def test_a_variable_no_node_sets_is_a_warning_naming_the_node_and_the_path():
    definition = flow(
        node("remember", "set", {"vars": {"reason": "lost card"}}, next="lookup"),
        node(
            "lookup",
            "http",
            {"url": "https://crm.example.com/c", "save_as": "crm"},
            success="greeting",
            failure="greeting",
        ),
        say("greeting", "bye", "{{ vars.reason }} {{ vars.crm.tier }} {{ vars.resaon }}"),
        hangup(),
    )
    problems = validate(definition)
    assert [(p.severity, p.node, p.path) for p in problems] == [
        ("warning", "greeting", "$.nodes[2].config.text")
    ]
    assert "vars.resaon" in problems[0].message
    # a warning, not an error, even on publish: a value may come from outside the flow
    assert not errors(validate(definition, publish=True))
    assert warnings(validate(definition, publish=True)) == problems


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("{{ nodes.lookpu.response.tier }}", "nodes.lookpu"),
        ("{{ caller.name }}", "caller.name"),
        ("{{ call.form }}", "call.form"),
        ("{{ vars['missing'] }}", "vars.missing"),
        ("{{ cutsomer.name }}", "'cutsomer'"),
        ("{% set ns = namespace(n=1) %}{{ ns.n }}", "'namespace'"),
    ],
)
def test_other_unknown_references_warn(text, needle):
    (problem,) = validate(flow(say("greeting", "bye", text), hangup()))
    assert problem.severity == "warning" and problem.node == "greeting"
    assert needle in problem.message, problem.message


@pytest.mark.parametrize(
    "text",
    [
        "Hello {{ customer.name }}, from {{ caller.number }} to {{ call.to }} ({{ call.sid }}).",
        "{{ nodes.greeting.digits }}{{ nodes.bye }}",
        "{% for o in customer.orders %}{{ o.id }}{{ loop.index }}{% endfor %}",
        "{% set total = customer.orders|length %}{{ total }}{% for i in range(total) %}{{ i }}{% endfor %}",
        "{% macro hi(who) %}Hi {{ who }}{% endmacro %}{{ hi(customer.name) }}",
        "Press {1} or {{ '{' }}",
        "{% set vars = {'x': 1} %}{{ vars.x }}",
    ],
)
def test_known_references_do_not_warn(text):
    assert validate(flow(say("greeting", "bye", text), hangup())) == []
