// Edits of the document: add, delete, copy/paste, duplicate, rename, label and config.
import { useMemo } from "react";
import { NODE_WIDTH, nodeHeight, withGeometry } from "../layout.js";
import { cloneNodes, exitsFor, exitTargets, freshId, makeEdge, makeNode, nodeToDefinition } from "../graph.js";

const CLIPBOARD_KEY = "callflow.clipboard";
const deselectNode = (n) => (n.selected ? { ...n, selected: false } : n);
const deselectEdge = (e) => (e.selected ? { ...e, selected: false } : e);

function selectedDefinitions(d) {
  const chosen = d.nodes.filter((n) => n.selected);
  const ids = new Set(chosen.map((n) => n.id));
  const targets = exitTargets(d.edges.filter((e) => ids.has(e.target)));
  return chosen.map((n) => nodeToDefinition(n, targets.get(n.id)));
}

/** The first place near `wanted` (spiralling out) where a new node overlaps no other. */
function freeSpot(nodes, wanted) {
  const h = 110;
  const clear = (p) =>
    !nodes.some((n) => {
      const w = n.measured?.width ?? NODE_WIDTH;
      const nh = n.measured?.height ?? nodeHeight(n);
      return p.x < n.position.x + w + 20 && p.x + NODE_WIDTH + 20 > n.position.x && p.y < n.position.y + nh + 20 && p.y + h + 20 > n.position.y;
    });
  for (let ring = 0; ring < 12; ring += 1) {
    for (let i = 0; i < Math.max(1, ring * 8); i += 1) {
      const angle = (2 * Math.PI * i) / Math.max(1, ring * 8);
      const p = { x: Math.round(wanted.x + Math.cos(angle) * ring * 60), y: Math.round(wanted.y + Math.sin(angle) * ring * 50) };
      if (clear(p)) return p;
    }
  }
  return { x: Math.round(wanted.x), y: Math.round(wanted.y) };
}

const NAMED_ITEMS = { menu: ["options", "key"], branch: ["rules", "exit"] };

/**
 * Exits renamed in place (same option or rule, new name): {oldName: {exit: newName, target}},
 * and the targets held for items whose name is empty for the moment ({index: target}).
 */
function followRenamedExits(type, before, after, targets, heldBefore) {
  const moved = {};
  const held = {};
  if (!NAMED_ITEMS[type]) return { moved, held };
  const [list, key] = NAMED_ITEMS[type];
  const a = before[list] || [];
  const b = after[list] || [];
  if (a.length !== b.length) return { moved, held };
  const names = (items) => items.map((item) => String(item?.[key] ?? "")).sort().join("\n");
  if (names(a) === names(b)) return { moved, held: heldBefore }; // reordered, not renamed
  b.forEach((item, i) => {
    const from = a[i] && a[i][key] != null && a[i][key] !== "" ? String(a[i][key]) : null;
    const to = item && item[key] != null && item[key] !== "" ? String(item[key]) : null;
    const target = from !== null ? targets[from] : heldBefore[i];
    if (!target || from === to) {
      if (from === null && to === null && heldBefore[i]) held[i] = heldBefore[i];
      return;
    }
    if (to === null) held[i] = target;
    moved[from ?? `#${i}`] = { exit: to, target };
  });
  return { moved, held };
}

/** Add definition nodes (already with fresh ids) to the document, selected. */
function insert(d, defNodes, typesByName) {
  const added = defNodes.map((n) => ({ ...makeNode(n, typesByName), selected: true }));
  const edges = [];
  for (const n of defNodes) for (const [exit, to] of Object.entries(n.exits || {})) if (to) edges.push(makeEdge(n.id, exit, to));
  return {
    ...d,
    nodes: [...d.nodes.map(deselectNode), ...added],
    edges: [...d.edges.map(deselectEdge), ...edges],
  };
}

