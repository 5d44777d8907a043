"""Participant actions: prompts, customer input (keys, stored input, a Lex bot)."""

from __future__ import annotations

import html
import re
from typing import Any

from .common import KEY, UNKNOWN_HOST, bounded, resource_name, rules_node
from .converter import Converter, To, is_true
from .export import (
    Action,
    ConnectExportError,
    last_segment,
    object_at,
    slug_of,
    unique_name,
    words_of,
)

SSML_TAG = re.compile(r"<[^>]*>")
SSML_PAUSE = re.compile(r"<(break|p|s)\b[^>]*>|</(p|s)>")

# --- prompts ------------------------------------------------------------------------------


def prompt(c: Converter, a: Action, params: dict[str, Any]) -> dict[str, str] | None:
    """{"text": ...} or {"audio_url": ...} for a Text, SSML, PromptId or Media prompt."""
    if isinstance(params.get("Text"), str) and params["Text"].strip():
        return {"text": c.text(a, params["Text"])}
    if isinstance(params.get("SSML"), str) and params["SSML"].strip():
        # a pause or a paragraph separates words; emphasis or prosody around a word does not
        spoken = SSML_TAG.sub("", SSML_PAUSE.sub(" ", params["SSML"]))
        spoken = re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", html.unescape(spoken)))
        c.note(
            a, "its SSML was read as plain text (tags such as <break> and <prosody> were left out)."
        )
        return {"text": c.text(a, spoken.strip())}
    media = params.get("Media")
    if isinstance(media, dict) and isinstance(media.get("Uri"), str):
        uri = media["Uri"]
        if uri.startswith(("https://", "http://")):
            return {"audio_url": uri}
        c.note(
            a, f"plays {uri!r}: put the audio at an https URL and set it as the node's audio URL."
        )
        return {"audio_url": f"https://audio.{UNKNOWN_HOST}/{slug_of(last_segment(uri), 'audio')}"}
    if isinstance(params.get("PromptId"), str) and params["PromptId"].strip():
        name = resource_name(c, a, "PromptId") or last_segment(params["PromptId"])
        c.note(
            a,
            f"plays the Connect prompt {name!r}: upload its audio and set the node's audio URL "
            "(until then the prompt is not heard).",
        )
        return {"audio_url": f"https://prompts.{UNKNOWN_HOST}/{slug_of(name, 'prompt')}.wav"}
    return None


def _message(c: Converter, a: Action) -> None:
    found = prompt(c, a, a.params)
    if found is None:
        c.drop(a, "it plays nothing")
        return
    c.add(a, "say", found, {"next": To(a.next)})


def _message_iteratively(c: Converter, a: Action) -> None:
    messages = a.params.get("Messages") or []
    if not isinstance(messages, list) or not all(isinstance(m, dict) for m in messages):
        raise ConnectExportError(
            f"Action {a.id!r}: `Messages` must be a list of messages ({{Text}}, {{SSML}} or {{PromptId}}).",
            f"{a.path}.Parameters.Messages",
        )
    texts, audio = [], None
    for message in messages:
        found = prompt(c, a, message)
        if found and "text" in found:
            texts.append(found["text"])
        elif found and audio is None:
            audio = found["audio_url"]
    if not texts and audio is None:
        c.drop(a, "it plays nothing")
        return
    config: dict[str, Any] = {"text": " ".join(texts)} if texts else {"audio_url": audio}
    config["loop"] = 3
    if texts and audio:
        c.note(a, "its audio prompts were left out: the node speaks its text messages.")
    c.note(
        a,
        "plays its messages 3 times, then goes on (Connect loops them until the contact "
        "leaves the queue or the interrupt time elapses).",
    )
    done = next((k.target for k in a.conditions if "MessagesInterrupted" in k.operands), a.next)
    c.add(a, "say", config, {"next": To(done)})


# --- input ----------------------------------------------------------------------------------


def _timeout(c: Converter, a: Action) -> int:
    raw = a.params.get("InputTimeLimitSeconds", a.params.get("InputTimeoutSeconds"))
    seconds = bounded(raw, 5, 1, 600)
    if seconds > 60:
        c.note(a, f"waits {seconds} seconds for input in Connect; callflow waits at most 60.")
    return min(seconds, 60)


def _prompted(
    c: Converter, a: Action, type_: str, config: dict[str, Any], exits: dict[str, To]
) -> None:
    """A node that asks with a text prompt; an audio prompt plays just before it."""
    found = prompt(c, a, a.params) or {"text": ""}
    if "text" in found:
        config["prompt"] = found["text"]
        c.add(a, type_, config, exits)
        return
    config["prompt"] = ""
    first = unique_name(f"{c.ids[a.id]}_prompt", c.taken)
    c.add(a, "say", dict(found), {"next": To(None)}, node_id=first, entry=False)
    say = c.nodes[-1]
    c.entry[a.id] = first
    say["exits"]["next"] = c.add(a, type_, config, exits, entry=False)
    c.note_lost_branches(a, exits)


def _get_input(c: Converter, a: Action) -> None:
    if isinstance(a.params.get("LexV2Bot"), dict) or isinstance(a.params.get("LexBot"), dict):
        _lex(c, a)
    elif is_true(a.params.get("StoreInput")):
        _store_input(c, a)
    elif (keys := _dtmf_keys(a)) is not None:
        _menu(c, a, keys)
    else:
        _free_input(c, a)


