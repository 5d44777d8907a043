"""The designer's pages: the flow list (server-rendered), the editor (a React app that
talks to the JSON API) and a flow's analytics (charts drawn from the stats API). All only
read here; every change goes through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from flows import nodes as node_types
from flows.models import Flow
from flows.permissions import ADD_FLOW, CHANGE_FLOW, PUBLISH_FLOW, VIEW_FLOW
from flows.roles import ROLE_PERMISSIONS
from flows.serializers import flow_status
from ivr_runtime.health import health_check
from ivr_runtime.reports.analytics import flow_timezone


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
        "analytics_url": reverse("designer:analytics", args=[flow.slug]),
        "perms": {"can_edit": access["can_edit"], "can_publish": access["can_publish"]},
    }
    return render(
        request, "designer_ui/editor.html", {"flow": flow, "config": config, "access": access}
    )


#: the period picker's choices: days back from today (the flow's time zone), or all calls
PERIODS = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("all", "All time"),
]


def _period(request: HttpRequest, tz: Any) -> dict[str, str]:
    """The picked period as the stats API's `since`/`until` dates (custom dates as given:
    the API checks them and the page shows what it says)."""
    choice = request.GET.get("period", "30")
    if choice == "custom" or request.GET.get("since") or request.GET.get("until"):
        return {
            "period": "custom",
            "since": request.GET.get("since", "").strip(),
            "until": request.GET.get("until", "").strip(),
        }
    if choice == "all":
        return {"period": "all", "since": "", "until": ""}
    days = int(choice) if choice in {"7", "90"} else 30
    today = timezone.now().astimezone(tz).date()
    return {
        "period": str(days),
        "since": (today - timedelta(days=days - 1)).isoformat(),
        "until": today.isoformat(),
    }


def _node_labels(definitions: list[Any]) -> dict[str, dict[str, str]]:
    """Each node's label and its type's name in words, from the draft then the versions."""
    labels: dict[str, dict[str, str]] = {}
    for definition in definitions:
        for node in (definition or {}).get("nodes", []) if isinstance(definition, dict) else []:
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                kind = node_types.get(str(node.get("type") or ""))
                labels.setdefault(
                    node["id"],
                    {
                        "label": str(node.get("label") or ""),
                        "type": kind.title if kind is not None else str(node.get("type") or ""),
                    },
                )
    return labels


@login_required
def analytics(request: HttpRequest, slug: str) -> HttpResponse:
    access = require_view(request)
    flow = get_object_or_404(Flow, slug=slug)
    tz = flow_timezone(flow)
    period = _period(request, tz)
    versions = list(flow.versions.order_by("-number").values("number", "definition"))
    version = request.GET.get("version", "").strip()
    compare = request.GET.get("compare", "").strip()
    query = {k: v for k, v in {**period, "version": version, "compare": compare}.items() if v}
    query.pop("period", None)
    config = {
        "slug": flow.slug,
        "query": query,
        "timezone": str(tz),
        "published": flow.published_version.number if flow.published_version else None,
        "editor_url": reverse("designer:editor", args=[flow.slug]),
        "labels": _node_labels([flow.definition, *(v["definition"] for v in versions)]),
    }
    return render(
        request,
        "designer_ui/analytics.html",
        {
            "flow": flow,
            "access": access,
            "config": config,
            "periods": PERIODS,
            "picked": {**period, "version": version, "compare": compare},
            "versions": [v["number"] for v in versions],
        },
    )
