"""The JSON Schema of the callflow/1 format, and the compiled validators behind validate().

Two shapes of the same schema exist:

* `format_schema()` is the published one (GET /api/format/): the whole document, with each
  node type's `config` schema in `$defs` and selected by the node's `type`.
* `envelope_validator()` + `config_validator(type)` are what validate() runs: the document
  without the per-type configs, then each node's config against its own type's validator.
  Splitting keeps error paths short and lets an unknown type get a sentence of its own
  instead of fifteen failed `if/then` branches. Both are compiled once per process (per
  node type: a type registered later, as a test's own, gets its own).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator

from flows import nodes

FORMAT = "callflow/1"
SCHEMA_ID = "https://callflow.dev/schema/callflow-1.json"
SLUG_PATTERN = "^[a-z0-9][a-z0-9-]{0,63}$"
NODE_ID_PATTERN = "^[a-z][a-z0-9_]{0,63}$"
#: exit names: a menu option key ("1", "*", "#", "sales") or a word ("next", "no_input")
EXIT_NAME_PATTERN = "^([0-9*#]{1,4}|[a-z][a-z0-9_]{0,31})$"

_TEXT = {"type": "string", "maxLength": 4000}


def _node_schema(type_schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": NODE_ID_PATTERN},
            "type": type_schema,
            "label": {"type": "string", "maxLength": 200},
            "config": {"type": "object"},
            "exits": {
                "type": "object",
                "propertyNames": {"pattern": EXIT_NAME_PATTERN},
                "additionalProperties": {"type": ["string", "null"]},
            },
            "position": {
                "type": "object",
                "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
                "required": ["x", "y"],
                "additionalProperties": False,
            },
        },
        "required": ["id", "type"],
        "additionalProperties": False,
    }


def _document_schema(node: dict[str, Any]) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "format": {"const": FORMAT},
            "slug": {"type": "string", "pattern": SLUG_PATTERN},
            "name": {"type": "string", "minLength": 1, "maxLength": 200},
            "description": _TEXT,
            "timezone": {"type": "string", "minLength": 1, "maxLength": 64},
            "language": {"type": "string", "pattern": "^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"},
            "voice": {"type": "string", "maxLength": 100},
            "start": {"type": "string", "minLength": 1, "description": "the id of the first node"},
            "subflow": {
                "type": "boolean",
                "description": "meant to run as a sub-flow: an unconnected exit returns to the "
                "calling flow, so it is not reported",
            },
            "fallback": {
                "type": "object",
                "properties": {
                    "node": {
                        "type": "string",
                        "minLength": 1,
                        "description": "the node run when something fails",
                    },
                    "sms": {"type": "string", "maxLength": 1600},
                },
                "additionalProperties": False,
            },
            "nodes": {"type": "array", "minItems": 1, "items": node},
        },
        "required": ["format", "slug", "name", "start", "nodes"],
        "additionalProperties": False,
    }


def format_schema() -> dict[str, Any]:
    """The published JSON Schema of a whole callflow/1 document (treat it as read-only)."""
    return _format_schema(tuple(t.type for t in nodes.all_types().values()), _types_key())


def _types_key() -> tuple[int, ...]:
    """Which classes are registered: a type registered later (a test's own) is another key."""
    return tuple(id(t) for t in nodes.all_types().values())


@cache
def _format_schema(names: tuple[str, ...], key: tuple[int, ...]) -> dict[str, Any]:
    """The schema of a document whose nodes are of the registered types `names` (compiled
    once per set of registered types)."""
    types = [cls for cls in map(nodes.get, names) if cls is not None]
    node = _node_schema({"enum": [t.type for t in types]})
    node["allOf"] = [
        {
            "if": {"properties": {"type": {"const": t.type}}, "required": ["type"]},
            # a missing config is read as {}: required only when {} would not do
            "then": {
                "properties": {"config": {"$ref": f"#/$defs/config_{t.type}"}},
                **({"required": ["config"]} if not config_validator(t.type).is_valid({}) else {}),
            },
        }
        for t in types
    ]
    schema = _document_schema({"$ref": "#/$defs/node"})
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Callflow flow definition (callflow/1)"
    schema["$defs"] = {"node": node}
    for t in types:
        config = copy.deepcopy(t.config_schema)
        config.setdefault("title", t.title)
        schema["$defs"][f"config_{t.type}"] = config
    return schema


def format_validator() -> Draft202012Validator:
    """A validator of the published schema (for tests and tools; validate() does not use it)."""
    return _format_validator(tuple(t.type for t in nodes.all_types().values()), _types_key())


@cache
def _format_validator(names: tuple[str, ...], key: tuple[int, ...]) -> Draft202012Validator:
    return Draft202012Validator(_format_schema(names, key))


@cache
def envelope_validator() -> Draft202012Validator:
    """The document and node envelopes; `type` is any string, configs any object."""
    return Draft202012Validator(_document_schema(_node_schema({"type": "string"})))


def config_validator(node_type: str) -> Draft202012Validator:
    cls = nodes.get(node_type)
    if cls is None:
        raise KeyError(node_type)
    return _config_validator(node_type, id(cls))


@cache
def _config_validator(node_type: str, key: int) -> Draft202012Validator:
    """The validator of a registered type's config (`key`: the id of its class)."""
    cls = nodes.get(node_type)
    assert cls is not None and id(cls) == key
    return Draft202012Validator(cls.config_schema)
