"""A flow's analytics: KPIs, where callers gave up, traffic by hour and by day, per node.

Every figure is an aggregate computed by the database (conditional counts, GROUP BY); no
call or step row is loaded into Python. Each query is served by an index commented with
it in ivr_runtime/models.py (`python -m benchmarks analytics` times them on 100,000 calls
and 1,000,000 steps and checks the plans).

The scope of a report (`Scope`) is a flow, or one of its versions, over a period:
calls by the time they started, steps by the time they were entered. Simulated calls are
left out, or counted alone when asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    Min,
    Q,
    QuerySet,
)
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone as dj_timezone

from flows.models import Flow, FlowVersion
from ivr_runtime.models import (
    CallbackRequest,
    CallSession,
    CallStep,
    OutboundMessage,
    Recording,
    RecoveryOffer,
)

Outcome = CallSession.Outcome

#: the KPIs, in the order the designer shows them (docs/api.md says what each counts)
KPI_KEYS = (
    "calls",
    "contained",
    "routed",
    "abandoned",
    "voicemails",
    "callbacks_offered",
    "callbacks_scheduled",
    "callbacks_completed",
    "sms_sent",
    "sms_delivered",
    "avg_seconds_to_agent",
)
#: calls the flow dealt with itself, nobody having to take them up afterwards
CONTAINED = (Outcome.SELF_SERVED, Outcome.SMS_FALLBACK)
#: KPIs that are shares of `calls` in `rates`
RATE_KEYS = ("contained", "routed", "abandoned", "voicemails", "callbacks_scheduled")
#: the longest period by_day is drawn for (a row per day)
MAX_DAYS = 3660


class UnknownVersion(Exception):
    def __init__(self, param: str, message: str) -> None:
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Scope:
    """What a report counts: the flow (or one version of it), from `since` to before `until`."""

    flow: Flow
    tz: ZoneInfo
    version: FlowVersion | None = None
    since: datetime | None = None
    until: datetime | None = None
    simulated: bool = False

    def calls(self) -> QuerySet[CallSession]:
        return CallSession.objects.filter(**_call_filters(self)).order_by()

    def steps(self) -> QuerySet[CallStep]:
        steps = CallStep.objects.filter(simulated=self.simulated)
        if self.version is not None:
            steps = steps.filter(flow_version_id=self.version.pk)
        else:
            steps = steps.filter(flow_id=self.flow.pk)
        if self.since is not None:
            steps = steps.filter(at__gte=self.since)
        if self.until is not None:
            steps = steps.filter(at__lt=self.until)
        return steps.order_by()

    def call_ids(self) -> QuerySet[CallSession]:
        return self.calls().values("pk")


def _call_filters(scope: Scope) -> dict[str, Any]:
    """The scope's calls, as lookups (served by callsession_flow_stats / _version_stats)."""
    found: dict[str, Any] = {"simulated": scope.simulated}
    if scope.version is not None:
        found["flow_version_id"] = scope.version.pk
    else:
        found["flow_id"] = scope.flow.pk
    if scope.since is not None:
        found["started_at__gte"] = scope.since
    if scope.until is not None:
        found["started_at__lt"] = scope.until
    return found


def flow_timezone(flow: Flow) -> ZoneInfo:
    """The flow's `timezone` (its draft's, as the designer shows it), else UTC."""
    name = (flow.definition or {}).get("timezone") if isinstance(flow.definition, dict) else None
    try:
        return ZoneInfo(name) if isinstance(name, str) and name else ZoneInfo("UTC")
    except (ValueError, KeyError, OSError):
        return ZoneInfo("UTC")


def flow_version(*, flow: Flow, number: int, param: str = "version") -> FlowVersion:
    found = FlowVersion.objects.filter(flow=flow, number=number).only("pk", "number").first()
    if found is None:
        raise UnknownVersion(param, f"flow {flow.slug!r} has no version {number}")
    return found


