"""A support line whose menu leads to every outcome a call can have (the history's tests)."""

from __future__ import annotations

from typing import Any

from .conftest import flow_definition

NUMBER = "+441632960100"
CALLER = "+447700900123"

MENU_KEYS = {
    "1": "agent",  # dial a person: routed when answered
    "2": "queue",  # wait in a queue: abandoned when the caller hangs up there
    "3": "message",  # voicemail, transcribed
    "4": "offer",  # a callback
    "5": "info",  # hear the opening hours: self-served
    "6": "link",  # a self-service link by SMS
    "7": "broken",  # a node that fails: the fallback runs
}


def support_line(slug: str = "support") -> dict[str, Any]:
    bye = {"id": "bye", "type": "hangup", "config": {"text": "Goodbye."}, "exits": {}}
    return flow_definition(
        slug,
        [
            {
                "id": "main",
                "type": "menu",
                "label": "Main menu",
                "config": {
                    "prompt": "Press 1 for an agent, 2 to wait, 3 to leave a message.",
                    "options": [{"key": key} for key in MENU_KEYS],
                },
                "exits": {**MENU_KEYS, "no_input": "bye", "no_match": "bye"},
            },
            {
                "id": "agent",
                "type": "route",
                "config": {"target": {"number": "+441632960999"}, "timeout": 20},
                "exits": {"connected": "bye", "unavailable": "message", "timeout": "message"},
            },
            {
                "id": "queue",
                "type": "route",
                "config": {"target": {"queue": "support"}, "max_wait": 120},
                "exits": {"connected": "bye", "unavailable": "message", "timeout": "message"},
            },
            {
                "id": "message",
                "type": "voicemail",
                "config": {"prompt": "Leave a message after the tone.", "transcribe": True},
                "exits": {"recorded": "bye", "empty": "bye"},
            },
            {
                "id": "offer",
                "type": "callback",
                "config": {"prompt": "Press 1 for a call back.", "confirm_number": False},
                "exits": {"scheduled": "bye", "declined": "bye"},
            },
            {
                "id": "info",
                "type": "say",
                "config": {"text": "We are open nine to five."},
                "exits": {"next": "bye"},
            },
            {
                "id": "link",
                "type": "self_service",
                "config": {
                    "mode": "link_sms",
                    "url": "https://example.com/book",
                    "body": "Book here:",
                },
                "exits": {"done": "bye", "failed": "bye"},
            },
            {
                "id": "broken",
                "type": "route",
                "config": {"target": {"number": "{{ vars.nowhere }}"}},
                "exits": {"connected": "bye", "unavailable": "bye", "timeout": "bye"},
            },
            bye,
        ],
    )
