"""The graph checks on their own: reachability, dangling exits, loops, sub-flow cycles."""

from flows.spec import graph
from tests.flows.spec_helpers import flow, hangup, menu, node, say


def test_build_graph_has_one_edge_per_connected_pair_with_its_exit_names():
    definition = flow(menu("m", {"1": "bye", "2": "bye"}, no_input="m", no_match=None), hangup())
    g = graph.build_graph(definition)
    assert set(g.nodes) == {"m", "bye"}
    assert g.edges["m", "bye"]["exits"] == ["1", "2"]
    assert g.edges["m", "m"]["exits"] == ["no_input"]
    assert g.nodes["m"]["index"] == 0 and g.nodes["bye"]["type"] == "hangup"


def test_dangling_exits_name_the_node_exit_and_target():
    definition = flow(say("hi", "gone"), menu("m", {"1": "bye", "2": "lost"}), hangup())
    assert graph.dangling_exits(definition) == [
        graph.DanglingExit(0, "hi", "next", "gone"),
        graph.DanglingExit(1, "m", "2", "lost"),
    ]


def test_unreachable_counts_start_and_fallback_as_entry_points():
    definition = flow(
        say("hi", "bye"),
        hangup(),
        say("orphan", "bye"),
        hangup("sorry"),
        fallback={"node": "sorry"},
    )
    assert graph.entry_points(definition) == ["hi", "sorry"]
    assert graph.unreachable(definition) == ["orphan"]


def test_endless_loops_are_components_without_a_waiting_node():
    definition = flow(
        say("a", "b"),
        say("b", "a"),  # a <-> b: endless
        say("c", "c"),  # exits to itself: endless
        menu("m", {"1": "d"}, no_input="m"),  # m -> d -> m: m waits
        say("d", "m"),
    )
    assert graph.endless_loops(graph.build_graph(definition)) == [["a", "b"], ["c"]]


def test_a_hangup_or_route_in_a_loop_breaks_it():
    definition = flow(
        say("a", "r"),
        node("r", "route", {"target": {"queue": "q"}}, connected="a", unavailable="a", timeout="a"),
    )
    assert graph.endless_loops(graph.build_graph(definition)) == []


def test_subflow_cycle_returns_the_chain_of_slugs():
    flows = {
        "b": flow(node("x", "subflow", {"flow": "c"}), slug="b"),
        "c": flow(
            node("y", "subflow", {"flow": "a"}), node("z", "subflow", {"flow": "d"}), slug="c"
        ),
        "d": flow(hangup(), slug="d"),
    }
    a = flow(node("go", "subflow", {"flow": "b"}), slug="a")
    assert graph.subflows(a) == [(0, "go", "b")]
    assert graph.subflow_cycle("a", a, flows.get, via="b") == ["a", "b", "c", "a"]
    assert graph.subflow_cycle("a", a, flows.get, via="d") is None
    assert graph.subflow_cycle("a", a, {}.get, via="a") == ["a", "a"]
