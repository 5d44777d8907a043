"""Gather Input On Call: a `menu` when the split after it tests fixed answers, else `input`.

A menu takes over the split (or the two splits, keys and speech) that tests the gather's
`Digits`/`SpeechResult` for fixed answers only (equal_to, matches_any_of; contains too for
speech): each answer becomes an option, the split's noMatch the menu's `no_match`, the
gather's timeout its `no_input`. Any other gather collects free input: an `input` node
whose every entry goes on by the keypress (or speech) path, as Studio goes on whatever was
entered, with the digits in `{{ nodes.ID.digits }}` and the words in `{{ nodes.ID.speech }}`.
"""

from __future__ import annotations

import re
from typing import Any

from .common import voice_config
from .converter import _KEY, _Converter, _exit_name, _node_id, _To, _Widget

_SPEECH_TYPES = ("equal_to", "matches_any_of", "contains")
_FIELD = {"keypress": "Digits", "speech": "SpeechResult"}


def split_input(w: _Widget) -> str:
    value = w.text("input")
    if not value:
        for conditions, _ in w.matches:
            for condition in conditions:
                arguments = condition.get("arguments")
                if isinstance(arguments, list) and arguments and isinstance(arguments[0], str):
                    return arguments[0]
    return value


def _tests(gather: _Widget, split: _Widget, field_name: str) -> bool:
    pattern = r"\{\{\s*widgets\." + re.escape(gather.name) + r"\." + field_name + r"\s*\}\}"
    return re.fullmatch(pattern, split_input(split).strip()) is not None


def _answers(split: _Widget, field_name: str) -> list[tuple[list[str], str | None]] | None:
    """(the answers, the target) of each transition, when all are fixed answers."""
    found: list[tuple[list[str], str | None]] = []
    for conditions, target in split.matches:
        if len(conditions) != 1:
            return None
        kind = conditions[0].get("type")
        allowed = ("equal_to", "matches_any_of") if field_name == "Digits" else _SPEECH_TYPES
        value = conditions[0].get("value")
        if kind not in allowed or not isinstance(value, str | int) or isinstance(value, bool):
            return None
        words = [str(value).strip()] if kind != "matches_any_of" else str(value).split(",")
        words = [v.strip() for v in words if v.strip()]
        if not words or field_name == "Digits" and not all(_KEY.match(v) for v in words):
            return None
        found.append((words, target))
    return found or None


def menu_splits(c: _Converter, gather: _Widget) -> dict[str, _Widget]:
    """The splits a menu takes over, by the gather event leading to each."""
    splits: dict[str, _Widget] = {}
    for event, field_name in _FIELD.items():
        split = c.widgets.get(gather.next.get(event, ""))
        if (
            split is not None
            and split.type == "split-based-on"
            and _tests(gather, split, field_name)
            and _answers(split, field_name) is not None
        ):
            splits[event] = split
    return splits


def menu_split(c: _Converter, gather: _Widget) -> _Widget | None:
    """The first split a menu takes over (converter.run marks each as absorbed)."""
    splits = menu_splits(c, gather)
    for split in splits.values():
        c.absorbed.setdefault(split.name, gather.name)
    return next(iter(splits.values()), None)


def gather(c: _Converter, w: _Widget) -> None:
    splits = {e: s for e, s in menu_splits(c, w).items() if c.absorbed.get(s.name) == w.name}
    if splits:
        config, exits = _menu(c, w, splits)
        node_type = "menu"
    else:
        config, exits = _input(c, w)
        node_type = "input"
    play = w.text("play").strip()
    if w.text("say").strip() or not play:
        c.add(w, node_type, config, exits)
        return
    # a menu's or input's prompt is text: an audio prompt plays just before it
    prompt_id = _node_id(f"{c.ids[w.name]}_prompt", c.taken)
    c.add(w, "say", {"audio_url": c.template(w, play)}, {"next": _To(None)}, node_id=prompt_id)
    prompt = c.nodes[-1]
    prompt["exits"]["next"] = c.add(w, node_type, config, exits, entry=False)
    c.note(w, "its audio prompt plays in a say node just before it.")


