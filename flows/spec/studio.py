"""Twilio Studio flow exports: recognised on import and converted to callflow/1.

`convert_studio` is pure: a Studio flow definition (bare, or the REST API's Flow resource
with it under `definition`) in, a callflow/1 definition and the list of what could not be
converted out. Widgets become nodes with the widget's name as label and its offset as
position; a widget that does not convert is listed in the notes and the exits that led to
it stay unconnected. A broken export (no `states`, a transition to a widget that does not
exist) raises `StudioExportError`. The result is validated like any other file.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from .schema import FORMAT

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


def convert_studio(data: dict[str, Any], *, source_name: str) -> StudioConversion:
    """The callflow/1 definition of a Studio export. StudioExportError when it is broken."""
    base = "$"
    outer: dict[str, Any] = {}
    if (
        "states" not in data
        and "initial_state" not in data
        and isinstance(data.get("definition"), dict)
    ):
        outer, data, base = data, data["definition"], "$.definition"
    states = data.get("states")
    if not isinstance(states, list) or not states:
        raise StudioExportError(
            "The Studio export has no widgets: `states` is missing or empty.", f"{base}.states"
        )
    converter = _Converter(_checked_states(states, base), base)
    start = converter.run()
    stem = PurePath(source_name).stem
    name = str(outer.get("friendly_name") or data.get("description") or stem).strip()[:200] or stem
    # a file names the flow; a definition posted to the API has only its own name
    from_file = source_name.lower().endswith(".json")
    definition: dict[str, Any] = {
        "format": FORMAT,
        "slug": _slug(stem if from_file else name),
        "name": name,
    }
    if isinstance(data.get("description"), str) and data["description"].strip():
        definition["description"] = data["description"].strip()
    definition.update(language=DEFAULT_LANGUAGE, start=start, nodes=converter.nodes)
    return StudioConversion(definition, converter.notes)


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
    def __init__(self, widgets: list[_Widget], base: str):
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
        convert = _CONVERTERS.get(widget.type)
        if convert is None:
            self.skip(
                widget, _NOT_CONVERTED.get(widget.type, "callflow has no node that does this")
            )
            return
        convert(self, widget)

    def skip(self, widget: _Widget, why: str) -> None:
        self.notes.append(
            f"{widget.where()} was not converted: {why}; exits leading to it are left unconnected."
        )

    def note(self, widget: _Widget, what: str) -> None:
        self.notes.append(f"{widget.where()}: {what}")

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


# --- one function per widget type -------------------------------------------------------------


def _voice_config(
    c: _Converter, w: _Widget, config: dict[str, Any], language_key: str = "language"
) -> None:
    language = str(w.props.get(language_key) or "").replace("_", "-")
    if language and _LANGUAGE.match(language):
        config["language"] = language
    elif language:
        c.note(w, f"the language {language!r} is not a BCP-47 tag and was left out.")
    if w.props.get("voice"):
        config["voice"] = str(w.props["voice"])[:100]


def _int(value: Any, default: int, lowest: int, highest: int) -> int:
    """A Studio number (often a string) within callflow's limits."""
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        number = default
    return min(max(number, lowest), highest)


def _say_play(c: _Converter, w: _Widget) -> None:
    config: dict[str, Any] = {}
    if w.props.get("say"):
        config["text"] = c.template(w, w.props["say"])
    elif w.props.get("play"):
        config["audio_url"] = c.template(w, w.props["play"])
    else:
        c.skip(w, "it says nothing (only `say` text and `play` audio convert; `digits` do not)")
        return
    _voice_config(c, w, config)
    if w.props.get("loop") not in (None, "", 1):
        config["loop"] = _int(w.props["loop"], 1, 1, 10)
    c.add(w, "say", config, {"next": c.to(w, "audioComplete")})


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


