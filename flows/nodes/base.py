"""What every node type declares and does: its config schema, its exits, a JSON example,
and how it runs on a call and in a text conversation.

A node type is a subclass of `NodeType` in its own module under `flows/nodes/`, registered
with `@register`. Everything about one type (schema, exits, checks, behaviour) lives in that
module, so adding a type touches that module and its test only: the engine, the SMS
channel, the validator and the designer only ever call the methods declared here.

The runtime protocol (the vocabulary is in `flows.nodes.runtime`):

- `enter(run, node) -> Result`: the call arrives at the node (every runnable type
  overrides it);
- `resume(run, node, event) -> Result`: the caller answered the node's wait, or a request
  it made was answered (default: the event is unexpected, the call runs the fallback);
- `on_hangup(run, node)`: the caller hung up while at the node (default: nothing);
- `text_reply(config, text) -> Event`: how a text message answers the node's wait in a
  text conversation (default: keys when the text is only keys, else words);
- `text_options(config) -> list[str]`: lines a text conversation adds after the node's
  prompt (default: none);
- `silent_seconds(config, waiting) -> int`: how long the provider may keep a call waiting
  at the node without a webhook, on top of the runtime's limit (default: 0).
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Mapping
from typing import Any, ClassVar

from .runtime import Event, NodeFailure, Result, Run, WaitKind, text_digits

#: a node of a definition: {"id", "type", "config", "exits", ...}
Node = dict[str, Any]
#: a node's `config`
Config = dict[str, Any]


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
    #: an exit left unconnected is taken as this other exit ({"holiday": "closed"})
    exit_defaults: ClassVar[Mapping[str, str]] = {}
    #: the designer's colour and short glyph for the type (plain text, no icon font)
    color: ClassVar[str] = "#666"
    icon: ClassVar[str] = "?"
    #: the one-line summary the designer shows under a node's label: templates of its
    #: config, the first whose references are all there wins (the syntax is described in
    #: designer_ui/frontend/src/summary.js: {path}, {path:40}, {path|default}, {#path},
    #: {?path}, {?path=word}, {low|1..high|20}, [optional part])
    summary: ClassVar[tuple[str, ...]] = ()
    #: config keys of the docstring example a node new from the palette leaves out: what
    #: acts on callers (texts them, say) only when a supervisor asks for it
    opt_in: ClassVar[tuple[str, ...]] = ()

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

    # --- runtime ------------------------------------------------------------------------------
    @classmethod
    def enter(cls, run: Run, node: Node) -> Result:
        """The call arrives at the node: emit commands (`run.emit`), return where to go."""
        raise NodeFailure(f"node {node.get('id')!r} has a type that cannot run ({cls.type!r})")

    @classmethod
    def resume(cls, run: Run, node: Node, event: Event) -> Result:
        """The caller answered the node's wait, or its request (`Need`) was answered."""
        raise NodeFailure(f"node {node.get('id')!r} ({cls.type}) cannot take {event.kind!r}")

    @classmethod
    def on_hangup(cls, run: Run, node: Node) -> None:
        """The caller hung up at the node: undo what it holds (`run.effect`)."""

    @classmethod
    def text_reply(cls, config: Config, text: str) -> Event:
        """The event a text message stands for when a text conversation waits at the node:
        keys when it is only keys (spaces and dashes aside), else words."""
        digits = text_digits(text)
        return Event(kind="input", digits=digits, speech="" if digits else text, confidence=1.0)

    @classmethod
    def text_options(cls, config: Config) -> list[str]:
        """Lines a text conversation shows after the node's prompt while it waits there."""
        return []

    @classmethod
    def silent_seconds(cls, config: Config, waiting: WaitKind) -> int:
        """How long the provider may keep a call waiting here (`waiting`) without posting
        a webhook, beyond the runtime's limit for a silent call."""
        return 0

    @classmethod
    def example(cls) -> dict[str, Any]:
        """The JSON example in the class docstring, after the line `Example::`."""
        doc = textwrap.dedent(cls.__doc__ or "")
        _, sep, tail = doc.partition("Example::")
        if not sep:
            raise ValueError(f"node type {cls.type!r} has no 'Example::' in its docstring")
        example: dict[str, Any] = json.loads(textwrap.dedent(tail).strip())
        return example

    @classmethod
    def new_config(cls) -> dict[str, Any]:
        """The config of a node new from the designer's palette: the example's, without the
        `opt_in` keys (what acts on callers only when a supervisor asks for it)."""
        config = dict(cls.example().get("config") or {})
        for key in cls.opt_in:
            config.pop(key, None)
        return config

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
            "style": {"color": cls.color, "icon": cls.icon},
            "summary": list(cls.summary),
            "example": cls.example(),
            "new_config": cls.new_config(),
        }