def _common(c: _Converter, w: _Widget, speech: bool) -> dict[str, Any]:
    config: dict[str, Any] = {
        "prompt": c.template(w, w.text("say")),
        "timeout": w.number("timeout", 5, 1, 60),
        "retries": 0,
    }
    voice_config(
        c, w, config, "gather_language" if speech and w.text("gather_language") else "language"
    )
    if w.number("loop", 1, 1, 10) > 1:
        c.note(w, "its prompt is said once (`loop` was not converted).")
    return config


def _menu(c: _Converter, w: _Widget, splits: dict[str, _Widget]) -> tuple[dict, dict]:
    options: list[dict[str, Any]] = []
    exits: dict[str, _To] = {"no_input": c.to(w, "timeout")}
    keys: set[str] = {"no_input", "no_match"}  # the menu's own exits
    by_target: dict[str | None, dict[str, Any]] = {}
    if "keypress" in splits:
        for words, target in _answers(splits["keypress"], "Digits") or []:
            for key in words:
                if key in keys:
                    continue
                keys.add(key)
                option = {"key": key}
                options.append(option)
                by_target.setdefault(target, option)
                exits[key] = _To(target)
    if "speech" in splits:
        for words, target in _answers(splits["speech"], "SpeechResult") or []:
            found = by_target.get(target)
            if found is None or "speech" in found:
                key = _exit_name(words[0], keys)
                found = {"key": key, "label": words[0]}
                options.append(found)
                exits[key] = _To(target)
            found["speech"] = [word[:100] for word in words][:50]
    first = next(iter(splits.values()))
    exits["no_match"] = c.to(first, "noMatch")
    for split in splits.values():
        if split is not first and split.next.get("noMatch") != first.next.get("noMatch"):
            c.note(w, f"the noMatch path of {split.name!r} was merged into that of {first.name!r}.")
    mode = "both" if len(splits) == 2 else "dtmf" if "keypress" in splits else "speech"
    config = {**_common(c, w, mode != "dtmf"), "input": mode, "options": options}
    for event in ("keypress", "speech"):
        if event not in splits and w.next.get(event):
            c.note(
                w,
                f"its {event} path (to {w.next[event]!r}) was not converted: the menu takes {mode} only.",
            )
    if mode != "dtmf" and w.text("hints"):
        c.note(w, "its speech `hints` were not converted (the options' words are the hints).")
    return config, exits


def _input(c: _Converter, w: _Widget) -> tuple[dict, dict]:
    keys, speech = "keypress" in w.next, "speech" in w.next
    mode = "both" if keys and speech else "speech" if speech else "dtmf"
    config = {**_common(c, w, mode != "dtmf"), "input": mode}
    digits = w.number("number_of_digits", 0, 0, 64)
    config.update(min_digits=digits or 1, max_digits=digits or 64)
    key = w.text("finish_on_key", "#")
    if key in ("", "*", "#"):
        config["finish_on_key"] = key
    else:
        c.note(
            w, f"its finish key {key!r} was left out (a digit cannot end an entry here); # ends it."
        )
    hints = [h.strip()[:100] for h in w.text("hints").split(",") if h.strip()][:50]
    if hints and mode != "dtmf":
        config["hints"] = hints
    answered = c.to(w, "keypress", "speech")
    if keys and speech and w.next["keypress"] != w.next["speech"]:
        c.note(
            w,
            f"became an input node with one way on: its speech path (to {w.next['speech']!r}) "
            f"was merged into its keypress path (to {w.next['keypress']!r}). Put a branch on "
            f"nodes.{c.ids[w.name]}.speech after it to tell them apart.",
        )
    return config, {"valid": answered, "invalid": answered, "no_input": c.to(w, "timeout")}