def _gather(c: _Converter, w: _Widget) -> None:
    found = _gather_menu(c, w)
    if found is None:
        c.skip(
            w,
            "it collects free input (several digits or speech) that no split tests for fixed "
            "answers, and a callflow menu needs its options",
        )
        return
    config, exits = found
    if w.props.get("hints") and config["input"] != "dtmf":
        c.note(w, "its speech `hints` were not converted (the options' words are the hints).")
    _voice_config(c, w, config, "gather_language" if config["input"] == "speech" else "language")
    if w.props.get("say") or not w.props.get("play"):
        config["prompt"] = c.template(w, w.props.get("say"))
        c.add(w, "menu", config, exits)
        return
    # a menu prompt is text: an audio prompt plays just before the menu
    prompt_id = _node_id(f"{c.ids[w.name]}_prompt", c.taken)
    audio = {"audio_url": c.template(w, w.props["play"])}
    c.add(w, "say", audio, {"next": _To(None)}, node_id=prompt_id)
    prompt = c.nodes[-1]
    prompt["exits"]["next"] = c.add(w, "menu", config, exits, entry=False)


def _gather_menu(c: _Converter, w: _Widget) -> tuple[dict[str, Any], dict[str, _To]] | None:
    """The menu's config and exits: the options of the split it took over, else every key
    for a one-digit gather; None when a menu cannot take the gather's input."""
    split = c.widgets.get(w.next.get("keypress") or w.next.get("speech") or "")
    found = _menu_options(w, split) if split and c.absorbed.get(split.name) == w.name else None
    config: dict[str, Any] = {
        "prompt": "",
        "timeout": _int(w.props.get("timeout"), 5, 1, 60),
        "retries": 0,
    }
    exits: dict[str, _To] = {"no_input": c.to(w, "timeout")}
    if found is not None and split is not None:
        mode, options = found
        config.update(input=mode, options=options)
        for option, (_, target) in zip(options, split.matches, strict=True):
            exits[option["key"]] = _To(target)
        exits["no_match"] = c.to(split, "noMatch")
        other = "speech" if mode == "dtmf" else "keypress"
    elif str(w.props.get("number_of_digits") or "") == "1" and "keypress" in w.next:
        # any single key continues, as in Studio; later widgets read nodes.ID.digits
        keys = [*"0123456789", "*", "#"]
        config.update(input="dtmf", options=[{"key": k} for k in keys])
        exits.update({k: c.to(w, "keypress") for k in keys})
        exits["no_match"] = c.to(w, "keypress")
        mode, other = "dtmf", "speech"
    else:
        return None
    if w.next.get(other) and w.next.get(other) != (split.name if found and split else None):
        c.note(
            w,
            f"its {other} path (to {w.next[other]!r}) was not converted: the menu takes {mode} only.",
        )
    return config, exits


def _rule(
    c: _Converter, w: _Widget, var: str, condition: dict[str, Any], exit_name: str
) -> dict[str, Any] | None:
    op = _OPERATORS.get(str(condition.get("type")))
    if op is None:
        return None
    rule: dict[str, Any] = {"exit": exit_name, "var": var, "op": op}
    value = condition.get("value")
    if op == "in":
        rule["value"] = [v.strip() for v in str(value or "").split(",") if v.strip()]
    elif op not in ("empty", "not_empty"):
        rule["value"] = c.template(w, value)
    return rule


def _split(c: _Converter, w: _Widget) -> None:
    expression = _split_input(w).strip()
    inner = re.fullmatch(r"\{\{\s*(.*?)\s*\}\}", expression)
    var = c.path(inner.group(1)) if inner else None
    if var is None:
        c.skip(w, f"it tests {expression!r}, which is not a value callflow has")
        return
    rules: list[dict[str, Any]] = []
    exits: dict[str, _To] = {}
    names: set[str] = set()
    for conditions, target in w.matches:
        if len(conditions) != 1 or not isinstance(conditions[0], dict):
            c.note(
                w,
                f"a transition with {len(conditions)} conditions (to {target!r}) was not converted.",
            )
            continue
        condition = conditions[0]
        label = str(
            condition.get("friendly_name")
            or f"{condition.get('type')} {condition.get('value', '')}"
        )
        rule = _rule(c, w, var, condition, _exit_name(label, names))
        if rule is None:
            c.note(w, f"the condition {condition.get('type')!r} (to {target!r}) was not converted.")
            continue
        rules.append(rule)
        exits[rule["exit"]] = _To(target)
    if not rules:
        c.skip(w, "none of its conditions converts")
        return
    exits["else"] = c.to(w, "noMatch")
    c.add(w, "branch", {"rules": rules}, exits)


