"""A definition as a networkx graph: reachability, dangling exits, loops that never wait,
runs of nodes too long for one turn.

These functions never raise on a malformed definition: what the schema refuses (nodes
that are not objects or have no string id, `exits` or `config` that are not objects) is
left out of the graph, and validate() reports it. Duplicate ids are tolerated (the first
node with an id wins) because validate() reports them separately.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx

from flows import nodes as node_types

#: slug -> the definition of that flow (its published version, else its draft), or None
FlowLookup = Callable[[str], "dict[str, Any] | None"]

#: nodes one turn of a call may run without waiting for the caller: the runtime's engine
#: stops a turn beyond it (ivr_runtime.engine.MAX_VISITS, which a test keeps equal)
MAX_RUN_WITHOUT_WAITING = 100


@dataclass(frozen=True)
class DanglingExit:
    index: int
    node: str
    exit: str
    target: str


def _nodes(definition: dict[str, Any]) -> Iterator[tuple[int, dict[str, Any]]]:
    nodes = definition.get("nodes")
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if isinstance(node, dict) and isinstance(node.get("id"), str):
            yield index, node


def _exits(node: dict[str, Any]) -> Iterable[tuple[Any, Any]]:
    exits = node.get("exits")
    return exits.items() if isinstance(exits, dict) else ()


def build_graph(definition: dict[str, Any]) -> nx.DiGraph:
    """Nodes carry `type`, `config` and `index`; an edge u->v carries the `exits` names."""
    graph = nx.DiGraph()
    for index, node in _nodes(definition):
        if node["id"] not in graph:
            type_name, config = node.get("type"), node.get("config")
            graph.add_node(
                node["id"],
                type=type_name if isinstance(type_name, str) else None,
                config=config if isinstance(config, dict) else {},
                index=index,
            )
    for _, node in _nodes(definition):
        for name, target in _exits(node):
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
        for name, target in _exits(node)
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
    cls = node_types.get(data["type"]) if data["type"] is not None else None
    # an unknown type is reported elsewhere; do not pile an endless-loop error on it
    return cls is None or cls.waits(data["config"])


def _without_waiting(graph: nx.DiGraph) -> nx.DiGraph:
    """The part of the graph a call can run through without waiting for the caller."""
    return graph.subgraph(n for n in graph if not _waits(graph, n))


def endless_loops(graph: nx.DiGraph) -> list[list[str]]:
    """Cycles in which no node waits for the caller: a call would spin there for ever.

    Each loop is a strongly connected component (or a node exiting to itself) of the nodes
    that do not wait, its ids in document order: a cycle through a waiting node is fine,
    but one beside it, in the same tangle of exits, is still endless.
    """
    running = _without_waiting(graph)
    loops = []
    for component in nx.strongly_connected_components(running):
        if len(component) == 1:
            (only,) = component
            if not running.has_edge(only, only):
                continue
        loops.append(sorted(component, key=lambda n: graph.nodes[n]["index"]))
    loops.sort(key=lambda loop: graph.nodes[loop[0]]["index"])
    return loops


def longest_run(graph: nx.DiGraph) -> list[str]:
    """The longest chain of nodes one turn of a call can run, in order.

    A turn runs from where the call is (the start, the fallback node, or a node that has
    just been answered) through nodes that do not wait, until one waits or the call ends;
    each of them counts towards MAX_RUN_WITHOUT_WAITING, and so does the answered node the
    turn began at. Nodes that make a request (http, a sub-flow) count too: the engine may
    go on without one. Only meaningful when there are no endless loops (it is then a
    longest path in an acyclic graph).
    """
    running = _without_waiting(graph)
    # length[n]: nodes in the longest chain of non-waiting nodes from n on, n included;
    # then[n]: the next node of that chain
    length: dict[str, int] = {}
    then: dict[str, str | None] = {}

    def best_next(node: str) -> str | None:
        return max(
            (s for s in graph.successors(node) if s in running),
            key=lambda s: length.get(s, 0),
            default=None,
        )

    def chain_from(node: str) -> int:
        following = then[node]
        return 1 + (length[following] if following else 0)

    for node in reversed(list(nx.topological_sort(running))):
        then[node] = best_next(node)
        length[node] = chain_from(node)
    first, most = None, 0
    for node in graph:  # document order: the first of equally long chains
        if node in running:
            size = length[node]
        else:
            then[node] = best_next(node)
            size = chain_from(node)
        if size > most:
            first, most = node, size
    chain = []
    while first is not None:
        chain.append(first)
        first = then[first]
    return chain


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
