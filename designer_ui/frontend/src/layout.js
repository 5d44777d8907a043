// Auto-layout (left to right, exits on the right) with dagre.
import dagre from "@dagrejs/dagre";

export const NODE_WIDTH = 200;

/** The height a node is drawn with: header, summary and one row per exit. */
export function nodeHeightFor(exitCount) {
  return 60 + 18 * Math.max(1, exitCount);
}

export const nodeHeight = (node) => nodeHeightFor(node.data.exits.length);

/** The same nodes with new positions; edges decide the ranks. */
export function layoutGraph(nodes, edges) {
  const g = new dagre.graphlib.Graph();
  g.setGraph({ rankdir: "LR", nodesep: 30, ranksep: 90, marginx: 20, marginy: 20 });
  g.setDefaultEdgeLabel(() => ({}));
  for (const n of nodes) g.setNode(n.id, { width: NODE_WIDTH, height: nodeHeight(n) });
  for (const e of edges) if (e.source !== e.target) g.setEdge(e.source, e.target);
  dagre.layout(g);
  return nodes.map((n) => {
    const p = g.node(n.id);
    return { ...n, position: { x: Math.round(p.x - NODE_WIDTH / 2), y: Math.round(p.y - nodeHeight(n) / 2) } };
  });
}
