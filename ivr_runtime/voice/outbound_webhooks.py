"""The webhooks of outbound calls (ivr_runtime.voice.outbound): the answer URL and the status
callback Twilio was given when the call was placed. Signed like every webhook."""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from ivr_runtime.edge import twilio_webhook
from ivr_runtime.twilio.forms import (
    StatusCallback,
    VoiceRequest,
    form_of,
    int_field,
)
from ivr_runtime.voice import outbound
from ivr_runtime.voice.webhooks import answer_turn

log = logging.getLogger(__name__)


@require_POST
@twilio_webhook
def answer(request: HttpRequest, pk: int) -> HttpResponse:
    """The person called answered: the flow runs, with them as the caller."""
    parsed = VoiceRequest.parse(form_of(request), request.GET, request.get_full_path()).placed()
    return answer_turn(parsed, lambda: outbound.outbound_answer(call_id=pk, request=parsed))


@require_POST
@twilio_webhook
def status(request: HttpRequest, pk: int) -> HttpResponse:
    """The outbound call's status callback: its outcome (completed, no-answer, busy, failed)."""
    form = form_of(request)
    update = StatusCallback.parse(form)  # a BadForm is the edge's 400
    duration = int_field(form, "CallDuration", -1)
    outbound.outbound_status(
        call_id=pk,
        call_sid=update.call_sid,
        status=update.status,
        duration=duration if duration >= 0 else None,
    )
    return HttpResponse(status=204)
