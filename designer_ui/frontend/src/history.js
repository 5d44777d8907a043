// Undo/redo as a bounded stack of snapshots ({nodes, edges, settings, edit}).
// Snapshots share unchanged objects, so keeping a hundred of them is cheap.

const LIMIT = 100;

export function createHistory() {
  return { past: [], future: [] };
}

export function record(history, snapshot) {
  const past = [...history.past, snapshot];
  if (past.length > LIMIT) past.shift();
  return { past, future: [] };
}

export function undo(history, current) {
  if (!history.past.length) return null;
  const previous = history.past[history.past.length - 1];
  return { history: { past: history.past.slice(0, -1), future: [current, ...history.future] }, snapshot: previous };
}

export function redo(history, current) {
  if (!history.future.length) return null;
  const [next, ...future] = history.future;
  return { history: { past: [...history.past, current], future }, snapshot: next };
}
