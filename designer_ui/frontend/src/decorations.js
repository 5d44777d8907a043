// Per-node overlays (problems, diff status, simulator path, traffic) kept outside React
// state: a node component subscribes to its own entry only, so a new validation result
// re-renders the nodes it concerns and not all 2,000.
import { useSyncExternalStore } from "react";

const EMPTY = Object.freeze({});

export function createDecorations() {
  let layers = {}; // layer name -> {nodeId: value}
  let byNode = new Map(); // nodeId -> frozen {layer: value}
  const listeners = new Set();

  function rebuild(changedIds) {
    const next = new Map(byNode);
    for (const id of changedIds) {
      const entry = {};
      for (const [layer, values] of Object.entries(layers)) if (values[id] !== undefined) entry[layer] = values[id];
      if (Object.keys(entry).length) next.set(id, Object.freeze(entry));
      else next.delete(id);
    }
    byNode = next;
    for (const fn of listeners) fn();
  }

  return {
    /** Replace one layer (e.g. "problems") with {nodeId: value}. */
    set(layer, values) {
      const before = layers[layer] || {};
      const after = values || {};
      const changed = new Set();
      for (const id of Object.keys(before)) if (before[id] !== after[id]) changed.add(id);
      for (const id of Object.keys(after)) if (before[id] !== after[id]) changed.add(id);
      layers = { ...layers, [layer]: after };
      if (changed.size) rebuild(changed);
    },
    get: (id) => byNode.get(id) || EMPTY,
    subscribe(fn) {
      listeners.add(fn);
      return () => listeners.delete(fn);
    },
  };
}

export function useDecoration(store, id) {
  return useSyncExternalStore(store.subscribe, () => store.get(id));
}
