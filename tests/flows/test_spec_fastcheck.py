"""The fast schema check agrees with jsonschema, on the format's schemas and near-misses."""

import copy

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from flows import nodes
from flows.spec.fastcheck import Unsupported, compile_schema
from flows.spec.schema import config_check, envelope_check, envelope_validator
from tests.flows.spec_helpers import simple_flow


def _names(schema, found):
    if isinstance(schema, dict):
        found.update(schema.get("properties", {}))
        for value in schema.values():
            _names(value, found)
    elif isinstance(schema, list):
        for value in schema:
            _names(value, found)
    return found


KEYS = sorted(
    _names([cls.config_schema for cls in nodes.all_types().values()], set())
    | {"id", "type", "exits"}
)
STRINGS = [
    "09:00",
    "24:00",
    "25:00",
    "+442079460001",
    "https://example.com",
    "{{ caller.number }}",
    "en-GB",
    "gold",
    "dtmf",
    "speech",
    "both",
    "link_sms",
    "lookup_say",
    "caller_id",
    "pin",
    "GET",
    "2026-12-25",
    "eq",
    "empty",
    "vars.tier",
    "1",
    "#",
    "next",
    "cards",
    "sip:a@b",
    "",
    "GB",
]
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5000)
    | st.sampled_from([0.5, 1.0, 3.0, 7200.5])
    | st.text(max_size=6)
    | st.sampled_from(STRINGS)
)
VALUES = st.recursive(
    LEAVES,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), children, max_size=3)
    ),
    max_leaves=8,
)


def _mutate(data, value, depth=0):
    """A copy of `value` with one random change somewhere inside it."""
    if isinstance(value, dict) and value and depth < 5 and data.draw(st.booleans()):
        key = data.draw(st.sampled_from(sorted(value)))
        return {**value, key: _mutate(data, value[key], depth + 1)}
    if isinstance(value, list) and value and depth < 5 and data.draw(st.booleans()):
        i = data.draw(st.integers(0, len(value) - 1))
        return [*value[:i], _mutate(data, value[i], depth + 1), *value[i + 1 :]]
    action = data.draw(st.sampled_from(["replace", "drop", "add", "dup"]))
    if action == "replace" or not isinstance(value, dict | list):
        return data.draw(VALUES)
    if isinstance(value, dict):
        if action == "drop" and value:
            key = data.draw(st.sampled_from(sorted(value)))
            return {k: v for k, v in value.items() if k != key}
        return {**value, data.draw(st.sampled_from(KEYS)): data.draw(VALUES)}
    if action == "drop" and value:
        return value[1:]
    if action == "dup" and value:
        return [*value, copy.deepcopy(value[0])]
    return [*value, data.draw(VALUES)]


@pytest.mark.parametrize("name", sorted(nodes.all_types()))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_config_check_agrees_with_jsonschema(name, data):
    cls = nodes.get(name)
    config = cls.example()["config"]
    for _ in range(data.draw(st.integers(1, 3))):
        config = _mutate(data, config)
    assert config_check(name)(config) == Draft202012Validator(cls.config_schema).is_valid(config)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_envelope_check_agrees_with_jsonschema(data):
    definition = simple_flow()
    for _ in range(data.draw(st.integers(1, 3))):
        definition = _mutate(data, definition)
    assert envelope_check()(definition) == envelope_validator().is_valid(definition)


@pytest.mark.parametrize(
    ("schema", "valid", "invalid"),
    [
        ({"enum": [1, "a"]}, [1, 1.0, "a"], [True, "1", None]),
        ({"const": False}, [False], [0, None]),
        ({"type": "integer"}, [3, 3.0], [3.5, True, "3"]),
        ({"type": ["string", "null"]}, ["", None], [0, []]),
        ({"uniqueItems": True}, [[1, True], [1, "1"]], [[1, 1.0], [{"a": 1}, {"a": 1}]]),
        (
            {"prefixItems": [{"type": "string"}], "items": {"type": "integer"}},
            [["a", 1, 2], []],
            [[1], ["a", "b"]],
        ),
        ({"oneOf": [{"minimum": 1}, {"maximum": 5}]}, [0, 6], [3]),
        ({"not": {"type": "string"}}, [1], ["x"]),
    ],
)
def test_keywords(schema, valid, invalid):
    check = compile_schema(schema)
    expected = [(value, True) for value in valid] + [(value, False) for value in invalid]
    for value, is_valid in expected:
        assert check(value) == Draft202012Validator(schema).is_valid(value) == is_valid, value


def test_an_unknown_keyword_is_refused_rather_than_skipped():
    with pytest.raises(Unsupported, match="patternProperties"):
        compile_schema({"type": "object", "patternProperties": {"^x": {"type": "string"}}})