export function useEditActions({ docRef, commit, typesByName, rf, canvasRef, flash }) {
  return useMemo(() => {
    const centre = () => {
      const box = canvasRef.current?.getBoundingClientRect();
      if (!box) return { x: 0, y: 0 };
      return rf.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 });
    };

    function add(type, position) {
      const info = typesByName[type];
      commit((d) => {
        const taken = new Set(d.nodes.map((n) => n.id));
        const id = freshId(type, taken);
        // the example's config, without what acts on callers unasked (served as new_config)
        const config = info ? structuredClone(info.new_config || info.example?.config || {}) : {};
        return insert(d, [{ id, type, config, exits: {}, position }], typesByName);
      });
    }

    function addAtCentre(type) {
      const c = centre();
      add(type, freeSpot(docRef.current.nodes, { x: c.x - NODE_WIDTH / 2, y: c.y - 50 }));
    }

    function removeSelected() {
      commit((d) => {
        const gone = new Set(d.nodes.filter((n) => n.selected).map((n) => n.id));
        const edges = d.edges.filter((e) => !e.selected && !gone.has(e.source) && !gone.has(e.target));
        if (!gone.size && edges.length === d.edges.length) return null;
        return { ...d, nodes: d.nodes.filter((n) => !gone.has(n.id)), edges };
      });
    }

    function copy() {
      const defs = selectedDefinitions(docRef.current);
      if (!defs.length) return;
      localStorage.setItem(CLIPBOARD_KEY, JSON.stringify({ format: "callflow/1", nodes: defs }));
      flash(`Copied ${defs.length} node${defs.length === 1 ? "" : "s"}.`);
    }

    function paste() {
      let defs;
      try {
        defs = JSON.parse(localStorage.getItem(CLIPBOARD_KEY) || "null")?.nodes;
      } catch {
        defs = null;
      }
      if (!Array.isArray(defs) || !defs.length) return;
      defs = defs.filter((n) => typesByName[n.type]);
      const c = centre();
      const minX = Math.min(...defs.map((n) => n.position?.x ?? 0));
      const minY = Math.min(...defs.map((n) => n.position?.y ?? 0));
      commit((d) => {
        const taken = new Set(d.nodes.map((n) => n.id));
        const offset = { x: Math.round(c.x - minX - 100), y: Math.round(c.y - minY - 50) };
        return insert(d, cloneNodes(defs, taken, offset), typesByName);
      });
    }

    function duplicate() {
      const defs = selectedDefinitions(docRef.current);
      if (!defs.length) return;
      commit((d) => insert(d, cloneNodes(defs, new Set(d.nodes.map((n) => n.id)), { x: 40, y: 40 }), typesByName));
    }

    function rename(oldId, newId) {
      const swap = (id) => (id === oldId ? newId : id);
      commit((d) => {
        if (d.nodes.some((n) => n.id === newId)) return null;
        const settings = { ...d.settings, start: swap(d.settings.start) };
        if (settings.fallback?.node) settings.fallback = { ...settings.fallback, node: swap(settings.fallback.node) };
        return {
          ...d,
          settings,
          nodes: d.nodes.map((n) => (n.id === oldId ? { ...n, id: newId } : n)),
          edges: d.edges.map((e) =>
            e.source === oldId || e.target === oldId ? makeEdge(swap(e.source), e.sourceHandle, swap(e.target)) : e,
          ),
        };
      });
    }

    function setLabel(id, label) {
      commit((d) => ({ ...d, nodes: d.nodes.map((n) => (n.id === id ? { ...n, data: { ...n.data, label } } : n)) }), `label:${id}`);
    }

    /**
     * New config; menu options and branch rules add or remove exits (and their edges). Editing
     * an option's key (or a rule's exit name) keeps its connection, also while the field is
     * briefly empty as you retype it.
     */
    function setConfig(id, config) {
      commit((d) => {
        const node = d.nodes.find((n) => n.id === id);
        if (!node || JSON.stringify(node.data.config) === JSON.stringify(config)) return null;
        const { type } = node.data;
        const own = exitsFor(type, config, typesByName[type]);
        const targets = Object.fromEntries(d.edges.filter((e) => e.source === id).map((e) => [e.sourceHandle, e.target]));
        const { moved, held } = followRenamedExits(type, node.data.config, config, targets, node.data.held || {});
        const stale = node.data.exits.filter((x) => !own.includes(x) && targets[x] && !typesByName[type]?.dynamic_exits);
        const exits = [...own, ...stale];
        const kept = d.edges.filter((e) => e.source !== id || (exits.includes(e.sourceHandle) && !(e.sourceHandle in moved)));
        const added = Object.entries(moved)
          .filter(([, to]) => to.exit && exits.includes(to.exit) && !kept.some((e) => e.source === id && e.sourceHandle === to.exit))
          .map(([, to]) => makeEdge(id, to.exit, to.target));
        return {
          ...d,
          nodes: d.nodes.map((n) => (n.id === id ? withGeometry({ ...n, data: { ...n.data, config, exits, held } }) : n)),
          edges: [...kept, ...added],
        };
      }, `config:${id}`);
    }

    function setSettings(settings) {
      commit((d) => ({ ...d, settings }), "settings");
    }

    return { add, addAtCentre, removeSelected, copy, paste, duplicate, rename, setLabel, setConfig, setSettings };
  }, [docRef, commit, typesByName, rf, canvasRef, flash]);
}
