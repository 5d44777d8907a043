"""One function per Amazon Connect action type, turning the action into callflow/1 nodes."""

from __future__ import annotations

import html
import re
from collections import deque
from collections.abc import Callable
from typing import Any

from .converter import (
    RETURN,
    ConnectExportError,
    Converter,
    To,
    _Action,
    _true,
    last_segment,
    slug_of,
    unique_name,
    words_of,
)

_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_KEY = re.compile(r"^[0-9*#]$")
_SSML_TAG = re.compile(r"<[^>]*>")
_SSML_PAUSE = re.compile(r"<(break|p|s)\b[^>]*>|</(p|s)>")
_QUEUE_CHARS = re.compile(r"[^A-Za-z0-9_ -]+")
#: Compare operators -> branch operators
OPERATORS = {
    "Equals": "eq",
    "TextStartsWith": "starts_with",
    "TextEndsWith": "matches",
    "TextContains": "contains",
    "NumberGreaterThan": "gt",
    "NumberGreaterOrEqualTo": "gte",
    "NumberLessThan": "lt",
    "NumberLessOrEqualTo": "lte",
}
#: an address no request reaches, for the URLs an import cannot know
UNKNOWN_HOST = "invalid"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


def _int(value: Any, default: int, lowest: int, highest: int) -> int:
    """A Connect number (usually a string) within callflow's limits."""
    try:
        number = int(float(value))
    except (TypeError, ValueError):
        number = default
    return min(max(number, lowest), highest)


def _name(c: Converter, a: _Action, parameter: str) -> str:
    """What a referenced resource is called: the designer's display name kept in the
    export's metadata, else the end of its ARN."""
    meta = c.metadata.get(a.id) if isinstance(c.metadata.get(a.id), dict) else {}
    shown = (
        (meta.get("parameters") or {}).get(parameter)
        if isinstance(meta.get("parameters"), dict)
        else None
    )
    if (
        isinstance(shown, dict)
        and isinstance(shown.get("displayName"), str)
        and shown["displayName"].strip()
    ):
        return shown["displayName"].strip()
    for value in meta.values():
        if isinstance(value, dict) and isinstance(value.get("text"), str) and value["text"].strip():
            return value["text"].strip()
    raw = a.params.get(parameter)
    return last_segment(raw) if isinstance(raw, str) else ""


# --- prompts ------------------------------------------------------------------------------


def prompt(c: Converter, a: _Action, params: dict[str, Any]) -> dict[str, str] | None:
    """{"text": ...} or {"audio_url": ...} for a Text, SSML, PromptId or Media prompt."""
    if isinstance(params.get("Text"), str) and params["Text"].strip():
        return {"text": c.text(a, params["Text"])}
    if isinstance(params.get("SSML"), str) and params["SSML"].strip():
        # a pause or a paragraph separates words; emphasis or prosody around a word does not
        spoken = _SSML_TAG.sub("", _SSML_PAUSE.sub(" ", params["SSML"]))
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
        name = _name(c, a, "PromptId") or last_segment(params["PromptId"])
        c.note(
            a,
            f"plays the Connect prompt {name!r}: upload its audio and set the node's audio URL "
            "(until then the prompt is not heard).",
        )
        return {"audio_url": f"https://prompts.{UNKNOWN_HOST}/{slug_of(name, 'prompt')}.wav"}
    return None


def _message(c: Converter, a: _Action) -> None:
    found = prompt(c, a, a.params)
    if found is None:
        c.drop(a, "it plays nothing")
        return
    c.add(a, "say", found, {"next": To(a.next)})


def _message_iteratively(c: Converter, a: _Action) -> None:
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


def _timeout(c: Converter, a: _Action) -> int:
    raw = a.params.get("InputTimeLimitSeconds", a.params.get("InputTimeoutSeconds"))
    seconds = _int(raw, 5, 1, 600)
    if seconds > 60:
        c.note(a, f"waits {seconds} seconds for input in Connect; callflow waits at most 60.")
    return min(seconds, 60)


