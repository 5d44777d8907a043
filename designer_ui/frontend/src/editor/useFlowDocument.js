// The document being edited ({nodes, edges, settings}) with undo/redo.
//
// The document lives in a ref and a counter re-renders: React Flow's change callbacks and
// the keyboard handlers then always see the latest document, without stale closures.
import { useCallback, useReducer, useRef } from "react";
import { createHistory, record, redo as redoStep, undo as undoStep } from "../history.js";

const COALESCE_MS = 1500;

export function useFlowDocument() {
  const docRef = useRef({ nodes: [], edges: [], settings: {}, edit: 0 });
  const historyRef = useRef(createHistory());
  const counter = useRef(0);
  const last = useRef({ key: null, at: 0 });
  const [, rerender] = useReducer((x) => x + 1, 0);

  /** Swap the document without an undo step (selection, measuring, drag frames). */
  const replace = useCallback((next) => {
    docRef.current = next;
    rerender();
  }, []);

  /** Reset to a document loaded from the server: no history, nothing unsaved. */
  const load = useCallback((next) => {
    counter.current += 1;
    docRef.current = { ...next, edit: counter.current };
    historyRef.current = createHistory();
    last.current = { key: null, at: 0 };
    rerender();
    return counter.current;
  }, []);

  /**
   * Apply an edit: fn(doc) returns the new document (or null for no change). Edits with
   * the same coalesce key in quick succession (typing in a form) share one undo step.
   */
  const commit = useCallback((fn, coalesceKey = null) => {
    const prev = docRef.current;
    const next = fn(prev);
    if (!next || next === prev) return false;
    const now = Date.now();
    const joins = coalesceKey && last.current.key === coalesceKey && now - last.current.at < COALESCE_MS;
    if (!joins) historyRef.current = record(historyRef.current, prev);
    last.current = { key: coalesceKey, at: now };
    counter.current += 1;
    docRef.current = { ...next, edit: counter.current };
    rerender();
    return true;
  }, []);

  const undo = useCallback(() => {
    const step = undoStep(historyRef.current, docRef.current);
    if (!step) return false;
    historyRef.current = step.history;
    last.current = { key: null, at: 0 };
    replace(step.snapshot);
    return true;
  }, [replace]);

  const redo = useCallback(() => {
    const step = redoStep(historyRef.current, docRef.current);
    if (!step) return false;
    historyRef.current = step.history;
    last.current = { key: null, at: 0 };
    replace(step.snapshot);
    return true;
  }, [replace]);

  return {
    doc: docRef.current,
    docRef,
    replace,
    load,
    commit,
    undo,
    redo,
    canUndo: historyRef.current.past.length > 0,
    canRedo: historyRef.current.future.length > 0,
  };
}
