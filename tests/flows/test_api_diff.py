"""diff_definitions as a table: (old, new) -> the structure /api/flows/{slug}/diff/ serves."""

import copy

import pytest

from flows.spec.diff import diff_definitions

BASE = {
    "format": "callflow/1",
    "slug": "acme",
    "name": "Acme",
    "start": "greeting",
    "nodes": [
        {
            "id": "greeting",
            "type": "say",
            "label": "Welcome",
            "config": {"text": "Hello"},
            "exits": {"next": "menu"},
            "position": {"x": 0, "y": 0},
        },
        {
            "id": "menu",
            "type": "menu",
            "config": {"prompt": "Press 1", "options": [{"key": "1", "label": "Sales"}]},
            "exits": {"1": "bye", "no_input": "bye", "no_match": None},
        },
        {"id": "bye", "type": "hangup", "config": {}},
    ],
}

NOTHING = {
    "nodes": {"added": [], "removed": [], "changed": []},
    "exits": {"added": [], "removed": [], "changed": []},
    "settings": [],
}


def changed(edit) -> dict:
    new = copy.deepcopy(BASE)
    edit(new)
    return new


def node(definition, node_id):
    return next(n for n in definition["nodes"] if n["id"] == node_id)


def expect(**parts) -> dict:
    result = copy.deepcopy(NOTHING)
    for key, value in parts.items():
        group, _, sub = key.partition("_")
        if sub:
            result[group][sub] = value
        else:
            result[group] = value
    return result


def _add_node(d):
    d["nodes"].append({"id": "extra", "type": "hangup", "config": {}, "exits": {}})
    node(d, "menu")["exits"]["no_match"] = "extra"


def _remove_node(d):
    d["nodes"] = [n for n in d["nodes"] if n["id"] != "bye"]
    node(d, "menu")["exits"] = {"1": None, "no_input": None, "no_match": None}


CASES = [
    ("identical", lambda d: None, expect()),
    ("key order does not matter", lambda d: d.update(dict(reversed(list(d.items())))), expect()),
    (
        "config text",
        lambda d: node(d, "greeting")["config"].update(text="Hi"),
        expect(nodes_changed=[{"id": "greeting", "fields": ["config.text"]}]),
    ),
    (
        "label and position",
        lambda d: node(d, "greeting").update(label="Hi", position={"x": 5, "y": 0}),
        expect(nodes_changed=[{"id": "greeting", "fields": ["label", "position"]}]),
    ),
    (
        "label removed",
        lambda d: node(d, "greeting").pop("label"),
        expect(nodes_changed=[{"id": "greeting", "fields": ["label"]}]),
    ),
    (
        "config key added",
        lambda d: node(d, "greeting")["config"].update(loop=2),
        expect(nodes_changed=[{"id": "greeting", "fields": ["config.loop"]}]),
    ),
    (
        "list item field",
        lambda d: node(d, "menu")["config"]["options"][0].update(label="Buy"),
        expect(nodes_changed=[{"id": "menu", "fields": ["config.options[0].label"]}]),
    ),
    (
        "list grows: the list is the field",
        lambda d: node(d, "menu")["config"]["options"].append({"key": "2"}),
        expect(nodes_changed=[{"id": "menu", "fields": ["config.options"]}]),
    ),
    (
        "type changed",
        lambda d: node(d, "bye").update(type="voicemail"),
        expect(nodes_changed=[{"id": "bye", "fields": ["type"]}]),
    ),
    (
        "true is not 1",
        lambda d: node(d, "greeting")["config"].update(text=True),
        expect(nodes_changed=[{"id": "greeting", "fields": ["config.text"]}]),
    ),
    (
        "exit rewired is an exit change, not a node field",
        lambda d: node(d, "menu")["exits"].update({"1": "greeting"}),
        expect(exits_changed=[{"node": "menu", "exit": "1", "from": "bye", "to": "greeting"}]),
    ),
    (
        "exit connected",
        lambda d: node(d, "menu")["exits"].update(no_match="bye"),
        expect(exits_added=[{"node": "menu", "exit": "no_match", "to": "bye"}]),
    ),
    (
        "exit disconnected (null)",
        lambda d: node(d, "greeting")["exits"].update(next=None),
        expect(exits_removed=[{"node": "greeting", "exit": "next", "to": "menu"}]),
    ),
    (
        "exit key dropped",
        lambda d: node(d, "greeting").pop("exits"),
        expect(exits_removed=[{"node": "greeting", "exit": "next", "to": "menu"}]),
    ),
    (
        "node added and wired",
        _add_node,
        expect(
            nodes_added=["extra"], exits_added=[{"node": "menu", "exit": "no_match", "to": "extra"}]
        ),
    ),
    (
        "node removed with its connections",
        _remove_node,
        expect(
            nodes_removed=["bye"],
            exits_removed=[
                {"node": "menu", "exit": "1", "to": "bye"},
                {"node": "menu", "exit": "no_input", "to": "bye"},
            ],
        ),
    ),
    (
        "settings",
        lambda d: d.update(name="Acme 2", start="menu", fallback={"node": "bye"}),
        expect(settings=["name", "start", "fallback"], exits_added=[]),
    ),
    ("setting removed", lambda d: d.pop("name"), expect(settings=["name"])),
    ("node order alone is no change", lambda d: d["nodes"].reverse(), expect()),
]


@pytest.mark.parametrize(("edit", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_diff_table(edit, expected):
    assert diff_definitions(BASE, changed(edit)) == expected


def test_diff_is_symmetric_for_added_and_removed():
    new = changed(_add_node)
    back = diff_definitions(new, BASE)
    assert back["nodes"] == {"added": [], "removed": ["extra"], "changed": []}
    assert back["exits"]["removed"] == [{"node": "menu", "exit": "no_match", "to": "extra"}]


def test_against_nothing_everything_is_added():
    result = diff_definitions({}, BASE)
    assert result["nodes"]["added"] == ["greeting", "menu", "bye"]
    assert result["settings"] == ["format", "slug", "name", "start"]
    assert {"node": "greeting", "exit": "next", "to": "menu"} in result["exits"]["added"]
    assert len(result["exits"]["added"]) == 3  # the menu's null no_match is not a connection


def test_duplicate_ids_first_wins_and_garbage_nodes_are_ignored():
    new = changed(
        lambda d: d["nodes"].extend(
            [{"id": "bye", "type": "say", "config": {"text": "x"}}, "not a node", {"type": "say"}]
        )
    )
    assert diff_definitions(BASE, new) == NOTHING
