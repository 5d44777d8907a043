"""Kept drafts in the API (docs/api.md, "Kept drafts"): the unpublished work a rollback or a
restore replaced, listed, read and restored.

    GET  /api/flows/<slug>/drafts/                 the kept drafts, newest first (viewer)
    GET  /api/flows/<slug>/drafts/<id>/            one, with its definition (viewer)
    POST /api/flows/<slug>/drafts/<id>/restore/    make it the draft again (editor)

The rollback's answer (flows.api.FlowViewSet.rollback) names the draft it kept with
`kept_draft_of`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flows import drafts
from flows import serializers as s
from flows.models import Flow, FlowVersion, KeptDraft
from flows.permissions import CHANGE_FLOW, VIEW_VERSION

# --- shapes -------------------------------------------------------------------------------


class KeptDraftSerializer(serializers.ModelSerializer):
    saved_by = serializers.SerializerMethodField()
    kept_by = serializers.SerializerMethodField()
    restored_by = serializers.SerializerMethodField()
    why = serializers.CharField(read_only=True, help_text="What replaced it, in words.")
    rollback_version = serializers.SerializerMethodField(
        help_text="The version the rollback that replaced it published (reason rollback)."
    )
    node_count = serializers.SerializerMethodField()

    class Meta:
        model = KeptDraft
        fields = [
            "id", "revision", "checksum", "saved_at", "saved_by", "kept_at", "kept_by",
            "reason", "why", "rollback_version", "restored_at", "restored_by", "node_count",
        ]  # fmt: skip
        read_only_fields = fields

    def get_saved_by(self, kept: KeptDraft) -> str | None:
        return kept.saved_by.get_username() if kept.saved_by else None

    def get_kept_by(self, kept: KeptDraft) -> str | None:
        return kept.kept_by.get_username() if kept.kept_by else None

    def get_restored_by(self, kept: KeptDraft) -> str | None:
        return kept.restored_by.get_username() if kept.restored_by else None

    def get_rollback_version(self, kept: KeptDraft) -> int | None:
        return kept.rollback_version.number if kept.rollback_version else None

    def get_node_count(self, kept: KeptDraft) -> int:
        nodes = kept.definition.get("nodes") if isinstance(kept.definition, dict) else None
        return len(nodes) if isinstance(nodes, list) else 0


class KeptDraftDetailSerializer(KeptDraftSerializer):
    definition = serializers.JSONField()

    class Meta(KeptDraftSerializer.Meta):
        fields = [*KeptDraftSerializer.Meta.fields, "definition"]
        read_only_fields = fields


class RollbackResultSerializer(s.VersionDetailSerializer):
    """The rollback's answer: the version it published, and the draft it kept."""

    kept_draft = KeptDraftSerializer(
        allow_null=True,
        help_text="The unpublished draft the rollback replaced, kept (null: there was none).",
    )

    class Meta(s.VersionDetailSerializer.Meta):
        fields = [*s.VersionDetailSerializer.Meta.fields, "kept_draft"]
        read_only_fields = fields


class RestoreResultSerializer(s.FlowDetailSerializer):
    """The restore's answer: the flow with its new draft, and the draft the restore kept."""

    kept_draft = KeptDraftSerializer(
        allow_null=True,
        help_text="The unpublished draft the restore replaced, kept (null: there was none).",
    )

    class Meta(s.FlowDetailSerializer.Meta):
        fields = [*s.FlowDetailSerializer.Meta.fields, "kept_draft"]
        read_only_fields = fields


class RestoreSerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        min_value=1, help_text="The draft's revision the restore is based on (409 if not current)."
    )
    force = serializers.BooleanField(default=False, help_text="Restore over a newer revision.")


def kept_draft_of(version: FlowVersion) -> dict[str, Any] | None:
    """The draft the rollback that published `version` kept, as the API shows it."""
    kept = version.kept_drafts.select_related("saved_by", "kept_by", "restored_by").first()
    if kept is None:
        return None
    kept.rollback_version = version
    return KeptDraftSerializer(kept).data


# --- views --------------------------------------------------------------------------------


def _flow(slug: str) -> Flow:
    flow = Flow.objects.filter(slug=slug).first()
    if flow is None:
        raise NotFound(f"There is no flow {slug!r}.")
    return flow


def _kept(slug: str, pk: int) -> KeptDraft:
    try:
        return drafts.kept_draft_get(flow=_flow(slug), kept_id=pk)
    except drafts.KeptDraftNotFound as exc:
        raise NotFound(str(exc)) from exc


class KeptDraftListView(APIView):
    """The unpublished drafts a rollback or a restore replaced, newest first."""

    required_permissions = {"get": VIEW_VERSION}

    @extend_schema(responses=KeptDraftSerializer(many=True))
    def get(self, request: Request, slug: str) -> Response:
        """The flow's kept drafts, newest first."""
        kept = drafts.kept_drafts_of(_flow(slug))
        return Response(KeptDraftSerializer(kept, many=True).data)


class KeptDraftDetailView(APIView):
    """One kept draft with its definition."""

    required_permissions = {"get": VIEW_VERSION}

    @extend_schema(responses={200: KeptDraftDetailSerializer, 404: None})
    def get(self, request: Request, slug: str, pk: int) -> Response:
        """One kept draft with its definition."""
        return Response(KeptDraftDetailSerializer(_kept(slug, pk)).data)


class KeptDraftRestoreView(APIView):
    """Make a kept draft the flow's draft again: a draft save, nothing is published."""

    required_permissions = {"post": CHANGE_FLOW}

    @extend_schema(
        request=RestoreSerializer,
        responses={
            200: RestoreResultSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT, description='{"detail", "problems"}: the kept draft has errors'
            ),
            404: None,
            409: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='{"detail", "revision", "updated_by", "updated_at"}: the draft changed',
            ),
        },
    )
    def post(self, request: Request, slug: str, pk: int) -> Response:
        """Restore a kept draft as the draft (409 when `revision` is not current, unless
        `force`); the draft it replaces is kept when it has unpublished changes."""
        kept = _kept(slug, pk)
        serializer = RestoreSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = drafts.kept_draft_restore(
            kept=kept, base_revision=data["revision"], force=data["force"], user=request.user
        )
        context = {"problems": result.problems}
        body = {
            **s.FlowDetailSerializer(result.flow, context=context).data,
            "kept_draft": KeptDraftSerializer(result.kept_draft).data
            if result.kept_draft
            else None,
        }
        return Response(body)
