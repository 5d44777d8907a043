"""Node types: every docstring example is valid, the registry refuses duplicates."""

import pytest

from flows import nodes
from flows.nodes.base import NodeType
from flows.spec import validate
from flows.spec.schema import config_validator, format_validator

ALL = sorted(nodes.all_types())


def test_the_fourteen_types_of_the_spec_are_registered():
    assert set(ALL) >= {
        "say",
        "menu",
        "time_of_day",
        "authenticate",
        "route",
        "sms",
        "self_service",
        "callback",
        "voicemail",
        "branch",
        "set",
        "http",
        "subflow",
        "hangup",
    }


def _alone(example: dict) -> dict:
    """The example node in a flow of its own, its exits pointing at stub hang-ups."""
    targets = sorted({t for t in example.get("exits", {}).values() if t})
    stubs = [
        {"id": t, "type": "hangup", "config": {}, "exits": {}}
        for t in targets
        if t != example["id"]
    ]
    return {
        "format": "callflow/1",
        "slug": "example",
        "name": "Example",
        "start": example["id"],
        "nodes": [example, *stubs],
    }


@pytest.mark.parametrize("name", ALL)
def test_docstring_example_is_valid(name):
    cls = nodes.get(name)
    example = cls.example()
    assert example["type"] == name
    assert config_validator(name).is_valid(example["config"])
    assert cls.check(example["config"]) == []
    definition = _alone(example)
    assert list(format_validator().iter_errors(definition)) == []
    problems = validate(definition, publish=True)
    # alone, an example's templates may read what other nodes of a flow would set
    reads_elsewhere = [p for p in problems if p.severity == "warning" and ".config." in p.path]
    assert [p for p in problems if p not in reads_elsewhere] == []


@pytest.mark.parametrize("name", ALL)
def test_example_exits_are_the_types_exits(name):
    cls = nodes.get(name)
    example = cls.example()
    assert list(example.get("exits", {})) == cls.exits(example["config"])


@pytest.mark.parametrize("name", ALL)
def test_description_is_served(name):
    described = nodes.get(name).describe()
    assert described["type"] == name and described["config_schema"]["type"] == "object"


@pytest.mark.parametrize("name", ALL)
def test_a_node_new_from_the_palette_has_a_valid_config_without_what_is_opt_in(name):
    cls = nodes.get(name)
    config = cls.describe()["new_config"]
    assert config_validator(name).is_valid(config)
    assert not set(cls.opt_in) & set(config)
    assert config == {k: v for k, v in cls.example()["config"].items() if k not in cls.opt_in}


def test_a_new_route_node_texts_nobody_who_hangs_up_until_asked_to():
    route = nodes.get("route").describe()
    assert "on_abandon" in route["example"]["config"]  # the docstring shows it
    assert "on_abandon" not in route["new_config"] and route["new_config"]["target"]


def test_the_registry_refuses_a_type_name_taken_twice():
    class AnotherSay(NodeType):
        type = "say"
        title = "Say again"
        config_schema = {"type": "object"}

    with pytest.raises(ValueError, match="node type 'say' is already registered by Say"):
        nodes.register(AnotherSay)
    assert nodes.get("say").__name__ == "Say"


def test_the_registry_refuses_a_type_without_a_name():
    class Nameless(NodeType):
        title = "?"
        config_schema = {"type": "object"}

    with pytest.raises(ValueError, match="has no `type`"):
        nodes.register(Nameless)


@pytest.mark.parametrize("name", ALL)
def test_the_format_docs_describe_every_type_and_its_exits(name):
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[2] / "docs" / "format.md").read_text()
    row = next((line for line in docs.splitlines() if line.startswith(f"| `{name}` |")), None)
    assert row is not None, f"docs/format.md has no row for {name}"
    cls = nodes.get(name)
    for exit_name in cls.fixed_exits:
        assert f"`{exit_name}`" in row
    for key in cls.config_schema.get("required", []):
        assert f"**`{key}`**" in row


def test_branch_lookup_indexes_lists_by_ascii_digits_only():
    from flows.nodes.branch import lookup

    context = {"vars": {"items": ["a", "b"]}}
    assert lookup(context, "vars.items.1") == "b"
    assert lookup(context, "vars.items.²") is None  # "²".isdigit() is true, int("²") fails
    assert lookup(context, "vars.items.٣") is None
