"""Studio's Liquid variables as callflow session paths (docs/format.md, "Importing from
Twilio Studio", has the table).

`resolver(converter)` is what liquid.py asks: `widgets.menu.Digits` -> `nodes.menu.digits`,
`flow.variables.x` -> `vars.x`, `trigger.call.From` -> `caller.number`, or None when callflow
has no such value. What a widget's variables become depends on the node it became.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .converter import _Converter

#: whole paths
FIXED = {
    "trigger.call.From": "caller.number",
    "trigger.call.Caller": "caller.number",
    "trigger.call.To": "call.to",
    "trigger.call.Called": "call.to",
    "trigger.call.CallSid": "call.sid",
    "trigger.call.Direction": "call.direction",
    "trigger.call.AnsweredBy": "call.answered_by",
    "trigger.message.From": "caller.number",
    "trigger.message.To": "call.to",
    "trigger.conversation.Author": "caller.number",
    "contact.channel.address": "caller.number",
    "flow.channel.address": "call.to",
}
#: prefixes whose rest is a variable: the flow's own, the REST trigger's parameters
#: (an outbound call's `vars`) and what a parent flow passed (a set node before the sub-flow)
VARIABLE_PREFIXES = (
    ("flow", "variables"),
    ("flow", "data"),
    ("trigger", "request", "parameters"),
)
_HTTP = {"parsed": "response", "body": "response", "status_code": "status"}
#: widget type -> {Studio field: callflow node field}; "parsed" and "inbound" take the rest
WIDGET_FIELDS: dict[str, dict[str, str]] = {
    "gather-input-on-call": {"Digits": "digits", "SpeechResult": "speech"},
    "send-and-wait-for-reply": {"inbound.Body": "value"},
    "make-http-request": _HTTP,
    "run-function": _HTTP,
    "record-voicemail": {"RecordingUrl": "recording_url", "RecordingDuration": "duration"},
    "connect-call-to": {"DialCallStatus": "dial_status"},
    "enqueue-call": {"QueueResult": "queue_result"},
    "send-to-flex": {"QueueResult": "queue_result"},
}
#: the call's own fields, as an outgoing-call widget reports them
CALL_FIELDS = {
    "AnsweredBy": "call.answered_by",
    "To": "caller.number",
    "From": "call.to",
    "CallSid": "call.sid",
}


def resolver(converter: _Converter) -> Callable[[str], str | None]:
    def resolve(path: str) -> str | None:
        if path in FIXED:
            return FIXED[path]
        parts = path.split(".")
        for prefix in VARIABLE_PREFIXES:
            if tuple(parts[: len(prefix)]) == prefix and len(parts) > len(prefix):
                return ".".join(["vars", *parts[len(prefix) :]])
        if parts[0] == "widgets" and len(parts) >= 3:
            return _widget_path(converter, parts[1], parts[2:])
        return None

    return resolve


def _widget_path(converter: _Converter, name: str, rest: list[str]) -> str | None:
    widget = converter.widgets.get(name)
    if widget is None:
        return None
    if widget.type == "make-outgoing-call-v2":
        return CALL_FIELDS.get(".".join(rest))
    fields = WIDGET_FIELDS.get(widget.type, {})
    node = converter.ids[name]
    dotted = ".".join(rest)
    if dotted in fields:
        return f"nodes.{node}.{fields[dotted]}"
    if rest[0] in fields and fields[rest[0]] == "response":
        return ".".join(["nodes", node, "response", *rest[1:]])
    return None
