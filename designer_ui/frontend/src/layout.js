// Auto-layout (left to right, exits on the right) with dagre.
import dagre from "@dagrejs/dagre";

export const NODE_WIDTH = 200;

/** The height a node is drawn with: header, summary and one row per exit. */
// A node's box is laid out with fixed row heights (see editor.css, "Nodes"), so its size and
// its handles' places follow from the number of exits. Telling React Flow up front spares
// it rendering every node once just to measure it, which is what makes 2,000 nodes slow.
const TOP = 4 + 22 + 20 + 20 + 1 + 2; // top border, header, label, summary, exits' border and padding
const ROW = 18;
const HANDLE = 12;

export function nodeHeightFor(exitCount) {
  return TOP + ROW * exitCount + 4 + 1;
}

/** The node with its size and handle bounds, for React Flow. */
export function withGeometry(node) {
  const handles = [{ id: "in", type: "target", position: "left", x: -7, y: 27, width: HANDLE, height: HANDLE }];
  node.data.exits.forEach((name, i) => {
    handles.push({ id: name, type: "source", position: "right", x: NODE_WIDTH - 6, y: TOP + ROW * i + 3, width: HANDLE, height: HANDLE });
  });
  return { ...node, initialWidth: NODE_WIDTH, initialHeight: nodeHeightFor(node.data.exits.length), handles };
}

export const nodeHeight = (node) => nodeHeightFor(node.data.exits.length);

// dagre is worth its cost on flows people draw; above this, ranks by distance from the
// start keep a 2,000-node import opening in well under a second.
const DAGRE_LIMIT = 400;

/** The same nodes with new positions; edges decide the ranks. */
export function layoutGraph(nodes, edges, start) {
  return nodes.length > DAGRE_LIMIT ? layoutByDistance(nodes, edges, start) : layoutWithDagre(nodes, edges);
}

/** Columns by distance from the start (breadth first), nodes stacked in each column. */
export function layoutByDistance(nodes, edges, start) {
  const next = new Map(nodes.map((n) => [n.id, []]));
  for (const e of edges) next.get(e.source)?.push(e.target);
  const rank = new Map();
  const roots = [start, ...nodes.map((n) => n.id)].filter((id) => next.has(id));
  for (const root of roots) {
    if (rank.has(root)) continue;
    rank.set(root, 0);
    const queue = [root];
    for (let i = 0; i < queue.length; i += 1) {
      for (const to of next.get(queue[i])) {
        if (!rank.has(to)) {
          rank.set(to, rank.get(queue[i]) + 1);
          queue.push(to);
        }
      }
    }
  }
  const columnY = new Map();
  return nodes.map((n) => {
    const r = rank.get(n.id) || 0;
    const y = columnY.get(r) || 0;
    columnY.set(r, y + nodeHeight(n) + 30);
    return { ...n, position: { x: r * (NODE_WIDTH + 90), y } };
  });
}

function layoutWithDagre(nodes, edges) {
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
