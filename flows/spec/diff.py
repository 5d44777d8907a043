"""What changed between two callflow/1 definitions: nodes, connections and flow settings.

The designer highlights the result on the graph, so nodes are named by id, a node's changes
by field path ("config.prompt", "config.options[1].label", "label", "type") and connections
by (node, exit). Exits are reported under "exits" only, never as a node field, so a rewired
connection shows once. Pure: no database, no Django.
"""

from __future__ import annotations

from typing import Any

#: node keys compared as one field: a moved node shows "position", not "position.x"
_ATOMIC_NODE_KEYS = {"position"}
_NODE_KEYS_REPORTED_ELSEWHERE = {"id", "exits"}


def diff_definitions(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The differences from `old` to `new`; an empty `old` ({}) makes everything added."""
    old_nodes, new_nodes = _nodes_by_id(old), _nodes_by_id(new)
    changed = [
        {"id": node_id, "fields": fields}
        for node_id, node in new_nodes.items()
        if node_id in old_nodes and (fields := _node_fields(old_nodes[node_id], node))
    ]
    return {
        "nodes": {
            "added": [node_id for node_id in new_nodes if node_id not in old_nodes],
            "removed": [node_id for node_id in old_nodes if node_id not in new_nodes],
            "changed": changed,
        },
        "exits": _exit_changes(_connections(old_nodes), _connections(new_nodes)),
        "settings": _settings_changed(old, new),
    }


def _nodes_by_id(definition: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Nodes in definition order; with duplicate ids the first wins, as in the graph."""
    found: dict[str, dict[str, Any]] = {}
    nodes = definition.get("nodes") if isinstance(definition, dict) else None
    for node in nodes if isinstance(nodes, list) else []:
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            found.setdefault(node["id"], node)
    return found


def _node_fields(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    fields: list[str] = []
    for key in _ordered_keys(old, new):
        if key in _NODE_KEYS_REPORTED_ELSEWHERE:
            continue
        if key in _ATOMIC_NODE_KEYS:
            if old.get(key) != new.get(key):
                fields.append(key)
        else:
            fields.extend(_changed_paths(old.get(key, _MISSING), new.get(key, _MISSING), key))
    return fields


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING: Any = _Missing()


def _changed_paths(old: Any, new: Any, path: str) -> list[str]:
    """Leaf paths that differ; lists of equal length are compared item by item."""
    if isinstance(old, dict) and isinstance(new, dict):
        paths: list[str] = []
        for key in _ordered_keys(old, new):
            paths.extend(
                _changed_paths(old.get(key, _MISSING), new.get(key, _MISSING), f"{path}.{key}")
            )
        return paths
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        paths = []
        for index, (old_item, new_item) in enumerate(zip(old, new, strict=True)):
            paths.extend(_changed_paths(old_item, new_item, f"{path}[{index}]"))
        return paths
    if old is _MISSING and new is _MISSING:
        return []
    # `1 == True` and `1 == 1.0` in Python, yet they are different JSON values
    if old == new and type(old) is type(new):
        return []
    return [path]


def _ordered_keys(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Keys of `new` in order, then keys only `old` has: stable, readable output."""
    return list(new) + [key for key in old if key not in new]


def _connections(nodes: dict[str, dict[str, Any]]) -> dict[tuple[str, str], str]:
    """(node, exit) -> target for connected exits; an exit set to null is no connection."""
    connections: dict[tuple[str, str], str] = {}
    for node_id, node in nodes.items():
        exits = node.get("exits")
        for name, target in (exits if isinstance(exits, dict) else {}).items():
            if isinstance(target, str):
                connections[(node_id, name)] = target
    return connections


def _exit_changes(
    old: dict[tuple[str, str], str], new: dict[tuple[str, str], str]
) -> dict[str, list[dict[str, str]]]:
    return {
        "added": [
            {"node": n, "exit": e, "to": to} for (n, e), to in new.items() if (n, e) not in old
        ],
        "removed": [
            {"node": n, "exit": e, "to": to} for (n, e), to in old.items() if (n, e) not in new
        ],
        "changed": [
            {"node": n, "exit": e, "from": old[(n, e)], "to": to}
            for (n, e), to in new.items()
            if (n, e) in old and old[(n, e)] != to
        ],
    }


def _settings_changed(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Top-level keys other than `nodes` whose value differs (added and removed included)."""
    old = old if isinstance(old, dict) else {}
    return [
        key
        for key in _ordered_keys(old, new)
        if key != "nodes" and _changed_paths(old.get(key, _MISSING), new.get(key, _MISSING), key)
    ]
