"""What every node type declares: its config schema, its exits and a JSON example.

A node type is a subclass of `NodeType` in its own module under `flows/nodes/`, registered
with `@register`. Everything about one type (schema, exits, checks, behaviour) lives in that
module, so adding a type touches that module and its test only.
"""

from __future__ import annotations

import json
import textwrap
from typing import Any, ClassVar


class NodeType:
    #: the `type` value in a callflow/1 node
    type: ClassVar[str]
    #: one sentence for the palette and the docs
    title: ClassVar[str]
    description: ClassVar[str] = ""
    #: JSON Schema of the node's `config` (draft 2020-12)
    config_schema: ClassVar[dict[str, Any]]
    #: exits every node of this type has, in display order
    fixed_exits: ClassVar[tuple[str, ...]] = ()
    #: exits named by the node's config, before the fixed ones: (a list in the config, the
    #: key of each item that names an exit, or None when the items are the names). The
    #: designer reads this rule from /api/node-types/ rather than knowing node types.
    exits_from: ClassVar[tuple[str, str | None] | None] = None
    #: exits that may stay unconnected without a warning (they have a documented default)
    optional_exits: ClassVar[tuple[str, ...]] = ()
    #: True when reaching this node hands control to the caller (Gather, Record, Dial,
    #: Enqueue, Hangup): a cycle through such a node is not an endless loop.
    waits_for_input: ClassVar[bool] = False
    #: True when the call ends here (no exits at all)
    terminal: ClassVar[bool] = False

    @classmethod
    def exits(cls, config: dict[str, Any]) -> list[str]:
        """Exit names of a node with this config: those its config names (`exits_from`),
        then the fixed ones, each once."""
        names: list[str] = []
        if cls.exits_from is not None:
            field, key = cls.exits_from
            items = config.get(field)
            for item in items if isinstance(items, list) else []:
                name = item.get(key) if key is not None and isinstance(item, dict) else item
                if key is None and isinstance(item, dict):
                    name = None
                if name not in (None, "") and str(name) not in names:
                    names.append(str(name))
        return names + [name for name in cls.fixed_exits if name not in names]

    @classmethod
    def required_exits(cls, config: dict[str, Any]) -> list[str]:
        return [name for name in cls.exits(config) if name not in cls.optional_exits]

    @classmethod
    def check(cls, config: dict[str, Any]) -> list[tuple[str, str]]:
        """Checks the schema cannot express: a list of (path inside config, message)."""
        return []

    @classmethod
    def waits(cls, config: dict[str, Any]) -> bool:
        """Whether a node with this config waits for the caller (see `waits_for_input`)."""
        return cls.waits_for_input

    @classmethod
    def example(cls) -> dict[str, Any]:
        """The JSON example in the class docstring, after the line `Example::`."""
        doc = textwrap.dedent(cls.__doc__ or "")
        _, sep, tail = doc.partition("Example::")
        if not sep:
            raise ValueError(f"node type {cls.type!r} has no 'Example::' in its docstring")
        return json.loads(textwrap.dedent(tail).strip())

    @classmethod
    def describe(cls) -> dict[str, Any]:
        """The public description served by /api/node-types/."""
        return {
            "type": cls.type,
            "title": cls.title,
            "description": cls.description,
            "config_schema": cls.config_schema,
            "fixed_exits": list(cls.fixed_exits),
            "optional_exits": list(cls.optional_exits),
            "exits_from": None
            if cls.exits_from is None
            else {"field": cls.exits_from[0], "key": cls.exits_from[1]},
            "dynamic_exits": cls.exits_from is not None
            or cls.exits.__func__ is not NodeType.exits.__func__,  # type: ignore[attr-defined]
            "waits_for_input": cls.waits_for_input,
            "terminal": cls.terminal,
            "example": cls.example(),
        }
