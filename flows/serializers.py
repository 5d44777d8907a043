"""The API's shapes: input serializers parse requests, output serializers render rows.

Input serializers only check types and presence; what a definition means is judged by the
services (flows.services, flows.imports) and the validator (flows.spec), never here.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from flows.models import Flow, FlowVersion, PhoneNumber, validate_e164
from flows.spec import jsontext

FLOW_STATUSES = ("draft", "published", "changed")


def flow_status(flow: Flow) -> str:
    """draft: never published; published: the draft is the published version; else changed."""
    published = flow.published_version
    if published is None:
        return "draft"
    return "published" if published.checksum == flow.draft_checksum else "changed"


def _username(user: AbstractBaseUser | None) -> str | None:
    return user.get_username() if user is not None else None


class StrictJSONField(serializers.JSONField):
    """JSON; a form field's text is read as strictly as a JSON body (flows.spec.jsontext)."""

    def to_internal_value(self, data: Any) -> Any:
        if getattr(data, "is_json_string", False):  # DRF's mark on a form field's text
            try:
                data = jsontext.loads(str(data))
            except jsontext.JSONTextError as exc:
                raise serializers.ValidationError(exc.message) from exc
        return super().to_internal_value(data)


class DefinitionField(StrictJSONField):
    """A callflow/1 document: any JSON object (its content is checked by the validator)."""

    default_error_messages = {
        "not_object": "Expected a JSON object {{...}} (a callflow/1 definition)."
    }

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        value = super().to_internal_value(data)
        if not isinstance(value, dict):
            self.fail("not_object")
        return value


# --- output -------------------------------------------------------------------------------


class ProblemSerializer(serializers.Serializer):
    severity = serializers.ChoiceField(choices=["error", "warning"])
    path = serializers.CharField(help_text='JSON path, e.g. "$.nodes[2].config.timeout"')
    node = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class FlowListSerializer(serializers.ModelSerializer):
    status = serializers.SerializerMethodField()
    published_version = serializers.SerializerMethodField()
    numbers = serializers.SerializerMethodField()
    updated_by = serializers.SerializerMethodField()
    node_count = serializers.SerializerMethodField()

    class Meta:
        model = Flow
        fields = [
            "slug", "name", "description", "revision", "status", "published_version",
            "numbers", "updated_at", "updated_by", "node_count",
        ]  # fmt: skip
        read_only_fields = fields

    def get_status(self, flow: Flow) -> str:
        return flow_status(flow)

    def get_published_version(self, flow: Flow) -> int | None:
        return flow.published_version.number if flow.published_version else None

    def get_numbers(self, flow: Flow) -> list[str]:
        # numbers.all() reads the prefetch cache; sorting in Python keeps it that way
        return sorted(number.number for number in flow.numbers.all())

    def get_updated_by(self, flow: Flow) -> str | None:
        return _username(flow.updated_by)

    def get_node_count(self, flow: Flow) -> int:
        nodes = flow.definition.get("nodes") if isinstance(flow.definition, dict) else None
        return len(nodes) if isinstance(nodes, list) else 0


