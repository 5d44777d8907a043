"""The call history: calls found by number, customer, flow, outcome and period; one call
in detail (what the caller heard and entered, the HTTP requests, texts, recordings and
callbacks it left).

Read-only; every list is in an indexed order (newest first) and paged by keyset, never
counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import phonenumbers
from django.conf import settings
from django.db.models import Prefetch, Q, QuerySet

from flows.models import Flow, FlowVersion
from flows.nodes.templating import render_template
from ivr_runtime.models import (
    CallbackRequest,
    CallHttpRequest,
    CallSession,
    CallStep,
    Customer,
    OutboundMessage,
    Recording,
)

#: customers a name or account search may match (their calls are then listed)
SEARCH_CUSTOMERS = 50
#: the config keys a node speaks, in the order a caller hears them
SPOKEN = ("announce", "text", "prompt", "say")


@dataclass(frozen=True)
class CallFilters:
    """What GET /api/calls/ and the designer's call list filter on (all optional)."""

    search: str = ""
    flow: Flow | None = None
    version: FlowVersion | None = None
    outcome: str = ""
    direction: str = ""
    status: str = ""
    channel: str = ""
    since: datetime | None = None
    until: datetime | None = None
    simulated: bool = False


def default_region(flow: Flow | None = None) -> str:
    """The region a national number is read in: the flow's (the region of a number bound
    to it, else of its language, en-GB -> GB), else PHONE_REGION."""
    if flow is not None:
        for number in flow.numbers.values_list("number", flat=True)[:1]:
            region = _region_of(number)
            if region:
                return region
        language = str((flow.definition or {}).get("language") or "")
        if "-" in language:
            region = language.rsplit("-", 1)[1].upper()
            if region in phonenumbers.SUPPORTED_REGIONS:
                return region
    return settings.PHONE_REGION


def _region_of(number: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(number))
    except phonenumbers.NumberParseException:
        return None


def as_e164(text: str, region: str) -> str | None:
    """`text` as an E.164 number if it reads as a possible one (in any format: +44 20...,
    020 ..., (020) ..., 0044...), else None."""
    if sum(ch.isdigit() for ch in text) < 6 or any(ch.isalpha() for ch in text):
        return None
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def calls_filtered(*, filters: CallFilters) -> QuerySet[CallSession]:
    """The calls matching `filters`, newest first (started_at, then id: the keyset)."""
    calls = CallSession.objects.filter(simulated=filters.simulated)
    if filters.flow is not None:
        calls = calls.filter(flow=filters.flow)
    if filters.version is not None:
        calls = calls.filter(flow_version=filters.version)
    for name in ("outcome", "direction", "status", "channel"):
        value = getattr(filters, name)
        if value:
            calls = calls.filter(**{name: value})
    if filters.since is not None:
        calls = calls.filter(started_at__gte=filters.since)
    if filters.until is not None:
        calls = calls.filter(started_at__lt=filters.until)
    if filters.search:
        calls = calls.filter(_search(filters.search, default_region(filters.flow)))
    return (
        calls.select_related("flow", "flow_version", "customer")
        .defer(*HEAVY_FIELDS)
        .order_by("-started_at", "-id")
    )


def after(calls: QuerySet[CallSession], started_at: datetime, pk: int) -> QuerySet[CallSession]:
    """The calls after (older than) the one at (started_at, pk) in the list's order."""
    return calls.filter(started_at__lte=started_at).filter(
        Q(started_at__lt=started_at) | Q(started_at=started_at, pk__lt=pk)
    )


#: what a list never shows (the state and the last answers are most of a row's bytes)
HEAVY_FIELDS = (
    "state",
    "variables",
    "attempts",
    "last_twiml",
    "wait_twiml",
    "draft_definition",
    "errors",
    "flow__definition",
    "flow_version__definition",
)


def _search(text: str, region: str) -> Q:
    """A number in any format, a customer's name or account number, or a call's SID."""
    text = text.strip()
    found = Q(call_sid=text)
    number = as_e164(text, region)
    if number:
        found |= Q(from_number=number)
    customers = list(
        Customer.objects.filter(Q(name__icontains=text) | Q(account_number=text)).values_list(
            "pk", "phone"
        )[:SEARCH_CUSTOMERS]
    )
    if customers:
        found |= Q(customer_id__in=[pk for pk, _ in customers])
        phones = [phone for _, phone in customers if phone]
        if phones:
            found |= Q(from_number__in=phones)
    return found


# --- one call -------------------------------------------------------------------------------
def call_detail(*, call_sid: str) -> CallSession | None:
    """The call with everything it left, in a fixed number of queries."""
    return (
        CallSession.objects.select_related("flow", "flow_version", "customer")
        .prefetch_related(
            Prefetch("steps", queryset=CallStep.objects.order_by("index")),
            Prefetch(
                "http_requests", queryset=CallHttpRequest.objects.order_by("step_index", "id")
            ),
            Prefetch("messages", queryset=OutboundMessage.objects.order_by("created_at", "id")),
            Prefetch("recordings", queryset=Recording.objects.order_by("created_at", "id")),
            Prefetch("callbacks", queryset=CallbackRequest.objects.order_by("created_at", "id")),
        )
        .filter(call_sid=call_sid)
        .first()
    )


def definition_of(call: CallSession) -> dict[str, Any]:
    if call.flow_version is not None:
        return call.flow_version.definition or {}
    return call.draft_definition or {}


def heard_at_steps(call: CallSession) -> dict[int, str]:
    """Step index -> what the node said, rendered with the call's values as they are now
    (a node of a subflow, or one whose template no longer renders, shows its text as written)."""
    nodes = {
        node.get("id"): node
        for node in definition_of(call).get("nodes") or []
        if isinstance(node, dict)
    }
    context = _context(call)
    heard = {}
    for step in call.steps.all():
        node = nodes.get(step.node_id)
        config = node.get("config") if node else None
        if not isinstance(config, dict):
            continue
        said = [_rendered(config[key], context) for key in SPOKEN if config.get(key)]
        if config.get("audio_url"):
            said.append(f"[audio] {config['audio_url']}")
        if said:
            heard[step.index] = " ".join(said)
    return heard


def _context(call: CallSession) -> dict[str, Any]:
    state = call.state or {}
    return {
        "caller": {"number": call.from_number},
        "call": {
            "sid": call.call_sid,
            "to": call.to_number,
            "from": call.from_number,
            "direction": call.direction,
            "answered_by": call.answered_by,
        },
        "vars": call.variables or {},
        "customer": state.get("customer") or {},
        "nodes": state.get("nodes") or {},
    }


def _rendered(template: Any, context: dict[str, Any]) -> str:
    if not isinstance(template, str):
        return ""
    try:
        return render_template(template, context).strip()
    except Exception:  # a template that no longer renders: what it says, as written
        return template.strip()


def node_labels(call: CallSession) -> dict[str, str]:
    return {
        str(node.get("id")): str(node.get("label") or "")
        for node in definition_of(call).get("nodes") or []
        if isinstance(node, dict) and node.get("label")
    }
