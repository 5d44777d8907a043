"""The JSON Schema of the callflow/1 format, and the compiled validators behind validate().

Two shapes of the same schema exist:

* `format_schema()` is the published one (GET /api/format/): the whole document, with each
  node type's `config` schema in `$defs` and selected by the node's `type`.
* `envelope_validator()` + `config_validator(type)` are what validate() runs: the document
  without the per-type configs, then each node's config against its own type's validator.
  Splitting keeps error paths short and lets an unknown type get a sentence of its own
  instead of fifteen failed `if/then` branches. Both are compiled once per process.
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


@cache
def format_schema() -> dict[str, Any]:
    """The published JSON Schema of a whole callflow/1 document (treat it as read-only)."""
    types = nodes.all_types()
    node = _node_schema({"enum": list(types)})
    node["allOf"] = [
        {
            "if": {"properties": {"type": {"const": name}}, "required": ["type"]},
            # a missing config is read as {}: required only when {} would not do
            "then": {
                "properties": {"config": {"$ref": f"#/$defs/config_{name}"}},
                **({"required": ["config"]} if not config_validator(name).is_valid({}) else {}),
            },
        }
        for name in types
    ]
    schema = _document_schema({"$ref": "#/$defs/node"})
    schema["$id"] = SCHEMA_ID
    schema["title"] = "Callflow flow definition (callflow/1)"
    schema["$defs"] = {"node": node}
    for name, node_type in types.items():
        config = copy.deepcopy(node_type.config_schema)
        config.setdefault("title", node_type.title)
        schema["$defs"][f"config_{name}"] = config
    return schema


@cache
def format_validator() -> Draft202012Validator:
    """A validator of the published schema (for tests and tools; validate() does not use it)."""
    return Draft202012Validator(format_schema())


@cache
def envelope_validator() -> Draft202012Validator:
    """The document and node envelopes; `type` is any string, configs any object."""
    return Draft202012Validator(_document_schema(_node_schema({"type": "string"})))


@cache
def config_validator(node_type: str) -> Draft202012Validator:
    cls = nodes.get(node_type)
    if cls is None:
        raise KeyError(node_type)
    return Draft202012Validator(cls.config_schema)
