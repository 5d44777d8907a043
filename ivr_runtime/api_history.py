"""The call history API (docs/api.md): calls filtered and paged (or as CSV), one call in
detail, one customer's timeline. Thin views over ivr_runtime.reports."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime, time
from typing import Any

from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import renderers, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flows.models import Flow, FlowVersion
from flows.permissions import VIEW_FLOW
from ivr_runtime import history_serializers as out
from ivr_runtime.models import CallSession, Customer
from ivr_runtime.reports import export, history, timeline

PAGE = 50
MAX_PAGE = 500


class CsvRenderer(renderers.BaseRenderer):
    """Lets `?format=csv` through content negotiation; the view streams the CSV itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context=None):
        return b"" if data is None else str(data).encode()


@extend_schema_field(OpenApiTypes.DATETIME)
class Moment(serializers.Field):
    """An ISO date-time, or a date (its midnight, in the server's time zone)."""

    default_error_messages = {"invalid": "an ISO 8601 date or date-time, like 2026-12-01T09:00Z"}

    def __init__(self, *, end: bool = False, **kwargs: Any):
        self.end = end
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> datetime:
        text = str(data).strip()
        try:
            if len(text) == 10:
                day = datetime.fromisoformat(text).date()
                if self.end:  # `until` a day: up to the end of that day
                    day = day.fromordinal(day.toordinal() + 1)
                return timezone.make_aware(datetime.combine(day, time()))
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            self.fail("invalid")
        return moment if timezone.is_aware(moment) else timezone.make_aware(moment)

    def to_representation(self, value: Any) -> Any:
        return value


class CallQuery(serializers.Serializer):
    search = serializers.CharField(required=False, allow_blank=True, max_length=100)
    flow = serializers.SlugField(required=False, allow_blank=True, max_length=100)
    version = serializers.IntegerField(required=False, min_value=1)
    outcome = serializers.ChoiceField(
        required=False, allow_blank=True, choices=CallSession.Outcome.values
    )
    direction = serializers.ChoiceField(
        required=False, allow_blank=True, choices=CallSession.Direction.values
    )
    status = serializers.ChoiceField(
        required=False, allow_blank=True, choices=CallSession.Status.values
    )
    channel = serializers.ChoiceField(required=False, allow_blank=True, choices=["voice", "sms"])
    since = Moment(required=False)
    until = Moment(required=False, end=True)
    simulated = serializers.BooleanField(required=False, default=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, default=PAGE)
    cursor = serializers.CharField(required=False, allow_blank=True, max_length=200)

    def validate_flow(self, slug: str) -> Flow | None:
        if not slug:
            return None
        flow = Flow.objects.filter(slug=slug).first()
        if flow is None:
            raise ValidationError(f"no flow {slug!r}")
        return flow

    def validate_cursor(self, text: str) -> tuple[datetime, int] | None:
        if not text:
            return None
        try:
            moment, pk = base64.urlsafe_b64decode(text.encode()).decode().split("|")
            return datetime.fromisoformat(moment), int(pk)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise ValidationError("not a cursor this list gave") from None

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if "version" in data:
            flow = data.get("flow")
            if flow is None:
                raise ValidationError({"version": ["a version needs its flow (flow=slug)"]})
            version = FlowVersion.objects.filter(flow=flow, number=data["version"]).first()
            if version is None:
                raise ValidationError({"version": [f"flow {flow.slug!r} has no such version"]})
            data["version"] = version
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError({"until": ["must be after since"]})
        return data

    def filters(self) -> history.CallFilters:
        data = self.validated_data
        return history.CallFilters(
            search=data.get("search", "").strip(),
            flow=data.get("flow"),
            version=data.get("version"),
            outcome=data.get("outcome", ""),
            direction=data.get("direction", ""),
            status=data.get("status", ""),
            channel=data.get("channel", ""),
            since=data.get("since"),
            until=data.get("until"),
            simulated=data["simulated"],
        )


def cursor_of(call: CallSession) -> str:
    return base64.urlsafe_b64encode(f"{call.started_at.isoformat()}|{call.pk}".encode()).decode()


class CallListView(APIView):
    """Calls newest first, filtered; paged by `cursor` (each page's `next`), or all of
    them as CSV (`?format=csv`, `/api/calls/export.csv`)."""

    required_permissions = {"get": VIEW_FLOW}
    renderer_classes = [*APIView.renderer_classes, CsvRenderer]
    as_csv = False

    @extend_schema(
        operation_id="calls_list", parameters=[CallQuery], responses={200: out.CallPageSerializer}
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        query = CallQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        calls = history.calls_filtered(filters=query.filters())
        if self.as_csv or request.accepted_renderer.format == "csv":
            return export.calls_csv_response(calls)
        limit = query.validated_data["limit"]
        after = query.validated_data.get("cursor")
        if after is not None:
            calls = history.after(calls, *after)
        page = list(calls[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        next_url = None
        if more:
            params = request.query_params.copy()
            params["cursor"] = cursor_of(page[-1])
            next_url = request.build_absolute_uri(f"{request.path}?{params.urlencode()}")
        return Response({"next": next_url, "results": out.CallSerializer(page, many=True).data})


class CallExportView(CallListView):
    """The filtered call list as CSV, every page of it (the same filters as the list)."""

    as_csv = True

    @extend_schema(
        operation_id="calls_export",
        parameters=[CallQuery],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    def get(self, request: Request) -> Response | StreamingHttpResponse:
        return super().get(request)


class CallDetailView(APIView):
    """One call: its steps (heard, entered, exit), HTTP requests, texts with their delivery
    status, recordings with their transcription, callbacks, and the customer."""

    required_permissions = {"get": VIEW_FLOW}

    @extend_schema(operation_id="calls_retrieve", responses={200: out.CallDetailSerializer})
    def get(self, request: Request, sid: str) -> Response:
        call = history.call_detail(call_sid=sid)
        if call is None:
            raise NotFound(f"no call {sid!r}")
        return Response(out.call_detail(call))


class TimelineQuery(serializers.Serializer):
    number = serializers.CharField(required=False, allow_blank=True, max_length=64)
    customer = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_PAGE)

    def validate_number(self, text: str) -> str:
        if not text.strip():
            return ""
        number = history.as_e164(text, history.default_region())
        if number is None:
            raise ValidationError("not a phone number (E.164, like +447700900123)")
        return number

    def validate_customer(self, pk: int) -> Customer:
        customer = Customer.objects.filter(pk=pk).first()
        if customer is None:
            raise ValidationError(f"no customer {pk}")
        return customer

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        if not data.get("number") and not data.get("customer"):
            raise ValidationError({"number": ["number or customer is required"]})
        return data


class TimelineView(APIView):
    """A number's or a customer's calls, SMS conversations, callbacks and voicemails,
    newest first."""

    required_permissions = {"get": VIEW_FLOW}

    @extend_schema(
        parameters=[
            OpenApiParameter("number", str, description="+E164 (or national, in PHONE_REGION)"),
            OpenApiParameter("customer", int, description="a customer's id"),
            OpenApiParameter("limit", int, description=f"at most (default {timeline.LIMIT})"),
        ],
        responses={200: out.TimelineSerializer},
    )
    def get(self, request: Request) -> Response:
        query = TimelineQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        data = query.validated_data
        customer = data.get("customer")
        number = data.get("number") or ""
        if customer is None and number:
            customer = Customer.objects.filter(phone=number).first()
        items = timeline.timeline(
            number=number,
            customer=customer,
            limit=data.get("limit") or timeline.LIMIT,
        )
        return Response(out.timeline_answer(number or None, customer, items))
