"""Checking a Studio export and walking its widgets: names, ids, transitions, notes.

The walk, in `_Converter.run`:

1. the trigger says what runs the flow: an incoming call, a REST request (an outbound
   call), an incoming text (the SMS channel) or a parent flow (a sub-flow); the widgets
   only another trigger path reaches, and those nothing reaches, are left out (noted);
2. each widget becomes a node (widgets.py and its families), a placeholder when callflow
   has no equivalent, or nothing when it does nothing here (its transitions go on to
   where it led: an `alias`);
3. the exits are resolved to node ids; a transition with no `next`, where Studio ends the
   execution, leads to one shared `end` node (a hang-up saying nothing). In a sub-flow it
   stays unconnected: an unconnected exit returns to the calling flow, as in Studio.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .layout import spread
from .liquid import LiquidConverter

#: Studio flows carry no language; `en-US` is what Twilio speaks when none is given.
DEFAULT_LANGUAGE = "en-US"
END_ID = "end"

_ID_CHARS = re.compile(r"[^a-z0-9_]+")
_SLUG_CHARS = re.compile(r"[^a-z0-9-]+")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_KEY = re.compile(r"^[0-9*#]{1,4}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_TEMPLATE = re.compile(r"^\{\{.+\}\}$")

#: trigger events, in the order one is chosen to start the flow
TRIGGER_EVENTS = (
    "incomingCall",
    "incomingRequest",
    "incomingMessage",
    "incomingConversationMessage",
    "incomingParent",
)
#: what each trigger event makes of the flow
RUNS_AS = {
    "incomingCall": "calls",
    "incomingRequest": "outbound calls (POST /api/flows/<slug>/calls/)",
    "incomingMessage": "text conversations (the SMS channel)",
    "incomingConversationMessage": "text conversations (the SMS channel)",
    "incomingParent": "a sub-flow of other flows",
}


class StudioExportError(ValueError):
    """The Studio export is broken: `path` says where."""

    def __init__(self, message: str, path: str = "$"):
        self.message = message
        self.path = path
        super().__init__(message)


@dataclass(frozen=True)
class StudioConversion:
    definition: dict[str, Any]
    #: one sentence per widget that was not (or not exactly) converted, and what to do
    notes: list[str] = field(default_factory=list)


def is_studio_export(data: dict[str, Any]) -> bool:
    """A Studio flow definition (`states`, `initial_state`, `flags`), bare or wrapped in
    the Flow resource as `definition` (what the Studio REST API and console export).
    A callflow document always has `format`, a Studio one never does."""
    if "format" in data:
        return False
    if "states" in data or "initial_state" in data:
        return True
    inner = data.get("definition")
    return isinstance(inner, dict) and ("states" in inner or "initial_state" in inner)


# --- names ------------------------------------------------------------------------------


def _slug(stem: str) -> str:
    slug = _SLUG_CHARS.sub("-", stem.lower()).strip("-")[:64].strip("-")
    return slug or "studio-flow"


def _node_id(name: str, taken: set[str]) -> str:
    base = _ID_CHARS.sub("_", name.lower()).strip("_") or "widget"
    if not base[0].isalpha():
        base = f"w_{base}"
    base = base[:60]
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _exit_name(text: str, taken: set[str]) -> str:
    """A Studio event or condition name as an exit name: `callCompleted` -> call_completed."""
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", text)
    base = _ID_CHARS.sub("_", text.lower()).strip("_")[:28] or "match"
    if not base[0].isalpha():
        base = f"if_{base}"[:28]
    candidate, n = base, 2
    while candidate in taken or candidate == "else":
        candidate, n = f"{base}_{n}", n + 1
    taken.add(candidate)
    return candidate


# --- checking the export ------------------------------------------------------------------


@dataclass
class _Widget:
    index: int
    name: str
    type: str
    props: dict[str, Any]
    #: event -> the name of the widget it leads to
    next: dict[str, str]
    #: the `match` transitions of a split, in order: (conditions, next or None)
    matches: list[tuple[list[dict[str, Any]], str | None]]
    #: every event of the widget, in order (those without `next` too)
    events: list[str] = field(default_factory=list)
    path: str = "$"

    def where(self) -> str:
        return f"widget {self.name!r} ({self.type})"

    def text(self, key: str, default: str = "") -> str:
        """A property as text; StudioExportError (with its JSON path) when it is no text."""
        value = self.props.get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, str | int | float):
            return str(value)
        raise StudioExportError(
            f"Widget {self.name!r}: `{key}` should be text, not {_kind(value)}.",
            f"{self.path}.properties.{key}",
        )

    def number(self, key: str, default: int, lowest: int, highest: int) -> int:
        """A Studio number (often written as text) within callflow's limits."""
        text = self.text(key).strip()
        if not text:
            return default
        try:
            number = int(float(text))
        except (ValueError, OverflowError):
            raise StudioExportError(
                f"Widget {self.name!r}: `{key}` should be a number, not {text[:40]!r}.",
                f"{self.path}.properties.{key}",
            ) from None
        return min(max(number, lowest), highest)

    def items(self, key: str) -> list[dict[str, Any]]:
        """A list of objects (`parameters`, `variables`); StudioExportError when it is not."""
        value = self.props.get(key)
        if value in (None, ""):
            return []
        if not isinstance(value, list):
            raise StudioExportError(
                f"Widget {self.name!r}: `{key}` should be a list, not {_kind(value)}.",
                f"{self.path}.properties.{key}",
            )
        for i, item in enumerate(value):
            if not isinstance(item, dict) or not isinstance(item.get("key", ""), str):
                raise StudioExportError(
                    f"Widget {self.name!r}: each of `{key}` should be an object with a text `key`.",
                    f"{self.path}.properties.{key}[{i}]",
                )
        return value


