"""Which function turns each Studio widget type into callflow/1 nodes (docs/format.md,
"Importing from Twilio Studio", has the table). A type not listed becomes a placeholder."""

from __future__ import annotations

from .common import no_equivalent
from .converter import Convert
from .gathers import gather
from .splits import split
from .widgets_handover import record_call, twiml_redirect
from .widgets_logic import http_request, run_function, run_subflow, set_variables
from .widgets_messaging import send_and_wait, send_message
from .widgets_voice import (
    connect_call,
    enqueue,
    outgoing_call,
    record_voicemail,
    say_play,
    send_to_flex,
)

CONVERTERS: dict[str, Convert] = {
    "say-play": say_play,
    "gather-input-on-call": gather,
    "split-based-on": split,
    "set-variables": set_variables,
    "connect-call-to": connect_call,
    "enqueue-call": enqueue,
    "send-to-flex": send_to_flex,
    "record-voicemail": record_voicemail,
    "make-outgoing-call-v2": outgoing_call,
    "make-http-request": http_request,
    "run-function": run_function,
    "run-subflow": run_subflow,
    "send-message": send_message,
    "send-and-wait-for-reply": send_and_wait,
    "record-call": record_call,
    "add-twiml-redirect": twiml_redirect,
}
FALLBACK = no_equivalent
