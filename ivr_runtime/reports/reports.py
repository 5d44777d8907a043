"""Per-node statistics, computed with aggregate queries over the steps (the call history
is history.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q

from flows.models import Flow, FlowVersion
from ivr_runtime.models import CallSession, CallStep


class UnknownVersion(Exception):
    pass


def flow_stats(
    *, flow: Flow, version: int | None = None, since: datetime | None = None
) -> dict[str, Any]:
    """{"nodes": {id: {"entered", "exits": {name: count}, "hung_up"}}, "calls"}, real calls only.

    One grouped query over the steps (node, exit) and one count of calls; both served by
    the (flow, simulated, at) / (flow_version, simulated, at) indexes.
    """
    steps = CallStep.objects.filter(simulated=False)
    calls = CallSession.objects.filter(simulated=False, flow=flow)
    definition = flow.definition
    if version is not None:
        found = (
            FlowVersion.objects.filter(flow=flow, number=version)
            .values_list("pk", "definition")
            .first()
        )
        if found is None:
            raise UnknownVersion(f"flow {flow.slug!r} has no version {version}")
        steps = steps.filter(flow_version_id=found[0])
        calls = calls.filter(flow_version_id=found[0])
        definition = found[1]
    else:
        steps = steps.filter(flow=flow)
    if since is not None:
        steps = steps.filter(at__gte=since)
        calls = calls.filter(started_at__gte=since)
    nodes: dict[str, dict[str, Any]] = {
        node["id"]: {"entered": 0, "exits": {}, "hung_up": 0}
        for node in (definition or {}).get("nodes", [])
        if isinstance(node, dict) and isinstance(node.get("id"), str)
    }
    rows = steps.values("node_id", "exit").annotate(
        n=Count("id"), hung=Count("id", filter=Q(hung_up=True))
    )
    for row in rows.order_by():
        entry = nodes.setdefault(row["node_id"], {"entered": 0, "exits": {}, "hung_up": 0})
        entry["entered"] += row["n"]
        entry["hung_up"] += row["hung"]
        if row["exit"]:
            entry["exits"][row["exit"]] = entry["exits"].get(row["exit"], 0) + row["n"]
    return {"nodes": nodes, "calls": calls.count()}
