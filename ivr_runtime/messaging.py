"""Outbound SMS: the outbox row is written with the call step; this sends it."""

from __future__ import annotations

import logging

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from . import twilio_client
from .models import OutboundMessage

log = logging.getLogger(__name__)


def outbound_message_send(*, message_id: int) -> OutboundMessage | None:
    """Send a queued message once. A message already sent (or simulated) is left alone."""
    with transaction.atomic():
        message = OutboundMessage.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.simulated or message.status not in (
            OutboundMessage.Status.QUEUED, OutboundMessage.Status.FAILED
        ):
            return message
        message.status = OutboundMessage.Status.SENDING
        message.attempts = F("attempts") + 1
        message.save(update_fields=["status", "attempts", "updated_at"])
    # The provider is called outside the transaction: a slow API holds no lock.
    try:
        sent = twilio_client.sms_send(to=message.to, from_=message.from_number, body=message.body)
    except twilio_client.SendError as exc:
        log.warning("SMS %s failed: %s", message_id, exc)
        OutboundMessage.objects.filter(pk=message_id).update(
            status=OutboundMessage.Status.FAILED, last_error=str(exc)[:1000], updated_at=timezone.now()
        )
    else:
        OutboundMessage.objects.filter(pk=message_id).update(
            status=OutboundMessage.Status.SENT, provider_sid=sent.sid[:64], last_error="",
            sent_at=timezone.now(), updated_at=timezone.now(),
        )
    message.refresh_from_db()
    return message
