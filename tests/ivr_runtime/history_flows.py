"""A support line whose menu leads to every outcome a call can have (the history's tests)."""

from __future__ import annotations

from typing import Any

from .conftest import flow_definition, publish
from .twilio_driver import Call, Signer

NUMBER = "+441632960100"
CALLER = "+447700900123"
OTHER = "+447700900999"

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


def identified_line(crm_url: str, slug: str = "support") -> dict[str, Any]:
    """The support line after the caller is recognised by number and looked up in the CRM."""
    definition = support_line(slug)
    definition["start"] = "who"
    definition["nodes"][:0] = [
        {
            "id": "who",
            "type": "authenticate",
            "label": "Who is calling",
            "config": {"method": "caller_id"},
            "exits": {"success": "crm", "failure": "main"},
        },
        {
            "id": "crm",
            "type": "http",
            "label": "CRM lookup",
            "config": {"url": crm_url + "/customer?phone={{ caller.number }}"},
            "exits": {"success": "hello", "failure": "main"},
        },
        {
            "id": "hello",
            "type": "say",
            "config": {
                "text": "Hello {{ customer.first_name }}, you are {{ nodes.crm.response.tier }}."
            },
            "exits": {"next": "main"},
        },
    ]
    return definition


def place_history(signer: Signer, crm_url: str) -> dict[str, str]:
    """Five calls to the identified line through the signed webhooks, one per outcome (the
    voicemail transcribed): call SID by outcome. The caller is CALLER but for the
    abandoned one."""
    publish(identified_line(crm_url), NUMBER)

    def place(caller: str = CALLER) -> Call:
        return Call(signer, to=NUMBER, caller=caller).start()

    placed = {}
    call = place().press("1").dial_ends("completed", duration=90)
    call.hang_up()
    placed["routed"] = call
    call = place().press("5")
    call.hang_up()
    placed["self_served"] = call
    call = place(OTHER).press("2").queue_ends("hangup", queue_time=30)
    call.hang_up()
    placed["abandoned"] = call
    call = place().press("3").record(14)
    call.hang_up()
    transcribed = signer.post(
        "/ivr/recordings/transcription",
        {
            "CallSid": call.sid,
            "RecordingSid": "RE" + "1" * 32,
            "TranscriptionSid": "TR" + "3" * 32,
            "TranscriptionStatus": "completed",
            "TranscriptionText": "My card was declined.",
        },
    )
    assert transcribed.status_code == 204
    placed["voicemail"] = call
    call = place().press("4").press("1")
    call.hang_up()
    placed["callback"] = call
    return {outcome: call.sid for outcome, call in placed.items()}
