"""One customer's (or one number's) history across channels: calls, SMS conversations,
callbacks and voicemails, newest first.

A number's timeline is that number's; a customer's gathers the calls that identified them
and everything from their phone number. Each kind is read newest first by an index
(sessions by number or customer, callbacks by number) and cut at `limit` before merging.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import F, Q

from ivr_runtime.models import CallbackRequest, CallSession, Customer, Recording

LIMIT = 100


@dataclass(frozen=True)
class Item:
    kind: str  # call, sms, callback, voicemail
    at: datetime
    data: dict[str, Any]


def timeline(
    *, number: str = "", customer: Customer | None = None, limit: int = LIMIT
) -> list[Item]:
    """The items newest first, at most `limit`; real calls only (never simulated)."""
    numbers = {n for n in (number, customer.phone if customer else "") if n}
    sessions_q = Q(from_number__in=numbers) if numbers else Q(pk__in=[])
    if customer is not None:
        sessions_q |= Q(customer=customer)
    sessions = list(
        CallSession.objects.filter(sessions_q, simulated=False)
        .select_related("flow")
        .only(*_SESSION_FIELDS)
        .order_by("-started_at", "-id")[:limit]
    )
    items = [_session_item(s) for s in sessions]
    callbacks_q = Q(number__in=numbers) if numbers else Q(pk__in=[])
    if sessions:
        callbacks_q |= Q(session__in=[s.pk for s in sessions])
    for callback in (
        CallbackRequest.objects.filter(callbacks_q, simulated=False)
        .annotate(sid=F("session__call_sid"))
        .order_by("-created_at", "-id")[:limit]
    ):
        items.append(_callback_item(callback))
    for recording in (
        Recording.objects.filter(
            session__in=[s.pk for s in sessions], kind=Recording.Kind.VOICEMAIL, simulated=False
        )
        .annotate(sid=F("session__call_sid"))
        .order_by("-created_at", "-id")[:limit]
    ):
        items.append(_voicemail_item(recording))
    items.sort(key=lambda item: item.at, reverse=True)
    return items[:limit]


_SESSION_FIELDS = (
    "call_sid",
    "channel",
    "direction",
    "from_number",
    "to_number",
    "status",
    "outcome",
    "outcome_node",
    "started_at",
    "ended_at",
    "duration",
    "flow__slug",
    "flow__name",
)


def _session_item(call: CallSession) -> Item:
    return Item(
        kind="sms" if call.channel == "sms" else "call",
        at=call.started_at,
        data={
            "sid": call.call_sid,
            "flow": call.flow.slug if call.flow else None,
            "flow_name": call.flow.name if call.flow else "",
            "direction": call.direction,
            "from": call.from_number,
            "to": call.to_number,
            "status": call.status,
            "outcome": call.outcome,
            "outcome_node": call.outcome_node or None,
            "ended_at": call.ended_at,
            "duration": call.duration,
        },
    )


def _callback_item(callback: CallbackRequest) -> Item:
    return Item(
        kind="callback",
        at=callback.created_at,
        data={
            "id": callback.pk,
            "number": callback.number,
            "status": callback.status,
            "due_at": callback.due_at,
            "attempts": callback.attempts,
            "completed_at": callback.completed_at,
            "sid": callback.sid,  # type: ignore[attr-defined]
        },
    )


def _voicemail_item(recording: Recording) -> Item:
    return Item(
        kind="voicemail",
        at=recording.created_at,
        data={
            "recording_sid": recording.recording_sid,
            "url": recording.url,
            "duration": recording.duration,
            "transcription": recording.transcription,
            "transcription_status": recording.transcription_status or None,
            "sid": recording.sid,  # type: ignore[attr-defined]
        },
    )
