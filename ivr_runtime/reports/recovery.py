"""What texting abandoned callers won back (`route.config.on_abandon`), for the analytics."""

from __future__ import annotations

from datetime import datetime

from django.db.models import Count, Q

from flows.models import Flow
from ivr_runtime.models import CallbackRequest, OutboundMessage, RecoveryOffer

Status = RecoveryOffer.Status
#: message statuses that mean the provider took the text
TAKEN = (
    OutboundMessage.Status.SENT,
    OutboundMessage.Status.DELIVERED,
    OutboundMessage.Status.UNDELIVERED,
)


def recovery_counts(
    *,
    flow: Flow,
    since: datetime | None = None,
    until: datetime | None = None,
    version: int | None = None,
) -> dict[str, int]:
    """Counts of the texts sent to callers who hung up while queued or ringing, by when
    they were texted (`since` <= sent_at < `until`), of the flow's calls (of its version
    number `version` only, if given). Real calls only: simulated ones are never counted.

    - `texted`: abandoned calls whose caller was texted (once per number and period);
    - `sms_sent`, `sms_delivered`: of those texts, the ones the provider took, and the
      ones it reported delivered;
    - `callbacks_offered`: texts that offered a callback;
    - `callbacks_booked`, `callbacks_declined`: offers answered yes (a callback booked),
      or no;
    - `callbacks_completed`: booked callbacks that reached the caller.

    One aggregate query, served by the (flow, sent_at) index.
    """
    offers = RecoveryOffer.objects.filter(flow=flow)
    if version is not None:
        offers = offers.filter(session__flow_version__number=version)
    if since is not None:
        offers = offers.filter(sent_at__gte=since)
    if until is not None:
        offers = offers.filter(sent_at__lt=until)
    counts = offers.aggregate(
        texted=Count("pk"),
        sms_sent=Count("pk", filter=Q(message__status__in=TAKEN)),
        sms_delivered=Count("pk", filter=Q(message__status=OutboundMessage.Status.DELIVERED)),
        callbacks_offered=Count("pk", filter=Q(callback=True)),
        callbacks_booked=Count("pk", filter=Q(status=Status.BOOKED)),
        callbacks_declined=Count("pk", filter=Q(status=Status.DECLINED)),
        callbacks_completed=Count(
            "pk", filter=Q(callback_request__status=CallbackRequest.Status.DONE)
        ),
    )
    return {name: int(value or 0) for name, value in counts.items()}
