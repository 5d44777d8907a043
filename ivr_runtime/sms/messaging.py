"""Delivery statuses of outbound SMS (`POST /ivr/messages/status`).

Sending lives in `ivr_runtime.sms.outbox`. Twilio posts MessageSid, MessageStatus and, on
failure, ErrorCode; the status callback URL carries the row id (`?m=<id>`) so a status
that arrives before the worker recorded the MessageSid still finds its message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from django.db import transaction

from ivr_runtime.models import OutboundMessage

log = logging.getLogger(__name__)

Status = OutboundMessage.Status
_SID = re.compile(r"^[A-Za-z0-9]{2,64}$")

#: Twilio's MessageStatus -> ours; statuses not listed only update `provider_status`
PROVIDER_STATUSES = {
    "sent": Status.SENT,
    "delivered": Status.DELIVERED,
    "read": Status.DELIVERED,
    "undelivered": Status.UNDELIVERED,
    "failed": Status.FAILED,
    "canceled": Status.FAILED,
}
#: Twilio's statuses that say the message failed at the provider
PROVIDER_FAILED = ("failed", "undelivered", "canceled")
#: a status never replaces one of a higher rank (callbacks arrive out of order)
RANK = {
    Status.QUEUED: 0,
    Status.SENDING: 0,
    Status.SENT: 1,
    Status.DELIVERED: 2,
    Status.UNDELIVERED: 2,
    Status.FAILED: 2,
    Status.SIMULATED: 3,
}


@dataclass(frozen=True)
class DeliveryStatus:
    """A status callback's form, parsed at the edge."""

    message_sid: str
    status: str
    error_code: str
    message_id: int | None

    @classmethod
    def parse(cls, form, query) -> DeliveryStatus | None:  # type: ignore[no-untyped-def]
        sid = str(form.get("MessageSid") or form.get("SmsSid") or "")
        status = str(form.get("MessageStatus") or form.get("SmsStatus") or "").strip().lower()[:32]
        if not _SID.fullmatch(sid) or not status.isascii() or not status.replace("-", "").isalpha():
            return None
        code = "".join(ch for ch in str(form.get("ErrorCode") or "") if ch in "0123456789")[:16]
        raw_id = str(query.get("m") or "")
        ok_id = raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 19  # "²" is a digit too
        return cls(sid, status, code, int(raw_id) if ok_id else None)


def message_status_record(*, update: DeliveryStatus) -> OutboundMessage | None:
    """Apply a delivery status. None (and a log line) when no message matches."""
    with transaction.atomic():
        message = None
        if update.message_id is not None:
            message = (
                OutboundMessage.objects.select_for_update().filter(pk=update.message_id).first()
            )
            if (
                message is not None
                and message.provider_sid
                and message.provider_sid != update.message_sid
            ):
                message = None  # the id and the sid disagree: trust neither
        if message is None:
            message = (
                OutboundMessage.objects.select_for_update()
                .filter(provider_sid=update.message_sid)
                .first()
            )
        if message is None:
            log.warning(
                "delivery status %r for unknown message %s (m=%s): ignored",
                update.status,
                update.message_sid,
                update.message_id,
            )
            return None
        fields = ["provider_status", "updated_at"]
        # A failure we concluded ourselves (no provider failure status seen) gives way to the
        # provider's word that it has the message (sent or delivered while we could not tell).
        ours = message.status == Status.FAILED and message.provider_status not in PROVIDER_FAILED
        message.provider_status = update.status
        if not message.provider_sid:
            message.provider_sid = update.message_sid
            fields.append("provider_sid")
        new = PROVIDER_STATUSES.get(update.status)
        if new is not None and (
            RANK[new] > RANK[Status(message.status)] or (ours and new != Status.FAILED)
        ):
            message.status = new
            fields.append("status")
            if message.lease_until is not None:
                # The provider has it: whatever the worker was doing, there is nothing to redo.
                message.lease_until = None
                fields.append("lease_until")
        if update.error_code:
            message.error_code = update.error_code
            message.last_error = f"{update.status}: error {update.error_code}"
            fields += ["error_code", "last_error"]
        message.save(update_fields=fields)
    return message
