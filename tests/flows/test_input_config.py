"""The `input` node's config: its schema's bounds, its checks, what its templates may read,
and the example in docs/format.md."""

import json
import re
from pathlib import Path

import pytest

from flows import nodes
from flows.spec import validate
from flows.spec.schema import config_validator

from .spec_helpers import flow, hangup, node, say

DOCS = Path(__file__).resolve().parents[2] / "docs" / "format.md"


def ask(**config):
    return node(
        "order",
        "input",
        {"prompt": "Your order number?", **config},
        valid="done",
        invalid="bye",
        no_input="bye",
    )


def problems_of(definition, severity="error"):
    return [(p.path, p.message) for p in validate(definition) if p.severity == severity]


@pytest.mark.parametrize(
    ("config", "valid"),
    [
        ({}, True),
        ({"min_digits": 1, "max_digits": 64, "timeout": 60, "retries": 5}, True),
        ({"max_digits": 65}, False),
        ({"min_digits": 0}, False),
        ({"timeout": 0}, False),
        ({"timeout": 61}, False),
        ({"retries": 6}, False),
        ({"input": "keys"}, False),
        ({"finish_on_key": "##"}, False),
        ({"finish_on_key": ""}, True),
        ({"pattern": "x" * 201}, False),
        ({"save_as": "order number"}, False),
        ({"confirm": "yes"}, False),
        ({"colour": "red"}, False),
    ],
)
def test_schema_bounds(config, valid):
    assert config_validator("input").is_valid({"prompt": "Say it.", **config}) is valid


def test_the_schema_says_the_defaults():
    properties = nodes.get("input").config_schema["properties"]
    defaults = {k: v["default"] for k, v in properties.items() if "default" in v}
    assert defaults == {
        "input": "dtmf",
        "min_digits": 1,
        "max_digits": 20,
        "finish_on_key": "#",
        "timeout": 5,
        "retries": 2,
        "confirm": False,
    }
    assert nodes.get("input").config_schema["required"] == ["prompt"]


@pytest.mark.parametrize(
    ("config", "path", "message"),
    [
        (
            {"min_digits": 8, "max_digits": 4},
            "min_digits",
            "min_digits 8) than allowed (4)",
        ),
        ({"pattern": "[0-9"}, "pattern", "not a valid regular expression"),
        ({"pattern": "(?!0)[0-9]+"}, "pattern", "lookaheads ((?=...), (?!...)) are not supported"),
        ({"pattern": "(.)\\1"}, "pattern", "backreferences (\\1) are not supported"),
        ({"finish_on_key": "5"}, "finish_on_key", "can never be entered"),
    ],
)
def test_checks_are_errors_on_the_node(config, path, message):
    definition = flow(ask(**config), hangup("done"), hangup("bye"))
    problems = [p for p in validate(definition) if p.severity == "error"]
    assert [(p.node, p.path) for p in problems] == [("order", f"$.nodes[0].config.{path}")]
    assert message in problems[0].message


def test_a_digit_finish_key_is_fine_for_speech():
    definition = flow(ask(input="speech", finish_on_key="5"), hangup("done"), hangup("bye"))
    assert problems_of(definition) == []


def test_save_as_and_the_value_are_known_to_templates():
    definition = flow(
        ask(save_as="order_number"),
        say("done", "bye", "{{ vars.order_number }} {{ nodes.order.value }} {{ vars.ordr }}"),
        hangup("bye"),
    )
    warnings = problems_of(definition, "warning")
    assert [path for path, _ in warnings] == ["$.nodes[1].config.text"]
    assert "vars.ordr" in warnings[0][1] and len(warnings) == 1


def test_an_input_node_breaks_a_loop():
    definition = flow(say("hi", "order"), ask(), hangup("done"), hangup("bye"))
    definition["nodes"][1]["exits"]["invalid"] = "hi"
    assert problems_of(definition) == []


def test_the_docs_example_is_valid_on_publish():
    docs = DOCS.read_text()
    section = docs[docs.index("### Collecting input: `input`") :]
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    assert [n["type"] for n in example["nodes"]][0] == "input"
    assert validate(example, publish=True) == []


def test_the_docs_example_of_record_call_and_redirect_publishes():
    docs = DOCS.read_text()
    section = docs[docs.index("### Recording the call and handing it over") :]
    example = json.loads(re.search(r"```json\n(.*?)```", section, re.S).group(1))
    assert {n["type"] for n in example["nodes"]} >= {"record_call", "redirect"}
    assert validate(example, publish=True) == []
