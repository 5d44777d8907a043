"""Checking a Studio export and walking its widgets: names, ids, transitions, notes."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..conversion import ConversionNote

#: Studio flows carry no language; `en-US` is what Twilio speaks when none is given.
DEFAULT_LANGUAGE = "en-US"

_ID_CHARS = re.compile(r"[^a-z0-9_]+")
_SLUG_CHARS = re.compile(r"[^a-z0-9-]+")
_LIQUID = re.compile(r"\{\{\s*(.*?)\s*\}\}|\{%.*?%\}", re.DOTALL)
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_KEY = re.compile(r"^[0-9*#]{1,4}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

_FIXED_PATHS = {
    "trigger.call.From": "caller.number",
    "trigger.call.Caller": "caller.number",
    "trigger.call.To": "call.to",
    "trigger.call.Called": "call.to",
    "contact.channel.address": "caller.number",
    "flow.channel.address": "call.to",
}
# {{widgets.NAME.FIELD}} -> nodes.ID.<field>
_WIDGET_FIELDS = {
    "Digits": "digits",
    "SpeechResult": "speech",
    "RecordingUrl": "recording_url",
    "RecordingDuration": "duration",
    "parsed": "response",
}
# why widget types with no callflow node are not converted, when there is more to say
_NOT_CONVERTED = {
    "capture-payments": "callflow does not take card payments",
    "run-function": (
        "Twilio Functions do not run here (an http node calling the function's URL is the closest)"
    ),
    "add-twiml-redirect": "callflow does not run TwiML from elsewhere",
    "send-to-flex": (
        "callflow does not hand calls to Flex (a route node to a queue or to agents by skills "
        "is the closest)"
    ),
    "send-and-wait-for-reply": "callflow runs calls, not text conversations",
}
# split-based-on condition type -> branch operator
_OPERATORS = {
    "equal_to": "eq",
    "not_equal_to": "ne",
    "contains": "contains",
    "starts_with": "starts_with",
    "less_than": "lt",
    "greater_than": "gt",
    "is_blank": "empty",
    "is_not_blank": "not_empty",
    "matches_any_of": "in",
    "regex": "matches",
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
    #: one sentence per thing that was not (or not exactly) converted
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

    def where(self) -> str:
        return f"widget {self.name!r} ({self.type})"


def _checked_states(states: list[Any], base: str) -> list[_Widget]:
    widgets: list[_Widget] = []
    for i, state in enumerate(states):
        path = f"{base}.states[{i}]"
        if (
            not isinstance(state, dict)
            or not isinstance(state.get("name"), str)
            or not state["name"]
        ):
            raise StudioExportError("A widget without a name.", f"{path}.name")
        props: dict[str, Any] = (
            state["properties"] if isinstance(state.get("properties"), dict) else {}
        )
        widget = _Widget(i, state["name"], str(state.get("type", "")), props, {}, [])
        transitions = state.get("transitions") or []
        if not isinstance(transitions, list):
            raise StudioExportError(
                f"Widget {widget.name!r}: `transitions` is not a list.", f"{path}.transitions"
            )
        for t in transitions:
            if not isinstance(t, dict):
                continue
            event, target = str(t.get("event", "")), str(t["next"]) if t.get("next") else None
            if event == "match":
                raw = t.get("conditions") if isinstance(t.get("conditions"), list) else []
                conditions = [c for c in raw or [] if isinstance(c, dict)]
                widget.matches.append((conditions, target))
            elif target:
                widget.next[event] = target
        widgets.append(widget)
    names: list[str] = []
    for w in widgets:
        names.append(w.name)
        if names.count(w.name) > 1:
            raise StudioExportError(
                f"Two widgets are named {w.name!r}.", f"{base}.states[{w.index}].name"
            )
    for w in widgets:
        targets = [*w.next.items(), *(("match", t) for _, t in w.matches if t)]
        for event, target in targets:
            if target not in names:
                raise StudioExportError(
                    f"Widget {w.name!r} has a transition ({event}) to {target!r}, "
                    "which is not a widget of this flow.",
                    f"{base}.states[{w.index}].transitions",
                )
    return widgets


# --- conversion ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _To:
    """An exit leading to a widget, resolved to a node id once every widget is converted."""

    widget: str | None


class _Converter:
    def __init__(
        self,
        widgets: list[_Widget],
        base: str,
        converters: dict[str, Callable[[_Converter, _Widget], None]],
    ):
        self.converters = converters
        self.widgets = {w.name: w for w in widgets}
        self.base = base
        taken: set[str] = set()
        self.ids = {w.name: _node_id(w.name, taken) for w in widgets}
        self.taken = taken
        #: widget name -> the node a transition into it reaches
        self.entry: dict[str, str] = {}
        self.nodes: list[dict[str, Any]] = []
        self.notes: list[str] = []
        #: splits a menu took over, with the gather that took each
        self.absorbed: dict[str, str] = {}

    def run(self) -> str:
        """Convert every widget; the id of the node calls start at."""
        triggers = [w for w in self.widgets.values() if w.type == "trigger"]
        if not triggers:
            raise StudioExportError(
                "The Studio export has no trigger widget.", f"{self.base}.states"
            )
        trigger = triggers[0]
        self.set_aside(trigger)
        for widget in self.widgets.values():
            if widget.type != "trigger" and widget.name not in self.absorbed:
                self.convert(widget)
        self.convert_shared_splits()
        for widget in self.widgets.values():
            if self.absorbed.get(widget.name) == trigger.name:
                self.skip(widget, "only the trigger's message or request paths lead to it")
        self.resolve()
        return self.start(trigger)

    def set_aside(self, trigger: _Widget) -> None:
        """Mark the widgets that become no node of their own: those only the trigger's
        message or request paths reach, and the splits a menu takes over."""
        for event, target in trigger.next.items():
            if event != "incomingCall":
                self.notes.append(
                    f"{trigger.where()}: the {event} path (to {target!r}) was not converted: "
                    "callflow runs calls only."
                )
        by_call = self.reach(
            [trigger.next["incomingCall"]] if "incomingCall" in trigger.next else []
        )
        by_others = self.reach([t for e, t in trigger.next.items() if e != "incomingCall"])
        for name in by_others - by_call:
            self.absorbed[name] = trigger.name
        for widget in self.widgets.values():
            split = self.widgets.get(widget.next.get("keypress") or widget.next.get("speech") or "")
            if (
                widget.type == "gather-input-on-call"
                and split is not None
                and split.type == "split-based-on"
                and _menu_options(widget, split) is not None
            ):
                self.absorbed.setdefault(split.name, widget.name)

    def start(self, trigger: _Widget) -> str:
        start = trigger.next.get("incomingCall")
        if start is None:
            raise StudioExportError(
                f"The trigger widget {trigger.name!r} has no incoming call transition: "
                "there is nothing for calls to run.",
                f"{self.base}.states[{trigger.index}].transitions",
            )
        if start not in self.entry:
            first = self.widgets[start]
            why = [n for n in self.notes if n.startswith(first.where())]
            raise StudioExportError(
                f"Calls start at {first.where()}, which could not be converted. " + " ".join(why),
                f"{self.base}.states[{trigger.index}].transitions",
            )
        return self.entry[start]

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

    def convert(self, widget: _Widget) -> None:
        convert = self.converters.get(widget.type)
        if convert is None:
            self.skip(
                widget, _NOT_CONVERTED.get(widget.type, "callflow has no node that does this")
            )
            return
        convert(self, widget)

    def skip(self, widget: _Widget, why: str) -> None:
        what = f"was not converted: {why}; exits leading to it are left unconnected."
        self.notes.append(
            ConversionNote(
                f"{widget.where()} {what}",
                kind="dropped",
                source=widget.name,
                source_type=widget.type,
                message=f"Not converted: {why}; exits leading to it are left unconnected.",
            )
        )

    def note(self, widget: _Widget, what: str) -> None:
        node = self.ids.get(widget.name)
        self.notes.append(
            ConversionNote(
                f"{widget.where()}: {what}",
                node=node,
                source=widget.name,
                source_type=widget.type,
                message=what[:1].upper() + what[1:],
            )
        )

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
        }
        node["exits"] = exits
        offset = widget.props.get("offset")
        if isinstance(offset, dict) and all(isinstance(offset.get(k), int | float) for k in "xy"):
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

    def convert_shared_splits(self) -> None:
        """A split a menu took over needs no node unless another widget also leads to it."""
        for split_name, gather_name in self.absorbed.items():
            if self.widgets[gather_name].type == "trigger":
                continue
            others = [
                w
                for w in self.widgets.values()
                if w.name != gather_name
                and (split_name in w.next.values() or split_name in (t for _, t in w.matches))
            ]
            if others:
                self.convert(self.widgets[split_name])

    def resolve(self) -> None:
        for node in self.nodes:
            node["exits"] = {
                name: (self.entry.get(to.widget) if to.widget else None)
                if isinstance(to, _To)
                else to
                for name, to in node["exits"].items()
            }

    # --- templates ------------------------------------------------------------------------

    def path(self, expression: str) -> str | None:
        """The callflow session path of a Liquid variable, or None when there is none."""
        expression = expression.strip()
        if not _PATH.match(expression):
            return None
        if expression in _FIXED_PATHS:
            return _FIXED_PATHS[expression]
        parts = expression.split(".")
        if parts[:2] == ["flow", "variables"] and len(parts) >= 3:
            return ".".join(["vars", *parts[2:]])
        if parts[0] == "widgets" and len(parts) >= 3 and parts[1] in self.ids:
            field_name = _WIDGET_FIELDS.get(parts[2])
            if field_name is not None and (field_name == "response" or len(parts) == 3):
                return ".".join(["nodes", self.ids[parts[1]], field_name, *parts[3:]])
        return None

    def template(self, widget: _Widget, text: Any) -> str:
        """Liquid variables as callflow templates. A variable callflow does not have is kept
        (it renders as empty text, and the designer shows what it was); filters and tags,
        which would not compile, are left out. Both are noted."""
        text = "" if text is None else str(text)
        kept: list[str] = []
        dropped: list[str] = []

        def replace(match: re.Match[str]) -> str:
            expression = match.group(1)
            path = self.path(expression) if expression is not None else None
            if path is not None:
                return "{{ " + path + " }}"
            if expression is not None and _PATH.match(expression):
                kept.append(match.group(0))
                return match.group(0)
            dropped.append(match.group(0))
            return ""

        converted = _LIQUID.sub(replace, text)
        if kept:
            self.note(
                widget,
                f"{', '.join(kept)} has no callflow equivalent and was kept as it is "
                "(it renders as empty text).",
            )
        if dropped:
            self.note(
                widget,
                f"{', '.join(dropped)} uses Liquid filters or tags, which callflow templates do "
                "not have, and was left out.",
            )
        return converted


def _split_input(w: _Widget) -> str:
    value = w.props.get("input")
    if not value:
        for conditions, _ in w.matches:
            for condition in conditions:
                if isinstance(condition, dict) and condition.get("arguments"):
                    return str(condition["arguments"][0])
    return str(value or "")


def _menu_options(gather: _Widget, split: _Widget) -> tuple[str, list[dict[str, Any]]] | None:
    """(input mode, options) when `split` tests the gather's answer for equality only."""
    expression = _split_input(split).strip()
    field_name = None
    for name in ("Digits", "SpeechResult"):
        if re.fullmatch(
            r"\{\{\s*widgets\." + re.escape(gather.name) + r"\." + name + r"\s*\}\}", expression
        ):
            field_name = name
    if field_name is None or not split.matches:
        return None
    options: list[dict[str, Any]] = []
    keys: set[str] = set()
    for conditions, _ in split.matches:
        if len(conditions) != 1 or conditions[0].get("type") != "equal_to":
            return None
        value = str(conditions[0].get("value", "")).strip()
        if field_name == "Digits":
            if not _KEY.match(value) or value in keys:
                return None
            keys.add(value)
            options.append({"key": value})
        else:
            if not value:
                return None
            key = _exit_name(value, keys)
            options.append({"key": key, "label": value, "speech": [value]})
    return ("dtmf" if field_name == "Digits" else "speech"), options
