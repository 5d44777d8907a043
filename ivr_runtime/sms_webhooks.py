"""Webhooks of the asynchronous side: incoming SMS, SMS delivery statuses, callback calls.

Signed like every webhook (`webhooks.twilio_webhook`: 403 without a valid signature);
never a 5xx. Incoming SMS are answered with messaging TwiML, even when something fails.
"""

from __future__ import annotations

import dataclasses
import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST

from . import callbacks, messaging, services, sms_channel, sms_twiml
from .forms import BadForm, StatusCallback, VoiceRequest, form_summary, int_field
from .models import CallbackRequest
from .webhooks import XML, _guarded, form_of, twilio_webhook

log = logging.getLogger(__name__)


def _xml(body: str) -> HttpResponse:
    return HttpResponse(body, content_type=XML)


@require_POST
@twilio_webhook
def sms(request: HttpRequest) -> HttpResponse:
    """An incoming text: the flow bound to `To` runs as a conversation."""
    try:
        parsed = sms_channel.IncomingSms.parse(form_of(request))
    except sms_channel.BadSms as exc:
        log.warning("incoming SMS refused: %s", exc)
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    try:
        return _xml(sms_channel.sms_receive(sms=parsed).xml)
    except Exception:
        log.exception("SMS %s from %s to %s failed", parsed.message_sid, parsed.sender, parsed.to)
        return _xml(sms_twiml.static(sms_twiml.UNAVAILABLE))


@require_POST
@twilio_webhook
def message_status(request: HttpRequest) -> HttpResponse:
    """Delivery statuses of outbound SMS (the status_callback of each message)."""
    update = messaging.DeliveryStatus.parse(form_of(request), request.GET)
    if update is None:
        log.warning("malformed SMS status callback: %s", form_summary(form_of(request)))
        return HttpResponseBadRequest(
            "MessageSid and MessageStatus are required", content_type="text/plain"
        )
    messaging.message_status_record(update=update)
    return HttpResponse(status=204)


@require_POST
@twilio_webhook
def callback_voice(request: HttpRequest, pk: int) -> HttpResponse:
    """The URL of an outbound callback call: a short callback flow, or the flow itself."""
    parsed = VoiceRequest.parse(form_of(request), request.GET, request.get_full_path())
    # Seen from the flow, the person called back is the caller and our number the one called.
    parsed = dataclasses.replace(parsed, caller=parsed.to, to=parsed.caller)
    callback = (
        CallbackRequest.objects.select_related(
            "flow", "session__flow_version", "flow__published_version"
        )
        .filter(pk=pk, simulated=False)
        .first()
    )
    if callback is None or callback.flow is None:
        log.warning("callback call %s for unknown callback %s", parsed.call_sid, pk)
        return _guarded(parsed, lambda: services.Turn(twiml=_unknown()))
    definition = callbacks.callback_flow(callback)
    slug = callback.flow.slug
    return _guarded(
        parsed, lambda: services.call_start(request=parsed, flow_slug=slug, draft=definition)
    )


def _unknown() -> str:
    from . import twiml

    return twiml.static(twiml.UNAVAILABLE)


@require_POST
@twilio_webhook
def callback_status(request: HttpRequest, pk: int) -> HttpResponse:
    """The status callback of an outbound callback call: done, or try again later."""
    form = form_of(request)
    try:
        call_sid, status = dataclasses.astuple(StatusCallback.parse(form))
    except BadForm as exc:
        log.warning("malformed callback status callback: %s", form_summary(form))
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    callbacks.callback_status(callback_id=pk, call_sid=call_sid, status=status)
    # The callback's own call session (if the call was answered) ends with it.
    duration = int_field(form, "CallDuration", -1)
    services.call_status(
        call_sid=call_sid, status=status, duration=duration if duration >= 0 else None
    )
    return HttpResponse(status=204)
