"""The call history's JSON: a call in a list, a call in detail, a timeline."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ivr_runtime.models import (
    CallbackRequest,
    CallHttpRequest,
    CallSession,
    CallStep,
    Customer,
    OutboundMessage,
    Recording,
)
from ivr_runtime.reports import history
from ivr_runtime.reports.timeline import Item


class CustomerSerializer(serializers.ModelSerializer):
    account = serializers.CharField(source="account_number")

    class Meta:
        model = Customer
        fields = ["id", "name", "account", "phone", "tier"]


class CallSerializer(serializers.ModelSerializer):
    sid = serializers.CharField(source="call_sid")
    flow = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    version = serializers.IntegerField(source="flow_version.number", default=None, read_only=True)
    to = serializers.CharField(source="to_number")
    outcome_node = serializers.SerializerMethodField()
    customer = CustomerSerializer(read_only=True, allow_null=True)

    class Meta:
        model = CallSession
        fields = [
            "sid",
            "flow",
            "version",
            "channel",
            "from_number",
            "to",
            "direction",
            "answered_by",
            "status",
            "provider_status",
            "outcome",
            "outcome_node",
            "started_at",
            "ended_at",
            "duration",
            "current_node",
            "customer",
            "simulated",
        ]

    def get_outcome_node(self, call: CallSession) -> str | None:
        return call.outcome_node or None

    def to_representation(self, instance: CallSession) -> dict[str, Any]:
        data = super().to_representation(instance)
        # `from` is a Python keyword, so the field is renamed here rather than declared.
        return {("from" if key == "from_number" else key): value for key, value in data.items()}


class CallPageSerializer(serializers.Serializer):
    next = serializers.URLField(allow_null=True, help_text="the next (older) page, or null")
    results = CallSerializer(many=True)


class HttpRequestSerializer(serializers.ModelSerializer):
    step = serializers.IntegerField(source="step_index")
    node = serializers.CharField(source="node_id")

    class Meta:
        model = CallHttpRequest
        fields = ["step", "node", "method", "url", "status", "ok", "error", "duration_ms", "at"]


class StepSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")
    type = serializers.CharField(source="node_type")
    exit = serializers.SerializerMethodField()
    entered = serializers.CharField(source="input", help_text="what the caller keyed or said")

    class Meta:
        model = CallStep
        fields = [
            "index",
            "node",
            "type",
            "input",
            "entered",
            "exit",
            "hung_up",
            "error",
            "at",
            "left_at",
        ]

    def get_exit(self, step: CallStep) -> str | None:
        return step.exit or None


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboundMessage
        fields = [
            "id",
            "to",
            "from_number",
            "body",
            "status",
            "provider_status",
            "error_code",
            "attempts",
            "created_at",
            "sent_at",
        ]


class RecordingSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")
    sid = serializers.CharField(source="recording_sid")

    class Meta:
        model = Recording
        fields = [
            "sid",
            "kind",
            "node",
            "url",
            "duration",
            "channels",
            "transcription",
            "transcription_status",
            "created_at",
        ]


class CallbackSerializer(serializers.ModelSerializer):
    node = serializers.CharField(source="node_id")

    class Meta:
        model = CallbackRequest
        fields = [
            "id",
            "number",
            "node",
            "status",
            "due_at",
            "attempts",
            "last_status",
            "completed_at",
            "created_at",
        ]


class DetailStepSerializer(StepSerializer):
    label = serializers.CharField(help_text="the node's label in the flow")
    heard = serializers.CharField(help_text="what the node said (rendered with the call's values)")
    http = HttpRequestSerializer(many=True, help_text="the requests this step made")

    class Meta(StepSerializer.Meta):
        fields = [*StepSerializer.Meta.fields, "label", "heard", "http"]


class CallDetailSerializer(CallSerializer):
    """The schema of GET /api/calls/<sid>/ (call_detail builds it)."""

    steps = DetailStepSerializer(many=True)
    http_requests = HttpRequestSerializer(many=True)
    messages = MessageSerializer(many=True)
    recordings = RecordingSerializer(many=True)
    callbacks = CallbackSerializer(many=True)

    class Meta(CallSerializer.Meta):
        fields = [
            *CallSerializer.Meta.fields,
            "variables",
            "errors",
            "steps",
            "http_requests",
            "messages",
            "recordings",
            "callbacks",
        ]


def call_detail(call: CallSession) -> dict[str, Any]:
    """The call, its steps (each with its label, what it said and its HTTP requests), and
    everything else it left."""
    data = CallSerializer(call).data
    requests = HttpRequestSerializer(call.http_requests.all(), many=True).data
    heard = history.heard_at_steps(call)
    labels = history.node_labels(call)
    steps = []
    for step in call.steps.all():
        row = StepSerializer(step).data
        row["label"] = labels.get(step.node_id, "")
        row["heard"] = heard.get(step.index, "")
        row["http"] = [r for r in requests if r["step"] == step.index]
        steps.append(row)
    return {
        **data,
        "variables": call.variables,
        "errors": call.errors,
        "steps": steps,
        "http_requests": requests,
        "messages": MessageSerializer(call.messages.all(), many=True).data,
        "recordings": RecordingSerializer(call.recordings.all(), many=True).data,
        "callbacks": CallbackSerializer(call.callbacks.all(), many=True).data,
    }


class TimelineItemSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["call", "sms", "callback", "voicemail"])
    at = serializers.DateTimeField()
    sid = serializers.CharField(allow_null=True, help_text="the call (or conversation) it is of")


class TimelineSerializer(serializers.Serializer):
    number = serializers.CharField(allow_null=True)
    customer = CustomerSerializer(allow_null=True)
    items = TimelineItemSerializer(many=True)


def timeline_answer(number: str | None, customer: Customer | None, items: list[Item]) -> Any:
    moment = serializers.DateTimeField()
    rows = []
    for item in items:
        data = {
            key: moment.to_representation(value) if hasattr(value, "tzinfo") and value else value
            for key, value in item.data.items()
        }
        rows.append({"kind": item.kind, "at": moment.to_representation(item.at), **data})
    return {
        "number": number or (customer.phone if customer else None),
        "customer": CustomerSerializer(customer).data if customer else None,
        "items": rows,
    }
