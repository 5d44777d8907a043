// Auto-layout: left to right by the edges, no two nodes on top of each other; node sizes
// and handles known up front.
import { expect, test } from "vitest";
import { layoutByDistance, layoutGraph, NODE_WIDTH, nodeHeightFor, withGeometry } from "../src/layout.js";

function node(id, exits = ["next"]) {
  return withGeometry({ id, type: "flow", position: { x: 0, y: 0 }, data: { exits } });
}

function overlap(a, b) {
  const ha = nodeHeightFor(a.data.exits.length);
  const hb = nodeHeightFor(b.data.exits.length);
  return (
    a.position.x < b.position.x + NODE_WIDTH &&
    b.position.x < a.position.x + NODE_WIDTH &&
    a.position.y < b.position.y + hb &&
    b.position.y < a.position.y + ha
  );
}

const NODES = [node("start", ["a", "b"]), node("left"), node("right"), node("end", [])];
const EDGES = [
  { source: "start", target: "left" },
  { source: "start", target: "right" },
  { source: "left", target: "end" },
  { source: "right", target: "end" },
];

test.each([
  ["dagre", layoutGraph],
  ["by distance", (nodes, edges) => layoutByDistance(nodes, edges, "start")],
])("%s: ranks follow the edges and nothing overlaps", (_, layout) => {
  const placed = Object.fromEntries(layout(NODES, EDGES, "start").map((n) => [n.id, n]));
  expect(placed.start.position.x).toBeLessThan(placed.left.position.x);
  expect(placed.left.position.x).toBeLessThan(placed.end.position.x);
  const all = Object.values(placed);
  for (let i = 0; i < all.length; i += 1)
    for (let j = i + 1; j < all.length; j += 1) expect(overlap(all[i], all[j])).toBe(false);
});

test("a node's height and handles follow its exits", () => {
  const n = node("menu", ["1", "2", "no_input"]);
  expect(n.initialHeight).toBe(nodeHeightFor(3));
  expect(n.handles.map((h) => h.id)).toEqual(["in", "1", "2", "no_input"]);
  expect(nodeHeightFor(3) - nodeHeightFor(2)).toBe(18);
});

test("a large flow is laid out by distance from the start, in columns", () => {
  const many = Array.from({ length: 450 }, (_, i) => node(`n${i}`));
  const chain = many.slice(1).map((n, i) => ({ source: `n${i}`, target: n.id }));
  const placed = layoutGraph(many, chain, "n0");
  expect(placed[0].position.x).toBe(0);
  expect(placed[449].position.x).toBe(449 * (NODE_WIDTH + 90));
});
