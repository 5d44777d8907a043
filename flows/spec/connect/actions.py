"""One function per Amazon Connect action type, turning the action into callflow/1 nodes
(the participant actions are in `participant.py`), and the table of them all."""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Callable
from typing import Any

from .common import E164, QUEUE_CHARS, UNKNOWN_HOST, WEEKDAYS, bounded, resource_name, rules_node
from .converter import RETURN, Converter, To, is_true
from .export import Action, last_segment, slug_of, unique_name
from .participant import _get_input, _lex, _message, _message_iteratively

# --- branching ------------------------------------------------------------------------------


def _compare(c: Converter, a: Action) -> None:
    value = str(a.params.get("ComparisonValue") or "")
    var = c.reference(value)
    if var is None:
        c.placeholder(a, f"It compares {value!r}, which is not a value callflow has.")
        return
    if not rules_node(c, a, var, a.error("NoMatchingCondition", "NoMatchingError")):
        c.placeholder(a, "None of its conditions converts.")


def _hours(c: Converter, a: Action) -> None:
    name = resource_name(c, a, "HoursOfOperationId") or "the queue's hours"
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


def _queue_name(c: Converter, a: Action) -> str:
    raw = a.params.get("QueueId", a.params.get("AgentId"))
    if isinstance(raw, str) and raw.startswith("$."):
        c.note(
            a,
            f"sets the queue from {raw}; callflow queues are named in the flow: 'dynamic' was used.",
        )
        return "dynamic"
    name = resource_name(c, a, "QueueId" if "QueueId" in a.params else "AgentId")
    return QUEUE_CHARS.sub("_", name).strip()[:64] or "default"


def _queues_before(c: Converter, a: Action) -> list[str]:
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


def _set_queue(c: Converter, a: Action) -> None:
    c.queues[a.id] = _queue_name(c, a)
    c.add(a, "set", {"vars": {"working_queue": c.queues[a.id]}}, {"next": To(a.next)})


def _transfer_to_queue(c: Converter, a: Action) -> None:
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


def _transfer_to_number(c: Converter, a: Action) -> None:
    number = c.text(a, a.params.get("ThirdPartyPhoneNumber") or "").strip()
    if not (E164.match(number) or re.fullmatch(r"\{\{.+\}\}", number)):
        c.placeholder(a, f"It transfers to {number!r}, which is not an E.164 number.")
        return
    config: dict[str, Any] = {"target": {"number": number}}
    if a.params.get("ThirdPartyConnectionTimeLimitSeconds"):
        config["timeout"] = bounded(a.params["ThirdPartyConnectionTimeLimitSeconds"], 30, 5, 600)
    after = To(a.next) if is_true(a.params.get("ContinueFlowExecution", "True")) else To(None)
    failed = To(a.error("CallFailed", "ConnectionTimeLimitExceeded", "NoMatchingError"))
    c.add(a, "route", config, {"connected": after, "unavailable": failed, "timeout": failed})


def _callback(c: Converter, a: Action) -> None:
    delay = bounded(a.params.get("InitialCallDelaySeconds"), 300, 1, 259_200)
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


def _attributes(c: Converter, a: Action, values: Any) -> dict[str, str]:
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


def _set_attributes(c: Converter, a: Action) -> None:
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


def _set_contact_data(c: Converter, a: Action) -> None:
    values = _attributes(
        c, a, {k: v for k, v in a.params.items() if isinstance(v, str) and k != "TargetContact"}
    )
    if not values:
        c.drop(a, "it sets no contact data callflow keeps")
        return
    c.note(a, "callflow has no contact record: the contact data became variables of the call.")
    c.add(a, "set", {"vars": values}, {"next": To(a.next)})


def _lambda(c: Converter, a: Action) -> None:
    arn = str(a.params.get("LambdaFunctionARN") or "")
    name = resource_name(c, a, "LambdaFunctionARN") or last_segment(arn) or "function"
    body = {"caller": "{{ caller.number }}", "called": "{{ call.to }}"}
    body.update(_attributes(c, a, a.params.get("LambdaInvocationAttributes")))
    config: dict[str, Any] = {
        "url": f"https://lambda.{UNKNOWN_HOST}/{slug_of(name, 'function')}",
        "method": "POST",
        "body": body,
        "timeout": bounded(a.params.get("InvocationTimeLimitSeconds"), 3, 1, 5),
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


def _subflow(c: Converter, a: Action, parameter: str, what: str) -> str:
    name = resource_name(c, a, parameter) or "flow"
    slug = slug_of(name)
    c.note(
        a,
        f"continues in the {what} {name!r}: import its export as the flow {slug!r} ({slug}.json).",
    )
    return slug


def _module(c: Converter, a: Action) -> None:
    slug = _subflow(c, a, "FlowModuleId", "module")
    c.add(a, "subflow", {"flow": slug}, {"return": To(a.next)})


def _transfer_to_flow(c: Converter, a: Action) -> None:
    slug = _subflow(c, a, "ContactFlowId", "flow")
    c.note(a, "Connect does not come back from a transfer: the call ends when that flow returns.")
    c.add(a, "subflow", {"flow": slug}, {"return": To(None)})


def _hangup(c: Converter, a: Action) -> None:
    c.add(a, "hangup", {}, {})


def _end_module(c: Converter, a: Action) -> None:
    c.passthrough[a.id] = RETURN
    c.note(
        a,
        "the module returns here: exits leading to it are left unconnected.",
        "converted",
        node=False,
    )


def _voice_change(c: Converter, a: Action) -> None:
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


def _recording(c: Converter, a: Action) -> None:
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


def _dropped(c: Converter, a: Action) -> None:
    c.drop(a, _DROPPED[a.type])


def _other(c: Converter, a: Action) -> None:
    c.placeholder(
        a, _PLACEHOLDERS.get(a.type, f"callflow has no node that does what {a.type} does.")
    )


CONVERTERS: dict[str, Callable[[Converter, Action], None]] = {
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
