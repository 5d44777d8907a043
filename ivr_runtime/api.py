"""The runtime's API (docs/api.md, docs/runtime.md): statistics, the simulator, outbound
calls (the call history is api_history).

Thin views: parse, call a service or a report, render. Permissions are declared per
method and enforced by flows.permissions.RolePermission.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flows import services as flow_services
from flows.models import Flow
from flows.permissions import CHANGE_FLOW, PUBLISH_FLOW, VIEW_FLOW
from ivr_runtime.flowtests.runner import run_tests
from ivr_runtime.models import CallSession, OutboundCall
from ivr_runtime.voice import outbound, simulator

QUEUE_RESULTS = ("bridged", "leave", "hangup", "queue-full", "error")
HANDOVER_RESULTS = ("return", "timeout", "unreachable")


class SimEventSerializer(serializers.Serializer):
    type = serializers.ChoiceField(
        choices=[
            "start",
            "digits",
            "speech",
            "silence",
            "dial",
            "queue",
            "record",
            "redirect",
            "hangup",
        ]
    )
    digits = serializers.CharField(
        required=False, allow_blank=True, max_length=64, trim_whitespace=False
    )
    speech = serializers.CharField(required=False, allow_blank=True, max_length=1000)
    status = serializers.ChoiceField(
        required=False, choices=["completed", "no-answer", "busy", "failed", "canceled"]
    )
    result = serializers.ChoiceField(
        required=False,
        choices=[*QUEUE_RESULTS, *HANDOVER_RESULTS],
    )
    duration = serializers.IntegerField(required=False, min_value=0, max_value=3600)

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        needed = {
            "digits": "digits",
            "speech": "speech",
            "dial": "status",
            "queue": "result",
            "record": "duration",
            "redirect": "result",
        }
        field = needed.get(data["type"])
        if field and field not in data:
            raise ValidationError({field: [f"required for a {data['type']!r} event"]})
        allowed = {"queue": QUEUE_RESULTS, "redirect": HANDOVER_RESULTS}.get(data["type"])
        if allowed and data["result"] not in allowed:
            raise ValidationError(
                {"result": [f"a {data['type']!r} event's result is one of {', '.join(allowed)}"]}
            )
        return data


class SimOutboundSerializer(serializers.Serializer):
    """The number and vars are checked as a real outbound call's (simulator.SimOutbound)."""

    to = serializers.CharField(max_length=64, allow_blank=True)
    answered_by = serializers.ChoiceField(choices=simulator.ANSWERED_BY, required=False, default="")
    vars = serializers.JSONField(required=False, default=dict)


class SimulateSerializer(serializers.Serializer):
    session = serializers.CharField(required=False, allow_null=True, max_length=64)
    source = serializers.ChoiceField(choices=["draft", "published"], default="draft")
    event = SimEventSerializer()
    outbound = SimOutboundSerializer(required=False, allow_null=True)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.RegexField(
            r"^\+[1-9][0-9]{6,14}$", required=False, allow_null=True
        )
        return fields


class SimulateView(APIView):
    """Place or continue a simulated call through the real runtime (docs/runtime.md)."""

    required_permissions = {"post": CHANGE_FLOW}

    @extend_schema(request=SimulateSerializer, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str) -> Response:
        flow = get_object_or_404(Flow, slug=slug)
        parsed = SimulateSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        data = parsed.validated_data
        try:
            answer = simulator.simulate(
                flow=flow,
                session_id=data.get("session"),
                source=data["source"],
                caller=data.get("from"),
                event=simulator.SimEvent(**data["event"]),
                outbound_call=_sim_outbound(data.get("outbound")),
            )
        except simulator.SimulationError as exc:
            return Response({"detail": str(exc)}, status=exc.status)
        return Response(answer, status=status.HTTP_200_OK)


def _sim_outbound(data: dict[str, Any] | None) -> simulator.SimOutbound | None:
    if not data:
        return None
    return simulator.SimOutbound(
        to=data["to"], answered_by=data["answered_by"], variables=data["vars"]
    )


class OutboundCallSerializer(serializers.Serializer):
    to = serializers.CharField(max_length=64)
    vars = serializers.DictField(required=False, default=dict)
    machine_detection = serializers.BooleanField(required=False, default=False)

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = serializers.CharField(
            max_length=64, required=False, allow_null=True, allow_blank=True
        )
        return fields


class OutboundCallView(APIView):
    """Place an outbound call that runs the flow's published version (docs/api.md)."""

    required_permissions = {"post": PUBLISH_FLOW}

    @extend_schema(request=OutboundCallSerializer, responses={201: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str) -> Response:
        parsed = OutboundCallSerializer(data=request.data)
        parsed.is_valid(raise_exception=True)
        data = parsed.validated_data
        try:
            call = outbound.outbound_request(
                flow_slug=slug,
                to=data["to"],
                from_=data.get("from") or None,
                variables=data["vars"],
                machine_detection=data["machine_detection"],
            )
        except outbound.Refused as exc:
            body = {exc.field: [str(exc)]} if exc.field else {"detail": str(exc)}
            return Response(body, status=exc.status)
        if call.status == OutboundCall.Status.FAILED:
            return Response(
                {"detail": f"Twilio refused the call: {call.last_error}", "id": call.pk},
                status=status.HTTP_502_BAD_GATEWAY,
            )
        return Response(outbound_answer(call), status=status.HTTP_201_CREATED)


class OutboundCallDetailView(APIView):
    """One outbound call asked for: queued for its slot, placed (with Twilio's CallSid and
    the call's status), or failed (with why)."""

    required_permissions = {"get": VIEW_FLOW}

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, slug: str, id: int) -> Response:
        call = get_object_or_404(OutboundCall, pk=id, flow__slug=slug)
        return Response(
            {
                **outbound_answer(call),
                "attempts": call.attempts,
                "error": call.last_error or None,
                "requested_at": call.created_at,
                "placed_at": call.placed_at,
            }
        )


def outbound_answer(call: OutboundCall) -> dict[str, Any]:
    """`sid` is Twilio's CallSid once placed (null while the call waits for its slot)."""
    placed = call.status == OutboundCall.Status.PLACED
    provider = (
        CallSession.objects.filter(call_sid=call.call_sid)
        .values_list("provider_status", flat=True)
        .first()
        if placed
        else None
    )
    waiting = "failed" if call.status == OutboundCall.Status.FAILED else "queued"
    return {
        "sid": call.call_sid or None,
        "status": (provider or "queued") if placed else waiting,
        "id": call.pk,
        "to": call.to_number,
        "from": call.from_number,
    }


class FlowTestsRunView(APIView):
    """Run the flow's tests, or those sent (a callflow-test/1 file of the flow, or
    `{"tests": [...]}`), on its draft: nothing is kept, sent or reached."""

    required_permissions = {"post": CHANGE_FLOW}

    @extend_schema(request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT})
    def post(self, request: Request, slug: str) -> Response:
        flow = get_object_or_404(Flow, slug=slug)
        sent = request.data
        tests = (
            flow_services.tests_checked(slug, sent, action="nothing was run")
            if sent
            else flow.tests
        )
        return Response(run_tests(flow, tests, seconds=settings.FLOW_TESTS_SECONDS).as_dict())
