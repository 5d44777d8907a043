"""A definition as a networkx graph: reachability, dangling exits, loops that never wait.

These functions take a definition that passed the schema (nodes are objects with string
ids); duplicates are tolerated (the first node with an id wins) because validate() reports
them separately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from flows import nodes as node_types

#: slug -> the definition of that flow (its published version, else its draft), or None
FlowLookup = Callable[[str], "dict[str, Any] | None"]


@dataclass(frozen=True)
class DanglingExit:
    index: int
    node: str
    exit: str
    target: str


def _nodes(definition: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    for index, node in enumerate(definition.get("nodes") or []):
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            yield index, node


def build_graph(definition: dict[str, Any]) -> nx.DiGraph:
    """Nodes carry `type`, `config` and `index`; an edge u->v carries the `exits` names."""
    graph = nx.DiGraph()
    for index, node in _nodes(definition):
        if node["id"] not in graph:
            graph.add_node(
                node["id"], type=node.get("type"), config=node.get("config") or {}, index=index
            )
    for _, node in _nodes(definition):
        for name, target in (node.get("exits") or {}).items():
            if isinstance(target, str) and target in graph:
                if graph.has_edge(node["id"], target):
                    graph.edges[node["id"], target]["exits"].append(name)
                else:
                    graph.add_edge(node["id"], target, exits=[name])
    return graph


def dangling_exits(definition: dict[str, Any]) -> list[DanglingExit]:
    """Exits naming a node that is not in the flow."""
    ids = {node["id"] for _, node in _nodes(definition)}
    return [
        DanglingExit(index, node["id"], name, target)
        for index, node in _nodes(definition)
        for name, target in (node.get("exits") or {}).items()
        if isinstance(target, str) and target not in ids
    ]


def entry_points(definition: dict[str, Any]) -> list[str]:
    """Where a call can enter the graph: `start`, and `fallback.node` when something fails."""
    points = [definition.get("start")]
    fallback = definition.get("fallback")
    if isinstance(fallback, dict):
        points.append(fallback.get("node"))
    return [p for p in points if isinstance(p, str)]


def reachable(graph: nx.DiGraph, sources: Iterable[str]) -> set[str]:
    seen: set[str] = set()
    for source in sources:
        if source in graph and source not in seen:
            seen.add(source)
            seen |= nx.descendants(graph, source)
    return seen


def unreachable(definition: dict[str, Any], graph: nx.DiGraph | None = None) -> list[str]:
    """Node ids no call can get to from `start` or the fallback node, in document order."""
    graph = build_graph(definition) if graph is None else graph
    seen = reachable(graph, entry_points(definition))
    return [n for n in graph if n not in seen]


def _waits(graph: nx.DiGraph, node_id: str) -> bool:
    data = graph.nodes[node_id]
    cls = node_types.get(data["type"])
    # an unknown type is reported elsewhere; do not pile an endless-loop error on it
    return cls is None or cls.waits(data["config"])


def endless_loops(graph: nx.DiGraph) -> list[list[str]]:
    """Cycles in which no node waits for the caller: a call would spin there for ever.

    Each loop is a strongly connected component (or a node exiting to itself) with no
    waiting node, its ids in document order.
    """
    loops = []
    for component in nx.strongly_connected_components(graph):
        if len(component) == 1:
            (only,) = component
            if not graph.has_edge(only, only):
                continue
        if not any(_waits(graph, n) for n in component):
            loops.append(sorted(component, key=lambda n: graph.nodes[n]["index"]))
    loops.sort(key=lambda loop: graph.nodes[loop[0]]["index"])
    return loops


def subflows(definition: dict[str, Any]) -> list[tuple[int, str, str]]:
    """(node index, node id, flow slug) of every subflow node."""
    return [
        (index, node["id"], node["config"]["flow"])
        for index, node in _nodes(definition)
        if node.get("type") == "subflow"
        and isinstance(node.get("config"), dict)
        and isinstance(node["config"].get("flow"), str)
    ]


def subflow_cycle(
    slug: str, definition: dict[str, Any], lookup: FlowLookup, via: str
) -> list[str] | None:
    """The chain of flow slugs leading from `via` back to `slug`, if there is one.

    `definition` is the flow `slug` as it is being validated (so it wins over the stored
    one); other flows come from `lookup`. The answer starts and ends with `slug`, e.g.
    ["a", "b", "c", "a"].
    """
    parents: dict[str, str] = {via: slug}
    stack = [via]
    while stack:
        current = stack.pop()
        if current == slug:
            chain = [slug]
            node = slug
            while True:
                node = parents[node]
                chain.append(node)
                if node == slug:
                    break
            return chain[::-1]
        other = lookup(current)
        if other is None:
            continue
        for _, _, target in subflows(other):
            if target not in parents:
                parents[target] = current
                stack.append(target)
    return None