def _kind(value: Any) -> str:
    kinds: dict[type, str] = {dict: "an object", list: "a list"}
    return kinds.get(type(value), type(value).__name__)


def _checked_states(states: list[Any], base: str) -> list[_Widget]:
    widgets = [_checked_widget(state, f"{base}.states[{i}]", i) for i, state in enumerate(states)]
    names: list[str] = []
    for w in widgets:
        names.append(w.name)
        if names.count(w.name) > 1:
            raise StudioExportError(f"Two widgets are named {w.name!r}.", f"{w.path}.name")
    for w in widgets:
        targets = [*w.next.items(), *(("match", t) for _, t in w.matches if t)]
        for event, target in targets:
            if target not in names:
                raise StudioExportError(
                    f"Widget {w.name!r} has a transition ({event}) to {target!r}, "
                    "which is not a widget of this flow.",
                    f"{w.path}.transitions",
                )
    return widgets


def _checked_widget(state: Any, path: str, index: int) -> _Widget:
    if not isinstance(state, dict):
        raise StudioExportError(f"A widget should be an object, not {_kind(state)}.", path)
    if not isinstance(state.get("name"), str) or not state["name"]:
        raise StudioExportError("A widget without a name.", f"{path}.name")
    name = state["name"]
    if not isinstance(state.get("type"), str) or not state["type"]:
        raise StudioExportError(f"Widget {name!r} has no type.", f"{path}.type")
    props = state.get("properties", {})
    if props is None:
        props = {}
    if not isinstance(props, dict):
        raise StudioExportError(
            f"Widget {name!r}: `properties` should be an object, not {_kind(props)}.",
            f"{path}.properties",
        )
    widget = _Widget(index, name, state["type"], props, {}, [], path=path)
    transitions = state.get("transitions") or []
    if not isinstance(transitions, list):
        raise StudioExportError(
            f"Widget {name!r}: `transitions` is not a list.", f"{path}.transitions"
        )
    for i, t in enumerate(transitions):
        where = f"{path}.transitions[{i}]"
        if not isinstance(t, dict) or not isinstance(t.get("event"), str):
            raise StudioExportError(
                f"Widget {name!r}: a transition should be an object with a text `event`.", where
            )
        target = t.get("next")
        if target not in (None, "") and not isinstance(target, str):
            raise StudioExportError(
                f"Widget {name!r}: `next` should be a widget name, not {_kind(target)}.",
                f"{where}.next",
            )
        event = t["event"]
        widget.events.append(event)
        if event == "match":
            conditions = t.get("conditions", [])
            if not isinstance(conditions, list) or not all(isinstance(c, dict) for c in conditions):
                raise StudioExportError(
                    f"Widget {name!r}: `conditions` should be a list of objects.",
                    f"{where}.conditions",
                )
            widget.matches.append((conditions, target or None))
        elif target:
            widget.next[event] = target
    return widget