def _prompted(
    c: Converter, a: _Action, type_: str, config: dict[str, Any], exits: dict[str, To]
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


def _get_input(c: Converter, a: _Action) -> None:
    if isinstance(a.params.get("LexV2Bot"), dict) or isinstance(a.params.get("LexBot"), dict):
        _lex(c, a)
    elif _true(a.params.get("StoreInput")):
        _store_input(c, a)
    elif (keys := _dtmf_keys(a)) is not None:
        _menu(c, a, keys)
    else:
        _free_input(c, a)


def _dtmf_keys(a: _Action) -> list[tuple[str, str | None]] | None:
    """(key, target) per condition when every condition tests one fixed key."""
    keys: list[tuple[str, str | None]] = []
    for condition in a.conditions:
        if condition.operator != "Equals" or len(condition.operands) != 1:
            return None
        key = condition.operands[0].strip()
        if not _KEY.match(key):
            return None
        if key not in (k for k, _ in keys):
            keys.append((key, condition.target))
    return keys or None


def _menu(c: Converter, a: _Action, keys: list[tuple[str, str | None]]) -> None:
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


def _free_input(c: Converter, a: _Action) -> None:
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
        _rules_node(c, a, f"nodes.{node['id']}.value", no_match, node_id=check)


def _store_input(c: Converter, a: _Action) -> None:
    params = a.params
    validation = (
        params.get("InputValidation") if isinstance(params.get("InputValidation"), dict) else {}
    )
    custom = (
        validation.get("CustomValidation")
        if isinstance(validation.get("CustomValidation"), dict)
        else {}
    )
    dtmf = (
        params.get("DTMFConfiguration") if isinstance(params.get("DTMFConfiguration"), dict) else {}
    )
    config: dict[str, Any] = {
        "input": "dtmf",
        "max_digits": _int(custom.get("MaximumLength", params.get("MaxDigits")), 20, 1, 64),
        "timeout": _timeout(c, a),
        "retries": 0,
    }
    end_key = str(dtmf.get("InputTerminationSequence") or "#")
    config["finish_on_key"] = end_key if _KEY.match(end_key) else "#"
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


def _lex(c: Converter, a: _Action) -> None:
    bot = a.params.get("LexV2Bot") or a.params.get("LexBot") or {}
    bot = bot if isinstance(bot, dict) else {}
    alias = str(bot.get("AliasArn") or "")
    # arn:aws:lex:<region>:<account>:bot-alias/<bot id>/<alias id>
    bot_name = (
        _name(c, a, "LexV2Bot")
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


# --- branching ------------------------------------------------------------------------------


def _rules_node(
    c: Converter, a: _Action, var: str, otherwise: str | None, *, node_id: str | None = None
) -> bool:
    rules, exits, names = [], {}, set()
    for condition in a.conditions:
        op = OPERATORS.get(condition.operator)
        if op is None or len(condition.operands) != 1:
            c.note(
                a,
                f"a condition {condition.operator or 'without an operator'} (to {condition.target!r}) was not converted.",
            )
            continue
        value = condition.operands[0]
        exit_name = unique_name(f"{op} {value}", names, limit=28, prefix="if")
        if condition.operator == "TextEndsWith":
            value = "(?i)" + re.escape(value) + "$"
        rules.append({"exit": exit_name, "var": var, "op": op, "value": value})
        exits[exit_name] = To(condition.target)
    if not rules:
        return False
    exits["else"] = To(otherwise)
    c.add(a, "branch", {"rules": rules}, exits, node_id=node_id, entry=node_id is None)
    return True


def _compare(c: Converter, a: _Action) -> None:
    value = str(a.params.get("ComparisonValue") or "")
    var = c.reference(value)
    if var is None:
        c.placeholder(a, f"It compares {value!r}, which is not a value callflow has.")
        return
    if not _rules_node(c, a, var, a.error("NoMatchingCondition", "NoMatchingError")):
        c.placeholder(a, "None of its conditions converts.")


def _hours(c: Converter, a: _Action) -> None:
    name = _name(c, a, "HoursOfOperationId") or "the queue's hours"
    outcome = {k.operands[0].lower(): k.target for k in a.conditions if k.operands}
    config = {"schedule": {day: [["09:00", "17:00"]] for day in WEEKDAYS}}
    exits = {
        "open": To(outcome.get("true", a.next)),
        "closed": To(outcome.get("false", a.error("NoMatchingCondition", "NoMatchingError"))),
        "holiday": To(None, end=False),
    }
    c.add(a, "time_of_day", config, exits)
    c.note(
        a,
        f"set the opening hours and time zone of {name!r} on this node: Connect keeps them in its "
        "hours of operation, which are not in the export (until then: Monday to Friday, 09:00 to 17:00, in the flow's time zone).",
    )


# --- people -----------------------------------------------------------------------------------


def _queue_name(c: Converter, a: _Action) -> str:
    raw = a.params.get("QueueId", a.params.get("AgentId"))
    if isinstance(raw, str) and raw.startswith("$."):
        c.note(
            a,
            f"sets the queue from {raw}; callflow queues are named in the flow: 'dynamic' was used.",
        )
        return "dynamic"
    name = _name(c, a, "QueueId" if "QueueId" in a.params else "AgentId")
    return _QUEUE_CHARS.sub("_", name).strip()[:64] or "default"


def _queues_before(c: Converter, a: _Action) -> list[str]:
    """The queues the Set working queue actions that lead to `a` set, nearest first."""
    before: dict[str, list[str]] = {}
    for action in c.order:
        for target in [
            action.next,
            *(k.target for k in action.conditions),
            *action.errors.values(),
        ]:
            if target:
                before.setdefault(target, []).append(action.id)
    found, seen, todo = [], {a.id}, deque(before.get(a.id, []))
    while todo:
        current = c.actions[todo.popleft()]
        if current.id in seen:
            continue
        seen.add(current.id)
        if current.type == "UpdateContactTargetQueue":
            name = c.queues.get(current.id) or _queue_name(c, current)
            if name not in found:
                found.append(name)
            continue
        todo.extend(before.get(current.id, []))
    return found


def _set_queue(c: Converter, a: _Action) -> None:
    c.queues[a.id] = _queue_name(c, a)
    c.add(a, "set", {"vars": {"working_queue": c.queues[a.id]}}, {"next": To(a.next)})


def _transfer_to_queue(c: Converter, a: _Action) -> None:
    """A route to the queue set before; where several Set working queue actions lead here,
    a branch on the queue they set, then a route per queue."""
    queues = [_queue_name(c, a)] if "QueueId" in a.params else _queues_before(c, a)
    if not queues:
        queues = ["default"]
        c.note(a, "no Set working queue leads here: the route's queue is 'default'; set the queue.")
    failed = To(a.error("QueueAtCapacity", "NoMatchingError"))
    # Connect's flow ends once the contact is queued: after the conversation the call ends
    exits = {"connected": To(None), "unavailable": failed, "timeout": failed}
    if len(queues) == 1:
        c.add(a, "route", {"target": {"queue": queues[0]}}, exits)
        return
    routes = [unique_name(f"{c.ids[a.id]}_{q}", c.taken) for q in queues]
    names: set[str] = set()
    rules = [
        {
            "exit": unique_name(q, names, limit=28, prefix="q"),
            "var": "vars.working_queue",
            "op": "eq",
            "value": q,
        }
        for q in queues
    ]
    branch_exits = {r["exit"]: route for r, route in zip(rules, routes, strict=True)}
    branch_exits["else"] = routes[0]
    c.entry[a.id] = c.add(a, "branch", {"rules": rules}, branch_exits, entry=False)  # type: ignore[arg-type]
    position = c.position(a)
    for i, (queue, route) in enumerate(zip(queues, routes, strict=True)):
        c.add(a, "route", {"target": {"queue": queue}}, dict(exits), node_id=route, entry=False)
        if position is not None:
            c.nodes[-1]["position"] = {"x": position["x"] + 240, "y": position["y"] + 140 * i}
    c.note(
        a,
        f"transfers to the queue set before it ({', '.join(queues)}): a branch on that queue leads to a route per queue.",
        "converted",
    )


def _transfer_to_number(c: Converter, a: _Action) -> None:
    number = c.text(a, a.params.get("ThirdPartyPhoneNumber") or "").strip()
    if not (_E164.match(number) or re.fullmatch(r"\{\{.+\}\}", number)):
        c.placeholder(a, f"It transfers to {number!r}, which is not an E.164 number.")
        return
    config: dict[str, Any] = {"target": {"number": number}}
    if a.params.get("ThirdPartyConnectionTimeLimitSeconds"):
        config["timeout"] = _int(a.params["ThirdPartyConnectionTimeLimitSeconds"], 30, 5, 600)
    after = To(a.next) if _true(a.params.get("ContinueFlowExecution", "True")) else To(None)
    failed = To(a.error("CallFailed", "ConnectionTimeLimitExceeded", "NoMatchingError"))
    c.add(a, "route", config, {"connected": after, "unavailable": failed, "timeout": failed})


def _callback(c: Converter, a: _Action) -> None:
    delay = _int(a.params.get("InitialCallDelaySeconds"), 300, 1, 259_200)
    config: dict[str, Any] = {
        "prompt": "Press 1 and we will call you back on the number you are calling from.",
        "confirm_number": False,
        "within_hours": max(round(delay / 3600, 2), 0.1),
    }
    if "QueueId" in a.params:
        config["target"] = {"queue": _queue_name(c, a)}
    c.note(
        a,
        "callflow asks the caller to press 1 before scheduling the callback (Connect creates it "
        "without asking); attempts and retry delays are the runtime's.",
    )
    c.add(a, "callback", config, {"scheduled": To(a.next), "declined": To(a.next)})


# --- data and other flows -----------------------------------------------------------------------


def _attributes(c: Converter, a: _Action, values: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for key, value in (values or {}).items() if isinstance(values, dict) else []:
        if isinstance(value, dict):
            value = value.get("Value", "")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,63}", str(key)):
            c.note(
                a, f"the attribute {key!r} is not a valid callflow variable name and was left out."
            )
            continue
        found[str(key)] = c.text(a, value)
    return found


def _set_attributes(c: Converter, a: _Action) -> None:
    values = _attributes(c, a, a.params.get("Attributes", a.params.get("FlowAttributes")))
    if not values:
        c.drop(a, "it sets no attribute")
        return
    if a.params.get("TargetContact") == "Related":
        c.note(
            a,
            "sets the attributes of the related contact in Connect; here they are this call's variables.",
        )
    c.add(a, "set", {"vars": values}, {"next": To(a.next)})


def _set_contact_data(c: Converter, a: _Action) -> None:
    values = _attributes(
        c, a, {k: v for k, v in a.params.items() if isinstance(v, str) and k != "TargetContact"}
    )
    if not values:
        c.drop(a, "it sets no contact data callflow keeps")
        return
    c.note(a, "callflow has no contact record: the contact data became variables of the call.")
    c.add(a, "set", {"vars": values}, {"next": To(a.next)})


def _lambda(c: Converter, a: _Action) -> None:
    arn = str(a.params.get("LambdaFunctionARN") or "")
    name = _name(c, a, "LambdaFunctionARN") or last_segment(arn) or "function"
    body = {"caller": "{{ caller.number }}", "called": "{{ call.to }}"}
    body.update(_attributes(c, a, a.params.get("LambdaInvocationAttributes")))
    config: dict[str, Any] = {
        "url": f"https://lambda.{UNKNOWN_HOST}/{slug_of(name, 'function')}",
        "method": "POST",
        "body": body,
        "timeout": _int(a.params.get("InvocationTimeLimitSeconds"), 3, 1, 5),
    }
    if c.external is None:
        config["save_as"] = "external"
    if str(a.params.get("InvocationType", "")).upper() == "ASYNCHRONOUS":
        c.note(a, "runs asynchronously in Connect; the http node waits for the answer.")
    c.note(
        a,
        f"set the URL of a service that does what the Lambda function {name!r} did: it gets a POST "
        "with the caller and the invocation attributes as JSON and answers a JSON object, whose "
        "fields the flow read as $.External.*.",
    )
    c.add(a, "http", config, {"success": To(a.next), "failure": To(a.error("NoMatchingError"))})


def _subflow(c: Converter, a: _Action, parameter: str, what: str) -> str:
    name = _name(c, a, parameter) or "flow"
    slug = slug_of(name)
    c.note(
        a,
        f"continues in the {what} {name!r}: import its export as the flow {slug!r} ({slug}.json).",
    )
    return slug


def _module(c: Converter, a: _Action) -> None:
    slug = _subflow(c, a, "FlowModuleId", "module")
    c.add(a, "subflow", {"flow": slug}, {"return": To(a.next)})


def _transfer_to_flow(c: Converter, a: _Action) -> None:
    slug = _subflow(c, a, "ContactFlowId", "flow")
    c.note(a, "Connect does not come back from a transfer: the call ends when that flow returns.")
    c.add(a, "subflow", {"flow": slug}, {"return": To(None)})


def _hangup(c: Converter, a: _Action) -> None:
    c.add(a, "hangup", {}, {})


def _end_module(c: Converter, a: _Action) -> None:
    c.passthrough[a.id] = RETURN
    c.note(
        a,
        "the module returns here: exits leading to it are left unconnected.",
        "converted",
        node=False,
    )


def _voice_change(c: Converter, a: _Action) -> None:
    voice = str(a.params.get("TextToSpeechVoice") or "").strip()
    engine = str(a.params.get("TextToSpeechEngine") or "").strip().lower()
    if not re.fullmatch(r"[A-Za-z]{2,30}", voice):
        c.drop(a, "it names no voice")
        return
    polly = f"Polly.{voice}" + ("-Neural" if engine == "neural" else "")
    if c.voice is None:
        c.voice = polly
        c.drop(a, f"the voice {voice} became the flow's voice, {polly}")
    else:
        c.drop(a, f"the flow already speaks with {c.voice}; set {polly} on the nodes that need it")


_DROPPED = {
    "UpdateFlowLoggingBehavior": "callflow keeps a log of every step of every call",
    "UpdateContactRoutingBehavior": "callflow queues have no routing priority",
    "TagContact": "callflow has no contact tags",
    "UnTagContact": "callflow has no contact tags",
    "UpdateContactEventHooks": "callflow plays the route node's hold music to queued callers",
    "UpdateContactCallbackNumber": "the callback node asks for the number to call back",
}
_PLACEHOLDERS = {
    "Loop": "callflow has no loop counter (a menu's retries, or a branch on a variable, can do it).",
    "DistributeByPercentage": "callflow does not split calls at random.",
    "CheckMetricData": "callflow does not read queue metrics (a route node's unavailable exit is the closest).",
    "GetMetricData": "callflow does not read queue metrics.",
    "Wait": "callflow runs calls, and Connect's Wait is for chats.",
    "TransferContactToAgent": "callflow transfers to queues, numbers and skills, not to a named agent.",
}


def _recording(c: Converter, a: _Action) -> None:
    behaviour = a.params.get("RecordingBehavior")
    who = behaviour.get("RecordedParticipants") if isinstance(behaviour, dict) else None
    ivr = str(a.params.get("IVRRecordingBehavior", "")).lower()
    if not isinstance(who, list) and ivr not in ("enabled", "disabled"):
        c.drop(a, "it sets no recording")
        return
    start = bool(who) or ivr == "enabled"
    config = {"action": "start" if start else "stop"}
    if start and isinstance(who, list) and {"Agent", "Customer"} <= set(who):
        config["channels"] = "dual"
    if start:
        c.note(
            a,
            "records the whole call from here on, prompts included (Connect records from when "
            "an agent joins, unless IVR recording is on).",
        )
    c.add(a, "record_call", config, {"next": To(a.next)})


def _dropped(c: Converter, a: _Action) -> None:
    c.drop(a, _DROPPED[a.type])


def _other(c: Converter, a: _Action) -> None:
    c.placeholder(
        a, _PLACEHOLDERS.get(a.type, f"callflow has no node that does what {a.type} does.")
    )


CONVERTERS: dict[str, Callable[[Converter, _Action], None]] = {
    "MessageParticipant": _message,
    "MessageParticipantIteratively": _message_iteratively,
    "GetParticipantInput": _get_input,
    "ConnectParticipantWithLexBot": _lex,
    "CheckHoursOfOperation": _hours,
    "UpdateContactTargetQueue": _set_queue,
    "TransferContactToQueue": _transfer_to_queue,
    "DequeueContactAndTransferToQueue": _transfer_to_queue,
    "TransferParticipantToThirdParty": _transfer_to_number,
    "InvokeLambdaFunction": _lambda,
    "UpdateContactAttributes": _set_attributes,
    "UpdateFlowAttributes": _set_attributes,
    "UpdateContactData": _set_contact_data,
    "Compare": _compare,
    "InvokeFlowModule": _module,
    "CreateCallbackContact": _callback,
    "DisconnectParticipant": _hangup,
    "EndFlowExecution": _hangup,
    "EndFlowModuleExecution": _end_module,
    "TransferToFlow": _transfer_to_flow,
    "UpdateContactTextToSpeechVoice": _voice_change,
    "UpdateContactRecordingBehavior": _recording,
    **dict.fromkeys(_DROPPED, _dropped),
    "*": _other,
}
