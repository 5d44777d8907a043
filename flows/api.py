"""The flows API (docs/api.md): thin views that parse the request, call a service, render.

Errors raised by the services become JSON answers in flows.api_errors; what each view may
do is declared in `required_permissions` and enforced by flows.permissions.RolePermission.
"""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import SearchFilter
from rest_framework.parsers import FormParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.viewsets import GenericViewSet, ViewSet

from flows import api_drafts, imports, nodes, numbers, services
from flows import serializers as s
from flows.models import Flow, FlowVersion, PhoneNumber
from flows.parsers import BoundedMultiPartParser, StrictJSONParser
from flows.permissions import (
    ADD_FLOW,
    CHANGE_FLOW,
    PUBLISH_FLOW,
    SIGNED_IN,
    VIEW_FLOW,
    VIEW_NUMBER,
    VIEW_VERSION,
)
from flows.roles import ROLE_PERMISSIONS
from flows.spec import Problem, errors, format_schema
from flows.spec.diff import diff_definitions


def _parse(serializer_class: type[serializers.Serializer], data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


PROBLEMS_400 = OpenApiResponse(
    OpenApiTypes.OBJECT, description='{"detail", "problems": [Problem]}: the definition has errors'
)
STALE_409 = OpenApiResponse(
    OpenApiTypes.OBJECT,
    description='{"detail": "Changed by NAME at TIME. Reload, or overwrite their changes.", '
    '"revision", "updated_by", "updated_at"}',
)
VERSION_PARAM = OpenApiParameter("number", int, OpenApiParameter.PATH, description="Version number")


class FlowViewSet(GenericViewSet):
    """Flows: the draft, validation, publishing, versions, diff, export and tests."""

    lookup_field = "slug"
    serializer_class = s.FlowDetailSerializer
    filter_backends = [SearchFilter]
    search_fields = ["slug", "name", "description", "numbers__number"]
    required_permissions = {
        "list": VIEW_FLOW,
        "retrieve": VIEW_FLOW,
        "create": ADD_FLOW,
        "update": CHANGE_FLOW,
        "destroy": PUBLISH_FLOW,
        "validate_definition": VIEW_FLOW,
        "publish": PUBLISH_FLOW,
        "versions": VIEW_VERSION,
        "version": VIEW_VERSION,
        "rollback": PUBLISH_FLOW,
        "diff": VIEW_VERSION,
        "export": VIEW_FLOW,
        "tests": VIEW_FLOW,
        "tests_put": CHANGE_FLOW,
    }

    def get_queryset(self) -> QuerySet[Flow]:
        flows = Flow.objects.select_related("updated_by", "published_version").prefetch_related(
            "numbers"
        )
        if self.action == "list":
            # the list needs the published version's checksum, not its (large) definition
            flows = flows.defer("published_version__definition")
        return flows

    def _detail(self, flow: Flow, problems: list[Problem] | None = None) -> dict[str, Any]:
        if problems is None:
            problems = services.definition_validate(definition=flow.definition)
        return s.FlowDetailSerializer(flow, context={"problems": problems}).data

    def _version(self, flow: Flow, version: FlowVersion) -> dict[str, Any]:
        context = {"current_version_id": flow.published_version_id}
        return s.VersionDetailSerializer(version, context=context).data

    @extend_schema(responses=s.FlowListSerializer(many=True))
    def list(self, request: Request) -> Response:
        """Flows with their status, bound numbers and size; `?search=` filters."""
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(s.FlowListSerializer(page, many=True).data)

    @extend_schema(
        request=s.FlowCreateSerializer,
        responses={201: s.FlowDetailSerializer, 400: PROBLEMS_400, 409: OpenApiTypes.OBJECT},
    )
    def create(self, request: Request) -> Response:
        """Create a flow from a definition, or an empty one from a slug and a name."""
        data = _parse(s.FlowCreateSerializer, request.data)
        if "definition" in data:
            definition = data["definition"]
        else:
            definition = services.empty_definition(slug=data["slug"], name=data["name"])
        flow = services.flow_create(definition=definition, user=request.user)
        return Response(self._detail(flow), status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, slug: str) -> Response:
        """The flow with its draft and the draft's validation problems."""
        return Response(self._detail(self.get_object()))

    @extend_schema(
        request=s.FlowUpdateSerializer,
        responses={200: s.FlowDetailSerializer, 400: PROBLEMS_400, 409: STALE_409},
    )
    def update(self, request: Request, slug: str) -> Response:
        """Save the draft; refused (409) when `revision` is not the current one, unless `force`."""
        data = _parse(s.FlowUpdateSerializer, request.data)
        result = services.flow_update_draft(
            flow=self.get_object(),
            definition=data["definition"],
            base_revision=data["revision"],
            force=data["force"],
            user=request.user,
        )
        return Response(self._detail(result.flow, result.problems))

    @extend_schema(responses={204: None, 409: OpenApiTypes.OBJECT})
    def destroy(self, request: Request, slug: str) -> Response:
        """Delete the flow with its versions and number bindings."""
        self.get_object().delete()
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        request=s.ValidateSerializer,
        parameters=[OpenApiParameter("publish", bool, description="Apply the publish rules")],
        responses=s.ValidationResultSerializer,
    )
    @action(detail=True, methods=["post"], url_path="validate")
    def validate_definition(self, request: Request, slug: str) -> Response:
        """Validate the draft, or the definition sent; `?publish=1` applies the publish rules."""
        flow = self.get_object()
        data = _parse(s.ValidateSerializer, request.data)
        definition = data.get("definition", flow.definition)
        problems = services.definition_validate(
            definition=definition, publish=_flag(request.query_params.get("publish"))
        )
        return Response(
            {"valid": not errors(problems), "problems": [p.as_dict() for p in problems]}
        )

    @extend_schema(
        request=s.PublishSerializer,
        responses={
            201: s.VersionDetailSerializer,
            200: OpenApiResponse(
                s.VersionDetailSerializer, description="The draft was already published"
            ),
            400: PROBLEMS_400,
            409: STALE_409,
        },
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, slug: str) -> Response:
        """Publish the draft as the next version: new calls run it."""
        flow = self.get_object()
        data = _parse(s.PublishSerializer, request.data)
        before = flow.published_version_id
        version = services.flow_publish(
            flow=flow,
            user=request.user,
            note=data["note"],
            base_revision=data["revision"],
            allow_placeholders=data["allow_placeholders"],
        )
        created = version.pk != before
        return Response(
            self._version(flow, version),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(responses=s.VersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, slug: str) -> Response:
        """Published versions, newest first."""
        flow = self.get_object()
        versions = flow.versions.select_related("published_by").defer("definition")
        context = {"current_version_id": flow.published_version_id}
        return Response(s.VersionSerializer(versions, many=True, context=context).data)

    @extend_schema(parameters=[VERSION_PARAM], responses=s.VersionDetailSerializer)
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)")
    def version(self, request: Request, slug: str, number: str) -> Response:
        """One published version with its definition."""
        flow = self.get_object()
        version = flow.versions.select_related("published_by").filter(number=int(number)).first()
        if version is None:
            raise NotFound(f"Flow {flow.slug!r} has no version {number}.")
        return Response(self._version(flow, version))

    @extend_schema(
        request=s.RollbackSerializer,
        responses={201: api_drafts.RollbackResultSerializer, 404: None},
    )
    @action(detail=True, methods=["post"])
    def rollback(self, request: Request, slug: str) -> Response:
        """Publish version N's definition again as a new version; the draft becomes it too.
        Unpublished work in the draft is kept (`kept_draft`) and can be restored."""
        flow = self.get_object()
        data = _parse(s.RollbackSerializer, request.data)
        version = services.flow_rollback(
            flow=flow, version_number=data["version"], user=request.user, note=data["note"]
        )
        body = {**self._version(flow, version), "kept_draft": api_drafts.kept_draft_of(version)}
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "from", str, description='Version number or "draft" (default: published)'
            ),
            OpenApiParameter("to", str, description='Version number or "draft" (default: draft)'),
        ],
        responses=s.DiffSerializer,
    )
    @action(detail=True, methods=["get"])
    def diff(self, request: Request, slug: str) -> Response:
        """What changed between two versions or the draft (default: published -> draft)."""
        flow = self.get_object()
        query = _parse(s.DiffQuerySerializer, request.query_params)
        published = flow.published_version.number if flow.published_version else None
        old_ref, new_ref = query.get("from") or published, query.get("to") or "draft"
        old = self._definition_at(flow, old_ref)
        new = self._definition_at(flow, new_ref)
        return Response({"from": old_ref, "to": new_ref, **diff_definitions(old, new)})

    @staticmethod
    def _definition_at(flow: Flow, ref: int | str | None) -> dict[str, Any]:
        """The draft, version N, or nothing (`None`: no version published yet)."""
        if ref is None:
            return {}
        number = None if ref == "draft" else int(ref)
        return services.flow_export(flow=flow, version_number=number)

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    @action(detail=True, methods=["get"])
    def tests(self, request: Request, slug: str) -> Response:
        """The flow's tests, a callflow-test/1 file. Publishing runs them and is refused
        when one fails."""
        return Response(services.tests_document(self.get_object()))

    @extend_schema(
        request=OpenApiTypes.OBJECT, responses={200: OpenApiTypes.OBJECT, 400: PROBLEMS_400}
    )
    @tests.mapping.put
    def tests_put(self, request: Request, slug: str) -> Response:
        """Replace the flow's tests: a callflow-test/1 file of this flow, or
        `{"tests": [...]}`; all or nothing."""
        flow = self.get_object()
        services.flow_tests_write(flow=flow, data=request.data)
        return Response(services.tests_document(flow))

    @extend_schema(
        parameters=[s.ExportQuerySerializer],
        responses={(200, "application/json"): OpenApiTypes.OBJECT, 404: None},
    )
    @action(detail=True, methods=["get"])
    def export(self, request: Request, slug: str) -> HttpResponse:
        """The draft, or `?version=N`, as a callflow/1 file to download."""
        flow = self.get_object()
        number = _parse(s.ExportQuerySerializer, request.query_params).get("version")
        document = services.flow_export(flow=flow, version_number=number)
        filename = f"{flow.slug}.json" if number is None else f"{flow.slug}-v{number}.json"
        # An HttpResponse, not content negotiation: the file must be the same for a browser
        # (which asks for HTML) as for curl, and readable in a git diff.
        return HttpResponse(
            json.dumps(document, indent=2, ensure_ascii=False) + "\n",
            content_type="application/json; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )


class ImportView(APIView):
    """Import callflow/1 definitions (or Twilio Studio and Amazon Connect exports, converted):
    all or nothing."""

    parser_classes = [StrictJSONParser, BoundedMultiPartParser, FormParser]
    required_permissions = {"post": PUBLISH_FLOW}

    @extend_schema(
        request={
            "application/json": s.ImportSerializer,
            "multipart/form-data": s.ImportSerializer,
        },
        responses={
            200: s.ImportReportSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description='{"detail", "errors": [{"file", "path", "node", "message"}]}',
            ),
        },
    )
    def post(self, request: Request) -> Response:
        """Import callflow/1 definitions (JSON body or uploaded files): all or nothing."""
        data = _parse(s.ImportSerializer, request.data)
        sources = [
            imports.ImportSource(f"definitions[{i}]", json.dumps(definition))
            for i, definition in enumerate(data.get("definitions", []))
        ] + [imports.ImportSource(upload.name, upload.read()) for upload in data.get("files", [])]
        report = imports.flows_import(
            sources=sources,
            publish=data["publish"],
            dry_run=data["dry_run"],
            allow_placeholders=data["allow_placeholders"],
            user=request.user,
        )
        return Response(
            {
                "flows": [imported.as_dict() for imported in report.flows],
                "tests": [tests.as_dict() for tests in report.tests],
                "warnings": [warning.as_dict() for warning in report.warnings],
                "dry_run": report.dry_run,
            }
        )


