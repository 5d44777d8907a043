"""The designer's call history pages (server-rendered, read-only): the call list with its
search and filters, one call's timeline, one customer's timeline."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from designer_ui.views import require_view
from flows.models import Flow
from ivr_runtime.api_history import PAGE, CallQuery, cursor_of
from ivr_runtime.models import CallSession, Customer, Recording
from ivr_runtime.reports import history, timeline

#: the period menu: name -> (label, how far back)
PERIODS = {
    "": ("Any time", None),
    "day": ("Last 24 hours", timedelta(days=1)),
    "week": ("Last 7 days", timedelta(days=7)),
    "month": ("Last 30 days", timedelta(days=30)),
}
#: the filters the page's form keeps (and hands to the CSV export)
KEPT = ("search", "flow", "version", "outcome", "direction", "period", "since", "until")


@login_required
def call_list(request: HttpRequest) -> HttpResponse:
    access = require_view(request)
    kept = {name: request.GET.get(name, "").strip() for name in KEPT}
    params = _query_params(kept, request.GET.get("cursor", ""))
    query = CallQuery(data=params)
    rows: list[Any] = []
    older = ""
    errors: dict[str, list[str]] = {}
    if query.is_valid():
        calls = history.calls_filtered(filters=query.filters())
        after = query.validated_data.get("cursor")
        if after is not None:
            calls = history.after(calls, *after)
        rows = list(calls[: PAGE + 1])
        if len(rows) > PAGE:
            rows = rows[:PAGE]
            older = _url({**kept, "cursor": cursor_of(rows[-1])})
    else:
        errors = {name: [str(m) for m in messages] for name, messages in query.errors.items()}
    filters = {k: v for k, v in kept.items() if v}
    export = {k: v for k, v in params.items() if k not in ("cursor", "limit")}
    return render(
        request,
        "designer_ui/call_list.html",
        {
            "access": access,
            "rows": rows,
            "kept": kept,
            "errors": errors,
            "older": older,
            "newest": _url(filters) if request.GET.get("cursor") else "",
            "export_url": "/api/calls/export.csv" + (f"?{urlencode(export)}" if export else ""),
            "flows": Flow.objects.order_by("name").values_list("slug", "name"),
            "outcomes": CallSession.Outcome.choices,
            "directions": CallSession.Direction.choices,
            "periods": [(name, label) for name, (label, _) in PERIODS.items()],
            "filtered": bool(filters),
        },
    )


def _query_params(kept: dict[str, str], cursor: str) -> dict[str, str]:
    """The page's form as the API's query: the period menu becomes `since`."""
    params = {k: v for k, v in kept.items() if v and k != "period"}
    period = PERIODS.get(kept["period"], PERIODS[""])[1]
    if period is not None and not kept["since"]:
        params["since"] = (timezone.now() - period).isoformat()
    if cursor:
        params["cursor"] = cursor
    return params


def _url(params: dict[str, str]) -> str:
    query = QueryDict(mutable=True)
    query.update({k: v for k, v in params.items() if v})
    return f"?{query.urlencode()}" if query else "?"


@login_required
def call_detail(request: HttpRequest, sid: str) -> HttpResponse:
    access = require_view(request)
    call = history.call_detail(call_sid=sid)
    if call is None:
        raise Http404(f"No call {sid}.")
    customer = call.customer or Customer.objects.filter(phone=call.from_number).first()
    heard, labels = history.heard_at_steps(call), history.node_labels(call)
    requests = list(call.http_requests.all())
    steps = [
        {
            "step": step,
            "label": labels.get(step.node_id, ""),
            "heard": heard.get(step.index, ""),
            "http": [r for r in requests if r.step_index == step.index],
        }
        for step in call.steps.all()
    ]
    recordings = list(call.recordings.all())
    return render(
        request,
        "designer_ui/call_detail.html",
        {
            "access": access,
            "call": call,
            "steps": steps,
            "customer": customer,
            "messages": list(call.messages.all()),
            "voicemails": [r for r in recordings if r.kind == Recording.Kind.VOICEMAIL],
            "whole_call": [r for r in recordings if r.kind != Recording.Kind.VOICEMAIL],
            "callbacks": list(call.callbacks.all()),
            "editor_url": _editor_url(call),
        },
    )


def _editor_url(call: CallSession) -> str:
    if call.flow is None:
        return ""
    return (
        f"{reverse('designer:editor', args=[call.flow.slug])}?{urlencode({'call': call.call_sid})}"
    )


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    access = require_view(request)
    customer = get_object_or_404(Customer, pk=pk)
    labels = dict(CallSession.Outcome.choices)
    items = [
        {
            "kind": item.kind,
            "at": item.at,
            "data": item.data,
            "outcome": labels.get(item.data.get("outcome", ""), ""),
        }
        for item in timeline.timeline(number=customer.phone or "", customer=customer)
    ]
    return render(
        request,
        "designer_ui/customer.html",
        {"access": access, "customer": customer, "items": items},
    )
