"""GET /api/flows/<slug>/stats/: a flow's analytics, or two versions side by side.

The view parses the query (a 400 names each bad parameter) and hands a Scope to
ivr_runtime.reports.analytics; docs/api.md describes the answer.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flows.models import Flow
from flows.permissions import VIEW_FLOW
from ivr_runtime.reports import analytics

ALLOWED = {"since", "until", "version", "compare", "versions", "simulated", "format"}


class PeriodBound(serializers.CharField):
    """A date (YYYY-MM-DD: that whole day in the flow's time zone) or an ISO datetime (one
    without an offset is read in the flow's time zone)."""

    def __init__(self, *, end: bool, **kwargs: Any) -> None:
        self.end = end
        super().__init__(required=False, **kwargs)

    def to_internal_value(self, data: Any) -> datetime:
        text = super().to_internal_value(data).strip()
        tz: ZoneInfo = self.context["tz"]
        try:
            day = parse_date(text) if len(text) == 10 else None
        except ValueError:  # 2026-13-01: the form of a date, not one
            day = None
        if day is not None:
            start = analytics.local_bounds(day, tz)
            return start + timedelta(days=1) if self.end else start
        try:
            moment = parse_datetime(text)
        except ValueError:
            moment = None
        if moment is None:
            raise ValidationError("a date (YYYY-MM-DD) or an ISO 8601 date and time")
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)


class StatsQuery(serializers.Serializer):
    since = PeriodBound(end=False, help_text="from this date or time on (default: all calls)")
    until = PeriodBound(end=True, help_text="up to this time, or to the end of this date")
    version = serializers.IntegerField(required=False, min_value=1)
    compare = serializers.IntegerField(
        required=False, min_value=1, help_text="a second version to set beside `version`"
    )
    versions = serializers.RegexField(
        r"^\s*[1-9][0-9]*\s*,\s*[1-9][0-9]*\s*$",
        required=False,
        help_text="two versions side by side: `12,13` (the second less the first in `delta`)",
        error_messages={"invalid": "two version numbers separated by a comma: 12,13"},
    )
    simulated = serializers.BooleanField(
        required=False, default=False, help_text="count simulated calls (and only those)"
    )

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        since, until = data.get("since"), data.get("until")
        if since and until and until <= since:
            raise ValidationError({"until": ["must be later than since"]})
        if since and (until or timezone.now()) - since > timedelta(days=analytics.MAX_DAYS):
            raise ValidationError({"since": [f"a period is at most {analytics.MAX_DAYS} days"]})
        if "versions" in data:
            for other in ("version", "compare"):
                if other in data:
                    raise ValidationError({other: ["give either versions or version/compare"]})
            first, second = (int(n) for n in data["versions"].split(","))
            if first == second:
                raise ValidationError({"versions": ["two different versions"]})
            data["pair"] = (first, second)
        elif "compare" in data and data["compare"] == data.get("version"):
            raise ValidationError({"compare": ["a version other than `version`"]})
        return data


class FlowStatsView(APIView):
    """A flow's analytics from real calls: KPIs, where callers gave up, by hour, by day and
    per node; or two versions side by side (`compare`, `versions`)."""

    required_permissions = {"get": VIEW_FLOW}

    @extend_schema(
        parameters=[
            StatsQuery,
            OpenApiParameter("since", str, description="YYYY-MM-DD or an ISO 8601 datetime"),
            OpenApiParameter("until", str, description="YYYY-MM-DD (inclusive) or a datetime"),
        ],
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, slug: str) -> Response:
        flow = get_object_or_404(Flow, slug=slug)
        unknown = sorted(set(request.query_params) - ALLOWED)
        if unknown:
            raise ValidationError({name: ["not a parameter of this endpoint"] for name in unknown})
        tz = analytics.flow_timezone(flow)
        query = StatsQuery(data=request.query_params, context={"tz": tz})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        try:
            return Response(_report(flow, tz, data))
        except analytics.UnknownVersion as exc:
            raise NotFound(f"{exc.param}: {exc}") from exc


def _report(flow: Flow, tz: ZoneInfo, data: dict[str, Any]) -> dict[str, Any]:
    def scope(number: int | None, param: str) -> analytics.Scope:
        version = (
            analytics.flow_version(flow=flow, number=number, param=param)
            if number is not None
            else None
        )
        return analytics.Scope(
            flow=flow,
            tz=tz,
            version=version,
            since=data.get("since"),
            until=data.get("until"),
            simulated=data["simulated"],
        )

    if "pair" in data:
        first, second = data["pair"]
        return analytics.flow_comparison(
            base=scope(first, "versions"), other=scope(second, "versions")
        )
    if "compare" in data:
        version = data.get("version") or _published(flow)
        return analytics.flow_comparison(
            base=scope(data["compare"], "compare"), other=scope(version, "version")
        )
    return analytics.flow_analytics(scope=scope(data.get("version"), "version"))


def _published(flow: Flow) -> int:
    if flow.published_version_id is None:
        raise ValidationError({"version": ["the flow is not published: name the version"]})
    return flow.published_version.number