TYPE_PARAM = OpenApiParameter("type", str, OpenApiParameter.PATH, description="A node type")


class NodeTypeViewSet(ViewSet):
    """The node types with their config JSON Schemas, exits and an example."""

    lookup_field = "type"
    required_permissions = {"list": VIEW_FLOW, "retrieve": VIEW_FLOW}

    @extend_schema(responses=s.NodeTypeSerializer(many=True))
    def list(self, request: Request) -> Response:
        """Every node type: config JSON Schema, exits and an example."""
        return Response([node_type.describe() for node_type in nodes.all_types().values()])

    @extend_schema(parameters=[TYPE_PARAM], responses=s.NodeTypeSerializer)
    def retrieve(self, request: Request, type: str) -> Response:
        """One node type."""
        node_type = nodes.get(type)
        if node_type is None:
            raise NotFound(f"There is no node type {type!r}.")
        return Response(node_type.describe())


class FormatView(APIView):
    """The JSON Schema of the whole callflow/1 format."""

    required_permissions = {"get": VIEW_FLOW}

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request: Request) -> Response:
        """The JSON Schema of the whole callflow/1 format."""
        return Response(format_schema())


class NumberViewSet(GenericViewSet):
    """Phone numbers and the flow each one runs."""

    lookup_field = "number"
    lookup_value_regex = "[^/]+"
    serializer_class = s.NumberSerializer
    pagination_class = None
    required_permissions = {"list": VIEW_NUMBER, "create": PUBLISH_FLOW, "destroy": PUBLISH_FLOW}

    def get_queryset(self) -> QuerySet[PhoneNumber]:
        return PhoneNumber.objects.select_related("flow")

    def list(self, request: Request) -> Response:
        """Phone numbers and the flow each one runs."""
        return Response(s.NumberSerializer(self.get_queryset(), many=True).data)

    @extend_schema(request=s.NumberBindSerializer, responses={201: s.NumberSerializer})
    def create(self, request: Request) -> Response:
        """Bind a number (E.164) to a flow; a number bound elsewhere moves."""
        data = _parse(s.NumberBindSerializer, request.data)
        bound = numbers.number_bind(
            number=data["number"], flow=data["flow"], label=data.get("label")
        )
        return Response(s.NumberSerializer(bound).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={204: None, 404: None})
    def destroy(self, request: Request, number: str) -> Response:
        """Unbind a number: its calls no longer run a flow."""
        numbers.number_unbind(number=number)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """Who is signed in and what they may do (the designer shows or hides buttons)."""

    required_permissions = {"get": SIGNED_IN}

    @extend_schema(responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        """The signed-in user, their roles and what they may do."""
        user = request.user
        groups = set(user.groups.values_list("name", flat=True))
        return Response(
            {
                "username": user.get_username(),
                "roles": [role for role in ROLE_PERMISSIONS if role in groups],
                "can_edit": user.has_perm(CHANGE_FLOW),
                "can_publish": user.has_perm(PUBLISH_FLOW),
            }
        )