# --- conversion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _To:
    """An exit leading to a widget, resolved to a node id once every widget is converted."""

    widget: str | None


Convert = Callable[["_Converter", _Widget], None]


class _Converter:
    def __init__(
        self,
        widgets: list[_Widget],
        base: str,
        converters: dict[str, Convert],
        fallback: Convert,
    ):
        self.converters = converters
        self.fallback = fallback
        self.widgets = {w.name: w for w in widgets}
        self.base = base
        taken: set[str] = {END_ID}
        self.ids = {w.name: _node_id(w.name, taken) for w in widgets}
        self.taken = taken
        #: widget name -> the node a transition into it reaches
        self.entry: dict[str, str] = {}
        #: widget name -> the widget a transition into it goes on to (None: the end)
        self.alias: dict[str, str | None] = {}
        self.nodes: list[dict[str, Any]] = []
        self.notes: list[str] = []
        #: splits a menu took over, with the gather that took each
        self.absorbed: dict[str, str] = {}
        #: what the flow runs as: the chosen trigger event
        self.runs_as = "incomingCall"
        self.exact: list[str] = []

    def run(self) -> str:
        """Convert every widget the flow runs; the id of the node it starts at."""
        from .gathers import menu_split  # the gather family knows which splits it takes over

        trigger = self.trigger()
        start = self.choose_start(trigger)
        kept = self.reach([start])
        for widget in self.widgets.values():
            if widget.type == "gather-input-on-call" and widget.name in kept:
                split = menu_split(self, widget)
                if split is not None:
                    self.absorbed.setdefault(split.name, widget.name)
        for widget in self.widgets.values():
            if widget is trigger:
                continue
            if widget.name not in kept:
                self.note(widget, "was left out: nothing leads to it on this flow's trigger path.")
            elif widget.name not in self.absorbed or self.shared_split(widget):
                self.convert(widget)
        entry = self.follow(start)
        if entry is None:
            raise StudioExportError(
                f"The flow starts at {self.widgets[start].where()}, which leads nowhere "
                "here: there is nothing to run.",
                f"{trigger.path}.transitions",
            )
        self.resolve()
        if self.exact:
            self.notes.insert(0, f"converted exactly: {', '.join(self.exact)}.")
        spread(self.nodes)
        return entry

    # --- the trigger ----------------------------------------------------------------------

    def trigger(self) -> _Widget:
        triggers = [w for w in self.widgets.values() if w.type == "trigger"]
        if not triggers:
            raise StudioExportError(
                "The Studio export has no trigger widget.", f"{self.base}.states"
            )
        return triggers[0]

    def choose_start(self, trigger: _Widget) -> str:
        chosen = next((e for e in TRIGGER_EVENTS if e in trigger.next), None)
        if chosen is None:
            raise StudioExportError(
                f"The trigger widget {trigger.name!r} leads nowhere: no incoming call, "
                "message, REST request or parent flow starts anything.",
                f"{trigger.path}.transitions",
            )
        self.runs_as = chosen
        start = trigger.next[chosen]
        if chosen != "incomingCall":
            self.note(trigger, f"the flow runs {RUNS_AS[chosen]} (Studio's {chosen} path).")
        for event, target in trigger.next.items():
            if event != chosen and target != start:
                self.note(
                    trigger,
                    f"its {event} path (to {target!r}) was left out: a callflow flow starts at "
                    f"one node, and this one runs {RUNS_AS[chosen]} from {start!r}. Import "
                    f"that path as a flow of its own if it is needed.",
                )
        return start

    def reach(self, names: list[str]) -> set[str]:
        seen: set[str] = set()
        todo = list(names)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            widget = self.widgets[name]
            todo += [*widget.next.values(), *(t for _, t in widget.matches if t)]
        return seen

    def shared_split(self, split: _Widget) -> bool:
        """A split a menu took over needs a node of its own when another widget leads to it."""
        gather = self.absorbed[split.name]
        return any(
            w.name != gather
            and (split.name in w.next.values() or split.name in (t for _, t in w.matches))
            for w in self.widgets.values()
            if w.type != "trigger"
        )

    # --- widgets --------------------------------------------------------------------------

    def convert(self, widget: _Widget) -> None:
        convert = self.converters.get(widget.type, self.fallback)
        notes, nodes = len(self.notes), len(self.nodes)
        try:
            convert(self, widget)
        except StudioExportError:
            raise
        except (TypeError, ValueError, AttributeError, KeyError, IndexError) as exc:
            raise StudioExportError(
                f"Widget {widget.name!r} ({widget.type}) cannot be read: {exc}.",
                f"{widget.path}.properties",
            ) from None
        if len(self.notes) == notes and len(self.nodes) > nodes:
            types = " + ".join(dict.fromkeys(n["type"] for n in self.nodes[nodes:]))
            self.exact.append(f"{widget.name!r} ({widget.type} -> {types})")

    def note(self, widget: _Widget, what: str) -> None:
        self.notes.append(f"{widget.where()}: {what}")

    def skip_to(self, widget: _Widget, target: str | None, why: str) -> None:
        """The widget does nothing here: a transition into it goes on to `target`."""
        self.alias[widget.name] = target
        self.note(widget, f"became no node: {why}")

    def add(
        self,
        widget: _Widget,
        type_: str,
        config: dict[str, Any],
        exits: dict[str, _To],
        *,
        node_id: str | None = None,
        entry: bool = True,
    ) -> str:
        node_id = node_id or self.ids[widget.name]
        node: dict[str, Any] = {
            "id": node_id,
            "type": type_,
            "label": widget.name,
            "config": config,
            "exits": exits,
        }
        offset = widget.props.get("offset")
        if isinstance(offset, dict) and all(
            isinstance(offset.get(k), int | float) and not isinstance(offset.get(k), bool)
            for k in "xy"
        ):
            node["position"] = {"x": offset["x"], "y": offset["y"]}
        self.nodes.append(node)
        if entry:
            self.entry[widget.name] = node_id
        return node_id

    def to(self, widget: _Widget, *events: str) -> _To:
        """The exit of the first of `events` that leads somewhere."""
        for event in events:
            if event in widget.next:
                return _To(widget.next[event])
        return _To(None)

    # --- exits ----------------------------------------------------------------------------

    def follow(self, name: str | None) -> str | None:
        """The node a transition to widget `name` reaches (None: the end of the flow)."""
        seen: set[str] = set()
        while name is not None and name not in self.entry:
            if name in seen or name not in self.alias:
                return None
            seen.add(name)
            name = self.alias[name]
        return self.entry[name] if name is not None else None

    def resolve(self) -> None:
        ends = False
        for node in self.nodes:
            exits = {}
            for name, to in node["exits"].items():
                target = self.follow(to.widget) if isinstance(to, _To) else to
                if target is None and self.runs_as != "incomingParent":
                    target, ends = END_ID, True
                exits[name] = target
            node["exits"] = exits
        if ends:
            end: dict[str, Any] = {
                "id": END_ID,
                "type": "hangup",
                "label": "End (a Studio transition with no next)",
                "config": {},
                "exits": {},
            }
            placed = [n["position"] for n in self.nodes if "position" in n]
            if placed:  # below the flow: the designer lays out a flow with an unplaced node anew
                left = min(p["x"] for p in placed)
                end["position"] = {"x": left, "y": max(p["y"] for p in placed) + 250}
            self.nodes.append(end)

    # --- templates ------------------------------------------------------------------------

    def template(self, widget: _Widget, text: Any) -> str:
        """Studio's Liquid as a callflow template (liquid.py); what does not map is noted."""
        from .variables import resolver

        if isinstance(text, dict | list):
            raise StudioExportError(
                f"Widget {widget.name!r}: a text should be text, not {_kind(text)}.",
                f"{widget.path}.properties",
            )
        liquid = LiquidConverter(resolver(self))
        converted = liquid.convert("" if text is None else str(text))
        for what in liquid.notes:
            self.note(widget, f"{what}.")
        return converted

    def number_or_template(self, widget: _Widget, text: str) -> str | None:
        """An E.164 number (written with spaces, dashes or brackets too) or a template that
        renders one, else None."""
        text = text.strip()
        if text.startswith("+") and "{" not in text:
            text = re.sub(r"[\s().-]", "", text)
        value = self.template(widget, text)
        return value if _E164.match(value) or _TEMPLATE.match(value) else None
