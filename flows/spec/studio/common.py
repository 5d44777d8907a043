"""What several widget families share: voices, placeholders, URLs and form bodies."""

from __future__ import annotations

import copy
import re
from typing import Any
from urllib.parse import quote

from .converter import _LANGUAGE, _Converter, _exit_name, _To, _Widget

#: widget types with no callflow equivalent: what the placeholder's note says to do
NO_EQUIVALENT = {
    "capture-payments": (
        "callflow does not take card payments: take them with an agent (a route node) or "
        "text a payment link (an sms node), then replace this placeholder"
    ),
    "connect-virtual-agent": (
        "callflow has no virtual agents (Dialogflow): use menu and input nodes, or route the "
        "caller to an agent, then replace this placeholder"
    ),
    "connect-virtual-agent-v2": (
        "callflow has no virtual agents: use menu and input nodes, or route the caller to an "
        "agent, then replace this placeholder"
    ),
    "fork-stream": (
        "callflow does not stream call audio elsewhere: remove this placeholder (connect what "
        "led to it to its `next`) or replace it"
    ),
    "send-to-autopilot": (
        "Autopilot has no equivalent: use menu and input nodes, then replace this placeholder"
    ),
}
UNKNOWN = "callflow has no node that does this: replace this placeholder with nodes that do"


def placeholder(c: _Converter, w: _Widget, note: str) -> None:
    """A placeholder keeping the widget's type, name, settings and every exit it had."""
    names: set[str] = set()
    exits: dict[str, _To] = {}
    exit_names: list[str] = []
    for event in dict.fromkeys(w.events):
        if event == "match":
            continue
        name = _exit_name(event, names)
        exit_names.append(name)
        exits[name] = c.to(w, event)
    original = {k: copy.deepcopy(v) for k, v in w.props.items() if k != "offset"}
    config = {
        "source": "studio",
        "source_type": w.type[:100],
        "source_name": w.name[:200],
        "note": note[:2000],
        "exit_names": exit_names[:50],
        "original": original,
    }
    c.add(w, "placeholder", config, {name: exits[name] for name in exit_names[:50]})
    c.note(w, f"left as a placeholder: {note}.")


def no_equivalent(c: _Converter, w: _Widget) -> None:
    placeholder(c, w, NO_EQUIVALENT.get(w.type, UNKNOWN))


def voice_config(
    c: _Converter, w: _Widget, config: dict[str, Any], language_key: str = "language"
) -> None:
    language = w.text(language_key).replace("_", "-")
    if language and _LANGUAGE.match(language):
        config["language"] = language
    elif language:
        c.note(w, f"the language {language!r} is not a BCP-47 tag and was left out.")
    voice = w.text("voice")
    if voice and voice != "default":
        config["voice"] = voice[:100]


def is_url(text: str) -> bool:
    bare = re.sub(r"\{\{.*?\}\}|\{%.*?%\}", "x", text)
    return text.startswith(("http://", "https://", "{{")) and not any(ch.isspace() for ch in bare)


def form_body(c: _Converter, w: _Widget, parameters: list[dict[str, Any]]) -> str:
    """`key=value&...`, each value URL-encoded when the request is made."""
    pairs = []
    for item in parameters:
        if not item.get("key"):
            continue
        value = c.template(w, item.get("value"))
        if "{" in value:
            value = "{% filter urlencode %}" + value + "{% endfilter %}"
        else:
            value = quote(value, safe="")
        pairs.append(f"{quote(str(item['key']), safe='')}={value}")
    return "&".join(pairs)


FORM = {"Content-Type": "application/x-www-form-urlencoded"}