def _dtmf_keys(a: Action) -> list[tuple[str, str | None]] | None:
    """(key, target) per condition when every condition tests one fixed key."""
    keys: list[tuple[str, str | None]] = []
    for condition in a.conditions:
        if condition.operator != "Equals" or len(condition.operands) != 1:
            return None
        key = condition.operands[0].strip()
        if not KEY.match(key):
            return None
        if key not in (k for k, _ in keys):
            keys.append((key, condition.target))
    return keys or None


def _menu(c: Converter, a: Action, keys: list[tuple[str, str | None]]) -> None:
    config: dict[str, Any] = {
        "input": "dtmf",
        "options": [{"key": key} for key, _ in keys],
        "timeout": _timeout(c, a),
        "retries": 0,  # Connect asks once, then takes a branch
    }
    exits = {key: To(target) for key, target in keys}
    exits["no_match"] = To(a.error("NoMatchingCondition", "NoMatchingError"))
    exits["no_input"] = To(a.error("InputTimeLimitExceeded", "NoMatchingError"))
    _prompted(c, a, "menu", config, exits)


def _free_input(c: Converter, a: Action) -> None:
    """A key the conditions test otherwise than for fixed keys: an input then a branch."""
    config: dict[str, Any] = {
        "input": "dtmf", "min_digits": 1, "max_digits": 1, "finish_on_key": "",
        "timeout": _timeout(c, a), "retries": 0,
    }  # fmt: skip
    no_match = a.error("NoMatchingCondition", "NoMatchingError")
    check = unique_name(f"{c.ids[a.id]}_check", c.taken) if a.conditions else None
    exits = {
        "valid": To(None) if check else To(no_match),
        "invalid": To(no_match),
        "no_input": To(a.error("InputTimeLimitExceeded", "NoMatchingError")),
    }
    _prompted(c, a, "input", config, exits)
    node = c.nodes[-1]
    if check:
        node["exits"]["valid"] = check
        rules_node(c, a, f"nodes.{node['id']}.value", no_match, node_id=check)


def _store_input(c: Converter, a: Action) -> None:
    params = a.params
    validation = object_at(params, "InputValidation")
    custom = object_at(validation, "CustomValidation")
    dtmf = object_at(params, "DTMFConfiguration")
    config: dict[str, Any] = {
        "input": "dtmf",
        "max_digits": bounded(custom.get("MaximumLength", params.get("MaxDigits")), 20, 1, 64),
        "timeout": _timeout(c, a),
        "retries": 0,
    }
    end_key = str(dtmf.get("InputTerminationSequence") or "#")
    config["finish_on_key"] = end_key if KEY.match(end_key) else "#"
    if end_key != config["finish_on_key"]:
        c.note(a, f"ends on {end_key!r} in Connect; callflow ends an entry on one key, '#'.")
    if c.stored_input is None:
        config["save_as"] = "stored_customer_input"
    if isinstance(validation.get("PhoneNumberValidation"), dict):
        config.update(min_digits=6, max_digits=15)
        c.note(a, "validates a phone number in Connect; the node accepts 6 to 15 keys.")
    if params.get("InputEncryption"):
        c.note(
            a,
            "encrypts the input in Connect; callflow does not (avoid collecting card numbers this way).",
        )
    exits = {
        "valid": To(a.next),
        "invalid": To(a.error("InvalidPhoneNumber", "NoMatchingError")),
        "no_input": To(a.error("InputTimeLimitExceeded") or a.next),
    }
    _prompted(c, a, "input", config, exits)


def _lex(c: Converter, a: Action) -> None:
    bot = a.params.get("LexV2Bot") or a.params.get("LexBot") or {}
    bot = bot if isinstance(bot, dict) else {}
    alias = str(bot.get("AliasArn") or "")
    # arn:aws:lex:<region>:<account>:bot-alias/<bot id>/<alias id>
    bot_name = (
        resource_name(c, a, "LexV2Bot")
        or alias.partition("bot-alias/")[2]
        or alias
        or str(bot.get("Name") or "")
    )
    intents = [
        (k.operands[0], k.target) for k in a.conditions if k.operator == "Equals" and k.operands
    ]
    if not intents:
        c.placeholder(
            a, f"It hands the caller to the Amazon Lex bot {bot_name!r}, which callflow cannot run."
        )
        return
    options, exits, names = [], {}, {"no_input", "no_match"}
    for intent, target in intents:
        key = unique_name(intent, names, limit=32, prefix="intent")
        options.append(
            {"key": key, "label": intent[:200], "speech": [words_of(intent)[:100] or key]}
        )
        exits[key] = To(target)
    exits["no_match"] = To(a.error("NoMatchingCondition", "NoMatchingError"))
    exits["no_input"] = To(a.error("InputTimeLimitExceeded", "NoMatchingError"))
    config = {"input": "speech", "options": options, "timeout": _timeout(c, a), "retries": 0}
    c.note(
        a,
        f"became a speech menu in place of the Amazon Lex bot {bot_name!r}: each intent is "
        "chosen by saying its name; add the phrases callers use to each option.",
    )
    _prompted(c, a, "menu", config, exits)
