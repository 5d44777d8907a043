"""The SMS webhooks: incoming texts and the delivery statuses of the texts we send.

Signed like every webhook (`edge.twilio_webhook`: 403 without a valid signature); never a
5xx. Incoming SMS are answered with messaging TwiML, even when something fails.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST

from ivr_runtime.callbacks import recovery
from ivr_runtime.edge import twilio_webhook, xml_response
from ivr_runtime.sms import messaging, sms_channel
from ivr_runtime.twilio import messaging_twiml
from ivr_runtime.twilio.forms import form_of, form_summary

log = logging.getLogger(__name__)


@require_POST
@twilio_webhook
def sms(request: HttpRequest) -> HttpResponse:
    """An incoming text: a reply to a callback offered after an abandoned call
    (callbacks.recovery), else the flow bound to `To` runs as a conversation."""
    try:
        parsed = sms_channel.IncomingSms.parse(form_of(request))
    except sms_channel.BadSms as exc:
        log.warning("incoming SMS refused: %s", exc)
        return HttpResponseBadRequest(str(exc), content_type="text/plain")
    try:
        if recovery.recovery_reply(
            sender=parsed.sender, to=parsed.to, body=parsed.body, message_sid=parsed.message_sid
        ):
            return xml_response(messaging_twiml.to_xml([]))  # answered through the outbox
        return xml_response(sms_channel.sms_receive(sms=parsed).xml)
    except Exception:
        log.exception("SMS %s from %s to %s failed", parsed.message_sid, parsed.sender, parsed.to)
        return xml_response(messaging_twiml.static(messaging_twiml.UNAVAILABLE))


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
