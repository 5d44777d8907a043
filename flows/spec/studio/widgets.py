"""One function per Studio widget type, turning the widget into callflow/1 nodes."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from .converter import (
    _E164,
    _LANGUAGE,
    _OPERATORS,
    _SLUG_CHARS,
    _VAR_NAME,
    _Converter,
    _exit_name,
    _menu_options,
    _node_id,
    _split_input,
    _To,
    _Widget,
)

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


CONVERTERS: dict[str, Callable[[_Converter, _Widget], None]] = {
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