def _connect_call(c: _Converter, w: _Widget) -> None:
    noun = str(w.props.get("noun") or "number")
    to = str(w.props.get("to") or w.props.get("sip_endpoint") or "").strip()
    if noun == "number-multi" and "," in to:
        c.note(w, f"dials only the first of the numbers {to!r}.")
        to = to.split(",")[0].strip()
    if noun in ("number", "number-multi"):
        to = c.template(w, to)
        if not (_E164.match(to) or re.fullmatch(r"\{\{.+\}\}", to)):
            c.skip(w, f"{to!r} is not an E.164 number")
            return
        target = {"number": to}
    elif noun == "sip" and to.startswith(("sip:", "sips:")):
        target = {"sip": c.template(w, to)}
    else:
        c.skip(
            w, f"connecting to a {noun} is not supported (numbers, SIP addresses and queues are)"
        )
        return
    config: dict[str, Any] = {"target": target}
    if w.props.get("timeout"):
        config["timeout"] = _int(w.props["timeout"], 30, 5, 600)
    caller_id = c.template(w, w.props.get("caller_id") or "")
    if _E164.match(caller_id) or re.fullmatch(r"\{\{.+\}\}", caller_id):
        config["caller_id"] = caller_id
    # Studio takes callCompleted however the dialled call ended
    done = c.to(w, "callCompleted", "hangup")
    if w.next.get("hangup") and w.next.get("hangup") != w.next.get("callCompleted"):
        c.note(
            w,
            f"its hangup path (to {w.next['hangup']!r}) was not converted: a call ends when the caller hangs up.",
        )
    c.add(w, "route", config, {"connected": done, "unavailable": done, "timeout": done})


def _enqueue(c: _Converter, w: _Widget) -> None:
    queue = re.sub(r"[^A-Za-z0-9_ -]+", "_", str(w.props.get("queue_name") or "")).strip()[:64]
    if not queue:
        c.skip(w, "it names no queue (TaskRouter workflows are not supported)")
        return
    if w.props.get("wait_url"):
        c.note(w, "its wait_url (TwiML) was not converted; callers hear the default hold music.")
    failed = c.to(w, "failedToEnqueue", "callFailure")
    exits = {"connected": c.to(w, "callComplete"), "unavailable": failed, "timeout": failed}
    c.add(w, "route", {"target": {"queue": queue}}, exits)


def _record_voicemail(c: _Converter, w: _Widget) -> None:
    config: dict[str, Any] = {"prompt": ""}
    if w.props.get("max_length"):
        config["max_length"] = _int(w.props["max_length"], 120, 5, 3600)
    if str(w.props.get("transcribe")).lower() == "true":
        config["transcribe"] = True
    key = str(w.props.get("finish_on_key") or "")
    if re.fullmatch(r"[0-9*#]", key):
        config["finish_on_key"] = key
    if w.next.get("hangup") and w.next.get("hangup") != w.next.get("recordingComplete"):
        c.note(
            w,
            f"its hangup path (to {w.next['hangup']!r}) was not converted: a call ends when the caller hangs up.",
        )
    exits = {"recorded": c.to(w, "recordingComplete"), "empty": c.to(w, "noAudio")}
    c.add(w, "voicemail", config, exits)


