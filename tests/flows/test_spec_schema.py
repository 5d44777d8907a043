"""The published JSON Schema of callflow/1 agrees with validate()."""

import json

from jsonschema import Draft202012Validator

from flows import nodes
from flows.spec import errors, format_schema, validate
from flows.spec.schema import FORMAT, format_validator
from tests.flows.spec_helpers import demo_flows, flow, node, say, simple_flow


def test_the_format_schema_is_a_valid_2020_12_schema_with_every_type():
    schema = format_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["properties"]["format"] == {"const": FORMAT}
    assert schema["$defs"]["node"]["properties"]["type"]["enum"] == list(nodes.all_types())
    for name, cls in nodes.all_types().items():
        assert schema["$defs"][f"config_{name}"]["properties"] == cls.config_schema["properties"]
    json.dumps(schema)  # served as JSON


def test_the_format_schema_checks_each_config_against_its_type():
    bad = flow(node("hi", "say", {"txt": "typo"}, next=None))
    assert not format_validator().is_valid(bad)
    assert format_validator().is_valid(simple_flow())
    assert not format_validator().is_valid(flow(node("hi", "dance", {})))
    assert format_validator().is_valid(flow({"id": "bye", "type": "hangup"}))


def test_the_demo_flows_are_valid_against_the_published_schema():
    demos = list(demo_flows().values())
    assert len(demos) >= 3
    for demo in demos:
        assert list(format_validator().iter_errors(demo)) == [], demo["slug"]


def test_schema_errors_of_validate_are_errors_of_the_published_schema():
    cases = [
        {**simple_flow(), "slug": "No Caps"},
        flow(node("hi", "say", {"text": 1}, next=None)),
        flow(say("hi", None), name=""),
        flow({"id": "m", "type": "menu"}),
    ]
    for definition in cases:
        assert errors(validate(definition))
        assert not format_validator().is_valid(definition)
