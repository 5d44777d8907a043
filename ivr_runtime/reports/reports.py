"""Call history (the calls API's queries); analytics.py has the statistics."""

from __future__ import annotations

from django.db.models import QuerySet

from ivr_runtime.models import CallSession


def calls_query(
    *, flow_slug: str | None = None, status: str | None = None, simulated: bool = False
) -> QuerySet[CallSession]:
    calls = CallSession.objects.filter(simulated=simulated).select_related("flow", "flow_version")
    if flow_slug:
        calls = calls.filter(flow__slug=flow_slug)
    if status:
        calls = calls.filter(status=status)
    return calls.order_by("-started_at")
