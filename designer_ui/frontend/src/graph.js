// callflow/1 definition <-> React Flow nodes and edges.
//
// A canvas node carries the definition node in `data` (type, label, config, exit names in
// display order); each connected exit is an edge from the handle named after the exit.

import { withGeometry } from "./layout.js";

export const NODE_ID = /^[a-z][a-z0-9_]{0,63}$/;
const NODE_KEYS = new Set(["id", "type", "label", "config", "exits", "position"]);

/**
 * Exit names of a node: those its config names, by the node type's `exits_from` rule
 * (served by /api/node-types/: a list in the config and the key of each item naming an
 * exit, or no key when the items are the names), then the type's fixed exits.
 */
export function exitsFor(type, config, typeInfo) {
  if (!typeInfo) return [];
  const rule = typeInfo.exits_from;
  const named = [];
  if (rule) {
    const items = (config || {})[rule.field];
    for (const item of Array.isArray(items) ? items : []) {
      const isObject = item !== null && typeof item === "object";
      const name = rule.key ? (isObject ? item[rule.key] : undefined) : isObject ? undefined : item;
      if (name !== undefined && name !== null && name !== "") named.push(String(name));
    }
  }
  return unique([...named, ...typeInfo.fixed_exits]);
}

function unique(list) {
  return [...new Set(list)];
}

export function edgeId(source, exit) {
  return `${source}\u2192${exit}`;
}

export function makeEdge(source, exit, target) {
  return { id: edgeId(source, exit), source, sourceHandle: exit, target, targetHandle: "in" };
}

export function makeNode(defNode, typesByName, position) {
  const typeInfo = typesByName[defNode.type];
  const config = defNode.config || {};
  const own = exitsFor(defNode.type, config, typeInfo);
  // Exits the type no longer lists but that still point somewhere stay visible, so the
  // server can report them rather than the designer dropping them silently.
  const stale = Object.entries(defNode.exits || {})
    .filter(([name, to]) => to && !own.includes(name))
    .map(([name]) => name);
  const extra = {};
  for (const [key, value] of Object.entries(defNode)) if (!NODE_KEYS.has(key)) extra[key] = value;
  const exits = [...own, ...stale];
  // Known sizes and handles let React Flow fit the view and cull off-screen nodes at once.
  return withGeometry({
    id: defNode.id,
    type: "flow",
    position: position || defNode.position || { x: 0, y: 0 },
    data: { type: defNode.type, label: defNode.label || "", config, exits, extra },
  });
}

/** {settings, nodes, edges, needsLayout} from a definition. */
export function definitionToGraph(definition, typesByName) {
  const { nodes: defNodes = [], ...settings } = definition;
  const ids = new Set(defNodes.map((n) => n.id));
  const nodes = defNodes.map((n) => makeNode(n, typesByName));
  const edges = [];
  for (const n of defNodes) {
    for (const [exit, target] of Object.entries(n.exits || {})) {
      if (target && ids.has(target)) edges.push(makeEdge(n.id, exit, target));
    }
  }
  const needsLayout = defNodes.some((n) => !n.position);
  return { settings, nodes, edges, needsLayout };
}

export function exitTargets(edges) {
  const map = new Map();
  for (const e of edges) {
    if (!map.has(e.source)) map.set(e.source, {});
    map.get(e.source)[e.sourceHandle] = e.target;
  }
  return map;
}

export function nodeToDefinition(node, targets) {
  const { type, label, config, exits, extra } = node.data;
  const out = { id: node.id, type };
  if (label) out.label = label;
  out.config = config || {};
  const exitMap = {};
  for (const name of exits) exitMap[name] = (targets && targets[name]) || null;
  out.exits = exitMap;
  out.position = { x: Math.round(node.position.x), y: Math.round(node.position.y) };
  return { ...out, ...(extra || {}) };
}

/** The callflow/1 definition the canvas shows. */
export function graphToDefinition(settings, nodes, edges) {
  const targets = exitTargets(edges);
  const out = { ...settings };
  for (const key of ["description", "voice"]) if (out[key] === "") delete out[key];
  if (out.fallback && !out.fallback.node) delete out.fallback;
  else if (out.fallback && !out.fallback.sms) out.fallback = { node: out.fallback.node };
  out.nodes = nodes.map((n) => nodeToDefinition(n, targets.get(n.id)));
  return out;
}

/** The smallest unused id `<type>_<n>`. */
export function freshId(type, taken) {
  const base = type.replace(/[^a-z0-9_]/g, "_");
  for (let n = 1; ; n += 1) {
    const id = `${base}_${n}`;
    if (!taken.has(id)) return id;
  }
}

/** A copy of some nodes (and the exits between them) with fresh ids, for paste/duplicate. */
export function cloneNodes(defNodes, taken, offset) {
  const rename = new Map();
  const used = new Set(taken);
  for (const n of defNodes) {
    const id = used.has(n.id) ? freshId(n.type, used) : n.id;
    used.add(id);
    rename.set(n.id, id);
  }
  return defNodes.map((n) => {
    const exits = {};
    for (const [name, to] of Object.entries(n.exits || {})) exits[name] = rename.has(to) ? rename.get(to) : null;
    const pos = n.position || { x: 0, y: 0 };
    return { ...n, id: rename.get(n.id), exits, position: { x: pos.x + offset.x, y: pos.y + offset.y } };
  });
}
