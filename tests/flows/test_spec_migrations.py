"""Format migrations: one registered function per old format, applied on read."""

import pytest

from flows.spec import validate
from flows.spec.migrations import MIGRATIONS, Migrations, UnknownFormat, known_formats, migrate
from tests.flows.spec_helpers import simple_flow


def _registry() -> Migrations:
    """A registry where callflow/1 was preceded by two made-up formats (for the test only)."""
    registry = Migrations(current="callflow/1")

    @registry.register("callflow/0.1", "callflow/0.2")
    def rename_steps(definition):
        definition["nodes"] = definition.pop("steps")
        return definition

    @registry.register("callflow/0.2", "callflow/1")
    def exits_from_next(definition):
        for node in definition["nodes"]:
            if "next" in node:
                node["exits"] = {"next": node.pop("next")}
        return definition

    return registry


ORIGINAL = {
    "format": "callflow/0.1",
    "slug": "a",
    "name": "A",
    "start": "hi",
    "steps": [
        {"id": "hi", "type": "say", "config": {"text": "Hi"}, "next": "bye"},
        {"id": "bye", "type": "hangup", "config": {}},
    ],
}
MIGRATED = {
    "format": "callflow/1",
    "slug": "a",
    "name": "A",
    "start": "hi",
    "nodes": [
        {"id": "hi", "type": "say", "config": {"text": "Hi"}, "exits": {"next": "bye"}},
        {"id": "bye", "type": "hangup", "config": {}},
    ],
}


def test_migrations_are_applied_in_a_chain_without_touching_the_original():
    registry = _registry()
    original = {**ORIGINAL, "steps": [dict(s) for s in ORIGINAL["steps"]]}
    migrated, applied = registry.migrate(original)
    assert (migrated, applied) == (MIGRATED, ["callflow/0.1", "callflow/0.2"])
    assert original == ORIGINAL
    assert validate(migrated) == []


def test_the_current_format_is_returned_as_it_is():
    definition = simple_flow()
    assert _registry().migrate(definition) == (definition, [])
    assert migrate(definition) is definition


def test_an_unknown_format_names_the_known_ones():
    with pytest.raises(UnknownFormat) as raised:
        _registry().migrate({"format": "callflow/7"})
    assert (
        str(raised.value)
        == "The format 'callflow/7' is not known; known formats: callflow/1, callflow/0.1, callflow/0.2."
    )


def test_a_format_can_be_registered_once():
    registry = _registry()
    with pytest.raises(ValueError, match="already registered"):
        registry.register("callflow/0.1", "callflow/1")(lambda d: d)
    with pytest.raises(ValueError, match="is the current format"):
        registry.register("callflow/1", "callflow/2")(lambda d: d)


def test_callflow_1_is_the_first_format():
    assert known_formats() == ["callflow/1"] and MIGRATIONS.steps == {}