def flow_analytics(*, scope: Scope) -> dict[str, Any]:
    """The whole report of one scope (docs/api.md, GET /api/flows/<slug>/stats/)."""
    calls = _call_figures(scope)
    nodes, offered = node_traffic(scope=scope)
    hours, days = traffic_over_time(scope=scope, first_call=calls["first"])
    kpis = {
        "calls": calls["calls"],
        "contained": calls["contained"],
        "routed": calls["routed"],
        "abandoned": calls["abandoned"],
        "voicemails": _voicemails(scope),
        "callbacks_offered": offered + _recovery_offers(scope),
        **_callbacks(scope),
        **_texts(scope),
        "avg_seconds_to_agent": _seconds_to_agent(scope),
    }
    return {
        "flow": scope.flow.slug,
        "version": scope.version.number if scope.version is not None else None,
        "since": scope.since,
        "until": scope.until,
        "timezone": str(scope.tz),
        "simulated": scope.simulated,
        "calls": kpis["calls"],
        "kpis": kpis,
        "rates": rates(kpis),
        "abandoned_at": abandoned_at(scope=scope),
        "by_hour": hours,
        "by_day": days,
        "nodes": nodes,
    }


def flow_comparison(*, base: Scope, other: Scope) -> dict[str, Any]:
    """Two versions over the same period side by side, and `other` less `base`."""
    first, second = flow_analytics(scope=base), flow_analytics(scope=other)
    return {
        "flow": base.flow.slug,
        "since": base.since,
        "until": base.until,
        "timezone": str(base.tz),
        "simulated": base.simulated,
        "versions": [first, second],
        "delta": _delta(first["kpis"], second["kpis"]),
        "rates_delta": _delta(first["rates"], second["rates"], digits=4),
    }


def rates(kpis: dict[str, Any]) -> dict[str, float | None]:
    calls = kpis["calls"]
    return {key: (round(kpis[key] / calls, 4) if calls else None) for key in RATE_KEYS}


def _delta(
    first: dict[str, Any], second: dict[str, Any], *, digits: int = 1
) -> dict[str, float | int | None]:
    out: dict[str, float | int | None] = {}
    for key, value in second.items():
        if value is None or first.get(key) is None:
            out[key] = None
        elif isinstance(value, int) and isinstance(first[key], int):
            out[key] = value - first[key]
        else:
            out[key] = round(value - first[key], digits)
    return out


# --- the queries ---------------------------------------------------------------------------
def _call_figures(scope: Scope) -> dict[str, Any]:
    """One pass over the scope's calls: conditional counts of their outcomes."""
    return scope.calls().aggregate(
        calls=Count("pk"),
        contained=Count("pk", filter=Q(outcome__in=CONTAINED)),
        routed=Count("pk", filter=Q(outcome=Outcome.ROUTED)),
        abandoned=Count("pk", filter=Q(outcome=Outcome.ABANDONED)),
        first=Min("started_at"),
    )


def abandoned_at(*, scope: Scope) -> dict[str, int]:
    """Where callers gave up: the node each abandoned call ended at -> how many."""
    rows = (
        scope.calls()
        .filter(outcome=Outcome.ABANDONED)
        .values("outcome_node")
        .annotate(n=Count("pk"))
        .order_by("-n", "outcome_node")
    )
    return {row["outcome_node"] or "": row["n"] for row in rows}


def traffic_over_time(
    *, scope: Scope, first_call: datetime | None
) -> tuple[list[dict[str, int]], list[dict[str, Any]]]:
    """by_hour (24 rows, each hour of the day) and by_day (each day of the period, days
    without calls included), both in the flow's time zone, from one GROUP BY (day, hour).

    The period runs from `since` (else the day of the first call) to `until` (else today).
    """
    rows = (
        scope.calls()
        .values(
            day=TruncDate("started_at", tzinfo=scope.tz),
            hour=ExtractHour("started_at", tzinfo=scope.tz),
        )
        .annotate(calls=Count("pk"), abandoned=Count("pk", filter=Q(outcome=Outcome.ABANDONED)))
    )
    hours = [{"hour": hour, "calls": 0, "abandoned": 0} for hour in range(24)]
    days: dict[date, dict[str, Any]] = {}
    for row in rows:
        for entry in (
            hours[row["hour"]],
            days.setdefault(row["day"], {"calls": 0, "abandoned": 0}),
        ):
            entry["calls"] += row["calls"]
            entry["abandoned"] += row["abandoned"]
    first, last = period_days(scope=scope, first_call=first_call)
    by_day = []
    day = first
    while day is not None and last is not None and day <= last:
        found = days.get(day, {"calls": 0, "abandoned": 0})
        by_day.append({"date": day.isoformat(), **found})
        day += timedelta(days=1)
    return hours, by_day