class FlowDetailSerializer(FlowListSerializer):
    definition = serializers.JSONField(help_text="The draft (callflow/1).")
    problems = serializers.SerializerMethodField(help_text="The draft's validation problems.")

    class Meta(FlowListSerializer.Meta):
        fields = [
            "slug", "name", "description", "definition", "revision", "status",
            "published_version", "numbers", "updated_at", "updated_by", "problems",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(ProblemSerializer(many=True))
    def get_problems(self, flow: Flow) -> list[dict[str, Any]]:
        """Problems are worked out by the view (they need the other flows for sub-flows)."""
        return [problem.as_dict() for problem in self.context.get("problems", [])]


class VersionSerializer(serializers.ModelSerializer):
    published_by = serializers.SerializerMethodField()
    is_current = serializers.SerializerMethodField()

    class Meta:
        model = FlowVersion
        fields = [
            "number", "note", "checksum", "published_at", "published_by",
            "rolled_back_from", "is_current",
        ]  # fmt: skip
        read_only_fields = fields

    def get_published_by(self, version: FlowVersion) -> str | None:
        return _username(version.published_by)

    def get_is_current(self, version: FlowVersion) -> bool:
        return version.pk == self.context["current_version_id"]


class VersionDetailSerializer(VersionSerializer):
    definition = serializers.JSONField()

    class Meta(VersionSerializer.Meta):
        fields = [*VersionSerializer.Meta.fields, "definition"]
        read_only_fields = fields


class NumberSerializer(serializers.ModelSerializer):
    flow = serializers.SlugRelatedField(slug_field="slug", read_only=True)

    class Meta:
        model = PhoneNumber
        fields = ["number", "flow", "label", "created_at"]
        read_only_fields = fields


class NodeTypeSerializer(serializers.Serializer):
    """The shape of NodeType.describe(), for the schema."""

    type = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    config_schema = serializers.JSONField(help_text="JSON Schema (2020-12) of the node's config")
    fixed_exits = serializers.ListField(child=serializers.CharField())
    optional_exits = serializers.ListField(child=serializers.CharField())
    dynamic_exits = serializers.BooleanField(help_text="More exits come from the config")
    waits_for_input = serializers.BooleanField()
    terminal = serializers.BooleanField()
    example = serializers.JSONField()
    new_config = serializers.JSONField(
        help_text="The config of a node new from the palette: the example's, without what "
        "acts on callers only when asked for (a route's on_abandon texts)"
    )


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    problems = ProblemSerializer(many=True)


class _ExitSerializer(serializers.Serializer):
    node = serializers.CharField()
    exit = serializers.CharField()
    to = serializers.CharField()


class _ExitChangeSerializer(_ExitSerializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword, so it cannot be declared as a class attribute
        return {**super().get_fields(), "from": serializers.CharField()}


class _NodeChangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())


class _NodesDiffSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = _NodeChangeSerializer(many=True)


class _ExitsDiffSerializer(serializers.Serializer):
    added = _ExitSerializer(many=True)
    removed = _ExitSerializer(many=True)
    changed = _ExitChangeSerializer(many=True)


class DiffSerializer(serializers.Serializer):
    nodes = _NodesDiffSerializer()
    exits = _ExitsDiffSerializer()
    settings = serializers.ListField(child=serializers.CharField())

    def get_fields(self) -> dict[str, serializers.Field]:
        def side() -> serializers.Field:
            return serializers.CharField(
                allow_null=True, help_text='A version number, "draft", or null (nothing published)'
            )

        # "from" is a Python keyword, so it cannot be declared as a class attribute
        return {"from": side(), "to": side(), **super().get_fields()}


class ConversionLineSerializer(serializers.Serializer):
    node = serializers.CharField(allow_null=True, help_text="The node, if the step became one")
    source = serializers.CharField(allow_null=True, help_text="The widget's or action's name")
    source_type = serializers.CharField(allow_null=True, help_text="Its type there")
    kind = serializers.ChoiceField(choices=["converted", "approximated", "dropped", "placeholder"])
    message = serializers.CharField(help_text="What became of it, and what to do")


class ImportedFlowSerializer(serializers.Serializer):
    slug = serializers.CharField()
    file = serializers.CharField()
    created = serializers.BooleanField()
    changed = serializers.BooleanField()
    published = serializers.BooleanField(help_text="This import published a new version")
    published_version = serializers.IntegerField(allow_null=True)
    warnings = ProblemSerializer(many=True)
    converted_from = serializers.CharField(
        allow_null=True,
        help_text='"Twilio Studio" or "Amazon Connect" when the file was converted; else null',
    )
    notes = serializers.ListField(
        child=serializers.CharField(), help_text="What the conversion could not carry over"
    )
    report = ConversionLineSerializer(
        many=True, help_text="Per node: converted, approximated, dropped or placeholder"
    )
    placeholders = serializers.ListField(
        child=serializers.CharField(),
        help_text="Ids of the placeholder nodes: published only with allow_placeholders",
    )
    held = serializers.BooleanField(
        help_text="publish was asked for and not done: the flow has placeholder nodes, or "
        "enters a sub-flow of this import held for them (held_by)"
    )
    held_by = serializers.ListField(
        child=serializers.CharField(),
        help_text="The sub-flows of this import, held for their placeholders, that it enters",
    )


class ImportErrorSerializer(serializers.Serializer):
    file = serializers.CharField()
    path = serializers.CharField()
    node = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ImportedTestsSerializer(serializers.Serializer):
    slug = serializers.CharField()
    file = serializers.CharField()
    count = serializers.IntegerField()
    changed = serializers.BooleanField()


class ImportReportSerializer(serializers.Serializer):
    flows = ImportedFlowSerializer(many=True)
    tests = ImportedTestsSerializer(many=True)
    warnings = ImportErrorSerializer(many=True)
    dry_run = serializers.BooleanField()


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    roles = serializers.ListField(child=serializers.CharField())
    can_edit = serializers.BooleanField()
    can_publish = serializers.BooleanField()


# --- input --------------------------------------------------------------------------------


class FlowCreateSerializer(serializers.Serializer):
    definition = DefinitionField(required=False)
    slug = serializers.SlugField(required=False, max_length=64)
    name = serializers.CharField(required=False, max_length=200)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "definition" not in attrs and not ("slug" in attrs and "name" in attrs):
            raise serializers.ValidationError(
                'Send {"definition": {...}}, or {"slug": ..., "name": ...} for an empty flow.'
            )
        return attrs


class FlowUpdateSerializer(serializers.Serializer):
    definition = DefinitionField()
    revision = serializers.IntegerField(
        min_value=1, help_text="The revision the edit is based on (from the last GET or save)."
    )
    force = serializers.BooleanField(default=False, help_text="Overwrite a newer revision.")


class ValidateSerializer(serializers.Serializer):
    definition = StrictJSONField(required=False, help_text="Default: the saved draft.")


class PublishSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")
    allow_placeholders = serializers.BooleanField(
        default=False,
        help_text="Publish even if the draft has placeholder nodes (calls reaching one run the fallback)",
    )
    revision = serializers.IntegerField(
        required=False, allow_null=True, default=None,
        help_text="Refuse (409) if the draft is no longer at this revision.",
    )  # fmt: skip


class RollbackSerializer(serializers.Serializer):
    version = serializers.IntegerField(min_value=1)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class VersionRef(serializers.Field):
    """A version number or the word "draft"."""

    default_error_messages = {"invalid": 'Expected a version number or "draft".'}

    def to_internal_value(self, data: Any) -> int | str | None:
        if data == "":  # an unset <select> in a form: the default applies
            return None
        if data == "draft":
            return "draft"
        try:
            number = int(data)
        except (TypeError, ValueError):
            self.fail("invalid")
        if number < 1:
            self.fail("invalid")
        return number

    def to_representation(self, value: int | str) -> int | str:
        return value


class DiffQuerySerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        # "from" is a Python keyword, so it cannot be declared as a class attribute
        return {
            "from": VersionRef(required=False, help_text="Default: the published version."),
            "to": VersionRef(required=False, help_text="Default: the draft."),
        }


class ExportQuerySerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, min_value=1)


class ImportSerializer(serializers.Serializer):
    definitions = serializers.ListField(
        child=DefinitionField(), required=False, help_text="callflow/1 documents (JSON body)"
    )
    files = serializers.ListField(
        child=serializers.FileField(), required=False, help_text="callflow/1 files (multipart)"
    )
    publish = serializers.BooleanField(default=False)
    dry_run = serializers.BooleanField(default=False)
    allow_placeholders = serializers.BooleanField(
        default=False,
        help_text="With publish, also publish flows that still have placeholder nodes",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("definitions") and not attrs.get("files"):
            raise serializers.ValidationError(
                "Nothing to import: send `definitions` (JSON) or `files` (multipart)."
            )
        return attrs


class NumberBindSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=20, validators=[validate_e164])
    flow = serializers.SlugRelatedField(slug_field="slug", queryset=Flow.objects.all())
    label = serializers.CharField(required=False, allow_blank=True, max_length=200)
