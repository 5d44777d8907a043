"""The designer's pages: the flow list (server-rendered) and the editor (a React app that
talks to the JSON API). Both only read here; every change goes through the API."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse

from flows.models import Flow
from flows.permissions import ADD_FLOW, CHANGE_FLOW, PUBLISH_FLOW, VIEW_FLOW
from flows.roles import ROLE_PERMISSIONS
from flows.serializers import flow_status
from ivr_runtime.health import health_check


def user_access(user) -> dict[str, Any]:
    """The same answer as GET /api/me/, for the pages' first render."""
    groups = set(user.groups.values_list("name", flat=True))
    return {
        "username": user.get_username(),
        "roles": [role for role in ROLE_PERMISSIONS if role in groups],
        "can_edit": user.has_perm(CHANGE_FLOW),
        "can_create": user.has_perm(ADD_FLOW),
        "can_publish": user.has_perm(PUBLISH_FLOW),
    }


def require_view(request: HttpRequest) -> dict[str, Any]:
    if not request.user.has_perm(VIEW_FLOW):
        raise PermissionDenied("Your account has no role in the designer: ask an admin for one.")
    return user_access(request.user)


def search_flows(query: str) -> QuerySet[Flow]:
    flows = Flow.objects.select_related("published_version", "updated_by").prefetch_related(
        "numbers"
    )
    flows = flows.defer("published_version__definition")
    if query:
        flows = flows.filter(
            Q(slug__icontains=query)
            | Q(name__icontains=query)
            | Q(description__icontains=query)
            | Q(numbers__number__icontains=query)
        ).distinct()
    return flows.order_by("name")


@login_required
def flow_list(request: HttpRequest) -> HttpResponse:
    access = require_view(request)
    query = request.GET.get("q", "").strip()
    rows = [
        {
            "flow": flow,
            "status": flow_status(flow),
            "published": flow.published_version.number if flow.published_version else None,
            "numbers": sorted(n.number for n in flow.numbers.all()),
            "nodes": len(flow.definition.get("nodes", []))
            if isinstance(flow.definition, dict)
            else 0,
        }
        for flow in search_flows(query)
    ]
    return render(
        request,
        "designer_ui/flow_list.html",
        {
            "rows": rows,
            "query": query,
            "access": access,
            "total": Flow.objects.count(),
            "health": health_check(),
        },
    )


@login_required
def editor(request: HttpRequest, slug: str) -> HttpResponse:
    access = require_view(request)
    flow = get_object_or_404(Flow, slug=slug)
    config = {
        "slug": flow.slug,
        "list_url": reverse("designer:list"),
        "perms": {"can_edit": access["can_edit"], "can_publish": access["can_publish"]},
    }
    return render(
        request, "designer_ui/editor.html", {"flow": flow, "config": config, "access": access}
    )