def period_days(*, scope: Scope, first_call: datetime | None) -> tuple[date | None, date | None]:
    """The first and last local day of the scope's period (none without calls or bounds)."""
    start = scope.since or first_call
    if start is None:
        return None, None
    end = scope.until - timedelta(microseconds=1) if scope.until else dj_timezone.now()
    first = start.astimezone(scope.tz).date()
    last = max(first, end.astimezone(scope.tz).date())
    return first, last


def node_traffic(*, scope: Scope) -> tuple[dict[str, dict[str, Any]], int]:
    """Per node: entered, exits by name, hung up there; and how many callback offers.

    One GROUP BY over the scope's steps (served by callstep_flow_stats or
    callstep_version_stats); every node of the flow's definition is listed, visited or not.
    """
    definition = scope.version.definition if scope.version is not None else scope.flow.definition
    nodes: dict[str, dict[str, Any]] = {
        node["id"]: {"entered": 0, "exits": {}, "hung_up": 0}
        for node in (definition or {}).get("nodes", [])
        if isinstance(node, dict) and isinstance(node.get("id"), str)
    }
    rows = (
        scope.steps()
        .values("node_id", "node_type", "exit")
        .annotate(n=Count("pk"), hung=Count("pk", filter=Q(hung_up=True)))
    )
    offered = 0
    for row in rows:
        entry = nodes.setdefault(row["node_id"], {"entered": 0, "exits": {}, "hung_up": 0})
        entry["entered"] += row["n"]
        entry["hung_up"] += row["hung"]
        if row["exit"]:
            entry["exits"][row["exit"]] = entry["exits"].get(row["exit"], 0) + row["n"]
        if row["node_type"] == "callback":
            offered += row["n"]
    return nodes, offered


def _voicemails(scope: Scope) -> int:
    return Recording.objects.filter(
        kind=Recording.Kind.VOICEMAIL, session_id__in=scope.call_ids()
    ).count()


def _recovery_offers(scope: Scope) -> int:
    """Callbacks offered by text to the scope's callers who hung up while queued or ringing
    (`route.config.on_abandon`). Their texts and the callbacks they booked belong to the
    call, so _texts and _callbacks count them already."""
    return RecoveryOffer.objects.filter(session_id__in=scope.call_ids(), callback=True).count()


def _callbacks(scope: Scope) -> dict[str, int]:
    return CallbackRequest.objects.filter(session_id__in=scope.call_ids()).aggregate(
        callbacks_scheduled=Count("pk"),
        callbacks_completed=Count("pk", filter=Q(status=CallbackRequest.Status.DONE)),
    )


def _texts(scope: Scope) -> dict[str, int]:
    """Texts the provider took (`sent_at`), and those it reported delivered."""
    return OutboundMessage.objects.filter(session_id__in=scope.call_ids()).aggregate(
        sms_sent=Count("pk", filter=Q(sent_at__isnull=False)),
        sms_delivered=Count("pk", filter=Q(status=OutboundMessage.Status.DELIVERED)),
    )


def _seconds_to_agent(scope: Scope) -> float | None:
    """Mean seconds from a routed call's start to the step of the route node that
    connected it: the time the caller spent in the flow (Twilio reports ring and queue
    time only once the conversation is over).

    The flow's route steps (callstep_route_stats: a version's steps are its flow's too)
    joined to the scope's routed calls (callsession_flow_stats / _version_stats).
    """
    calls = {f"session__{key}": value for key, value in _call_filters(scope).items()}
    steps = CallStep.objects.filter(
        flow_id=scope.flow.pk,
        simulated=scope.simulated,
        node_type="route",
        exit="connected",
        session__outcome=Outcome.ROUTED,
        **calls,
    )
    if scope.since is not None:
        steps = steps.filter(at__gte=scope.since)  # a call's steps come after its start
    waited = ExpressionWrapper(F("at") - F("session__started_at"), output_field=DurationField())
    mean = steps.order_by().aggregate(mean=Avg(waited))["mean"]
    if mean is None:
        return None
    seconds = mean.total_seconds() if isinstance(mean, timedelta) else float(mean) / 1e6
    return round(seconds, 1)


def local_bounds(day: date, tz: ZoneInfo) -> datetime:
    """The start of a local day, aware."""
    return datetime.combine(day, time.min, tzinfo=tz)