def _http_request(c: _Converter, w: _Widget) -> None:
    url = c.template(w, w.props.get("url") or "")
    if not url.startswith(("http://", "https://", "{{")):
        c.skip(w, f"{url!r} is not an http(s) URL")
        return
    method = str(w.props.get("method") or "GET").upper()
    config: dict[str, Any] = {
        "url": url,
        "method": method if method in ("GET", "POST", "PUT", "PATCH", "DELETE") else "GET",
    }
    parameters = {
        str(p["key"]): c.template(w, p.get("value"))
        for p in w.props.get("parameters") or []
        if isinstance(p, dict) and p.get("key")
    }
    if parameters and config["method"] == "GET":
        query = "&".join(f"{k}={v}" for k, v in parameters.items())
        config["url"] = f"{url}{'&' if '?' in url else '?'}{query}"
    elif parameters:
        config["body"] = parameters
        c.note(w, "its parameters are sent as a JSON body, not form-encoded.")
    elif w.props.get("body"):
        config["body"] = c.template(w, w.props["body"])
        if w.props.get("content_type"):
            config["headers"] = {"Content-Type": str(w.props["content_type"])}
    c.add(w, "http", config, {"success": c.to(w, "success"), "failure": c.to(w, "failed")})


def _set_variables(c: _Converter, w: _Widget) -> None:
    values: dict[str, str] = {}
    for item in w.props.get("variables") or []:
        if not isinstance(item, dict) or not item.get("key"):
            continue
        key = str(item["key"])
        if not _VAR_NAME.match(key):
            c.note(
                w, f"the variable {key!r} is not a valid callflow variable name and was left out."
            )
            continue
        values[key] = c.template(w, item.get("value"))
    if not values:
        c.skip(w, "it sets no variable")
        return
    c.add(w, "set", {"vars": values}, {"next": c.to(w, "next")})


def _send_message(c: _Converter, w: _Widget) -> None:
    body = c.template(w, w.props.get("body") or "")
    if not body.strip():
        c.skip(w, "its message is empty")
        return
    config: dict[str, Any] = {"body": body[:1600]}
    to = c.template(w, w.props.get("to") or "")
    if to and to != "{{ caller.number }}":
        if not (_E164.match(to) or re.fullmatch(r"\{\{.+\}\}", to)):
            c.skip(w, f"{to!r} is not an E.164 number")
            return
        config["to"] = to
    ignored = []
    sender = str(w.props.get("from") or "").replace(" ", "")
    if sender and sender != "{{flow.channel.address}}":
        ignored.append(f"`from` ({sender})")
    if w.next.get("failed") and w.next.get("failed") != w.next.get("sent"):
        ignored.append(f"the failed path (to {w.next['failed']!r})")
    if ignored:
        # the sms node texts from the number that was called, and retries in the background
        c.note(
            w,
            f"became an sms node; {', '.join(ignored)} {'was' if len(ignored) == 1 else 'were'} not converted.",
        )
    c.add(w, "sms", config, {"next": c.to(w, "sent", "failed")})


def _run_subflow(c: _Converter, w: _Widget) -> None:
    sid = _SLUG_CHARS.sub("-", str(w.props.get("flow_sid") or "").lower()).strip("-")
    if not sid:
        c.skip(w, "it names no flow")
        return
    slug = f"studio-{sid}"[:64]
    c.note(
        w,
        f"calls Studio flow {w.props['flow_sid']}: it became a sub-flow to {slug!r}; import "
        "that flow under this slug or change the node. Its parameters and failed path were not converted.",
    )
    c.add(w, "subflow", {"flow": slug}, {"return": c.to(w, "completed")})


_CONVERTERS: dict[str, Callable[[_Converter, _Widget], None]] = {
    "say-play": _say_play,
    "gather-input-on-call": _gather,
    "split-based-on": _split,
    "connect-call-to": _connect_call,
    "enqueue-call": _enqueue,
    "record-voicemail": _record_voicemail,
    "make-http-request": _http_request,
    "set-variables": _set_variables,
    "send-message": _send_message,
    "run-subflow": _run_subflow,
}
