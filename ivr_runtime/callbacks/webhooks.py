"""The webhooks of a callback call we placed: its answer URL and its status callback."""

from __future__ import annotations

import dataclasses
import logging

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST

from ivr_runtime.callbacks import callbacks
from ivr_runtime.edge import twilio_webhook
from ivr_runtime.models import CallbackRequest
from ivr_runtime.twilio import twiml
from ivr_runtime.twilio.forms import (
    StatusCallback,
    VoiceRequest,
    form_of,
    int_field,
)
from ivr_runtime.voice import services
from ivr_runtime.voice.webhooks import answer_turn

log = logging.getLogger(__name__)


@require_POST
@twilio_webhook
def callback_voice(request: HttpRequest, pk: int) -> HttpResponse:
    """The URL of an outbound callback call: a short callback flow, or the flow itself."""
    # seen from the flow, the person called back is the caller, our number the one called
    parsed = VoiceRequest.parse(form_of(request), request.GET, request.get_full_path()).placed()
    callback = (
        CallbackRequest.objects.select_related(
            "flow", "session__flow_version", "flow__published_version"
        )
        .filter(pk=pk, simulated=False)
        .first()
    )
    if callback is None or callback.flow is None:
        log.warning("callback call %s for unknown callback %s", parsed.call_sid, pk)
        return answer_turn(parsed, lambda: services.Turn(twiml=_unknown()))
    definition = callbacks.callback_flow(callback)
    slug = callback.flow.slug
    return answer_turn(
        parsed, lambda: services.call_start(request=parsed, flow_slug=slug, draft=definition)
    )


def _unknown() -> str:
    return twiml.static(twiml.UNAVAILABLE)


@require_POST
@twilio_webhook
def callback_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The status callback of an outbound callback call: done, or try again later."""
    form = form_of(request)
    call_sid, status = dataclasses.astuple(StatusCallback.parse(form))  # BadForm: the edge's 400
    callbacks.callback_status(callback_id=pk, call_sid=call_sid, status=status)
    # The callback's own call session (if the call was answered) ends with it.
    duration = int_field(form, "CallDuration", -1)
    services.call_status(
        call_sid=call_sid, status=status, duration=duration if duration >= 0 else None
    )
    return HttpResponse(status=204)
