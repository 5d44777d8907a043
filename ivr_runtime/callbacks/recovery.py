"""Abandoned calls won back: the replies to the text a caller gets after hanging up while
queued or ringing at a `route` with `on_abandon`.

The text itself is written with the call's last step (`turns.effects`: a RecoveryOffer
row and its outbox message, once per number and flow within the node's `period_hours`);
the outbox sends it. When it offers a callback, a reply is read here, before the SMS
channel sees it (`sms_webhooks.sms`):

- a text from the number texted to the number the text came from, while the offer is open
  (until `expires_at`, `period_hours` after it was sent), answers it: yes (1, YES, Y, OK...)
  books a callback at the next opening of the flow's hours (its first `time_of_day` node,
  as for every callback) that connects the route's target, and confirms when; no (2, NO...)
  declines; anything else is asked once more, and a second such reply lets the offer go
  (`expired`) and goes on to the SMS channel;
- any other text (another number, an offer answered or expired, an offer without a
  callback) is the SMS channel's, so a flow bound to the same number for texts still runs;
- the answers go through the outbox, keyed by the MessageSid they answer: the same text
  twice (Twilio retrying) books one callback and is answered once.
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from flows.nodes.route import CALLBACK_OFFER
from ivr_runtime.callbacks.callbacks import hours_node, next_opening
from ivr_runtime.models import CallbackRequest, OutboundMessage, RecoveryOffer

log = logging.getLogger(__name__)

Status = RecoveryOffer.Status
YES = frozenset({"1", "yes", "y", "yeah", "yep", "ok", "okay", "please", "call me"})
NO = frozenset({"2", "no", "n", "nope", "stop", "no thanks", "no thank you"})
BOOKED_NOW = "Thank you. We will call you back shortly."
BOOKED_LATER = "Thank you. We will call you back {when}, when we are open."
DECLINED = "No problem: we will not call you back. You are welcome to call us at any time."
ASK_AGAIN = "Sorry, we did not catch that. " + CALLBACK_OFFER
NO_OPENING = "Sorry, we cannot book a call back in the coming days. Please call us again later."
_WORDS = re.compile(r"[^\w\s]+")


def recovery_reply(
    *, sender: str, to: str, body: str, message_sid: str, now: datetime | None = None
) -> bool:
    """Answer a text that replies to an open callback offer. False when the text is not
    one (the SMS channel takes it); True when it was answered here, now or before."""
    now = now or timezone.now()
    key = f"recovery:{message_sid}"[:128]
    with transaction.atomic():
        offer = (
            RecoveryOffer.objects.select_for_update(of=("self",))
            .filter(number=sender, from_number=to)
            .order_by("-sent_at")
            .select_related("session__flow_version", "flow__published_version")
            .first()
        )
        if offer is None or not offer.callback:
            return False
        if OutboundMessage.objects.filter(idempotency_key=key).exists():
            return True  # Twilio again with a text answered already
        if offer.status != Status.OFFERED:
            return False
        if offer.expires_at <= now:
            _close(offer, Status.EXPIRED, now)
            return False
        answer = _answer(offer, reading(body), now)
        if answer is None:
            return False
        _text(offer, answer, key)
    return True


def reading(body: str) -> bool | None:
    """What a reply says: True (yes), False (no) or None (neither), by its words or its
    first word ("Yes please", "no, thanks")."""
    words = _WORDS.sub(" ", body.lower()).split()
    if not words:
        return None
    for said in (" ".join(words), words[0]):
        if said in YES:
            return True
        if said in NO:
            return False
    return None


def _answer(offer: RecoveryOffer, said: bool | None, now: datetime) -> str | None:
    """The offer answered (saved); the text to send back, or None to let the SMS channel
    have this reply."""
    if said is True:
        return _book(offer, now)
    if said is False:
        _close(offer, Status.DECLINED, now)
        return DECLINED
    if offer.replies == 0:
        offer.replies = 1
        offer.save(update_fields=["replies"])
        return ASK_AGAIN
    _close(offer, Status.EXPIRED, now)
    return None


def _book(offer: RecoveryOffer, now: datetime) -> str:
    """A callback at the flow's next opening, connecting the route's target."""
    hours = hours_node(_definition(offer))
    opening = next_opening(hours, now)
    if opening is None:
        log.warning("recovery offer %s: the flow is never open in the next days", offer.pk)
        _close(offer, Status.EXPIRED, now)
        return NO_OPENING
    offer.callback_request = CallbackRequest.objects.create(
        number=offer.number,
        due_at=opening,
        next_attempt_at=opening if opening > now else None,
        target=offer.target or None,
        node_id=offer.node_id,
        session=offer.session,
        flow_id=offer.flow_id,
        from_number=offer.from_number,
    )
    _close(offer, Status.BOOKED, now, "callback_request")
    if opening <= now:
        return BOOKED_NOW
    return BOOKED_LATER.format(when=spoken_time(opening, now, (hours or {}).get("timezone")))


def spoken_time(moment: datetime, now: datetime, zone_name: str | None) -> str:
    """ "today at 09:00", "tomorrow at 09:00" or "on Monday 30 November at 09:00", in the
    flow's time zone."""
    try:
        zone = zoneinfo.ZoneInfo(zone_name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        zone = zoneinfo.ZoneInfo("UTC")
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    at = local.strftime("%H:%M")
    if local.date() == today:
        return f"today at {at}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow at {at}"
    return f"on {local:%A} {local.day} {local:%B} at {at}"


def _definition(offer: RecoveryOffer) -> dict[str, Any] | None:
    """The definition the abandoned call ran on (else the flow's published one)."""
    session = offer.session
    if session is not None and session.flow_version is not None:
        return session.flow_version.definition
    if offer.flow is not None and offer.flow.published_version is not None:
        return offer.flow.published_version.definition
    return None


def _close(offer: RecoveryOffer, status: str, now: datetime, *fields: str) -> None:
    offer.status = status
    offer.answered_at = now
    offer.save(update_fields=["status", "answered_at", *fields])


def _text(offer: RecoveryOffer, body: str, key: str) -> None:
    """The answer, through the outbox (the relay hands it to the worker)."""
    OutboundMessage.objects.create(
        idempotency_key=key,
        to=offer.number,
        from_number=offer.from_number,
        body=body,
        session=offer.session,
    )
