// Undo/redo: a bounded stack of snapshots.
import { expect, test } from "vitest";
import { createHistory, record, redo, undo } from "../src/history.js";

test("undo then redo walks the snapshots; a new edit drops the redo stack", () => {
  let history = createHistory();
  history = record(history, "a");
  history = record(history, "b");
  const back = undo(history, "c");
  expect(back.snapshot).toBe("b");
  const forward = redo(back.history, "b");
  expect(forward.snapshot).toBe("c");
  const edited = record(back.history, "b2");
  expect(edited.future).toEqual([]);
  expect(redo(edited, "x")).toBeNull();
});

test("nothing to undo or redo answers null", () => {
  expect(undo(createHistory(), "x")).toBeNull();
  expect(redo(createHistory(), "x")).toBeNull();
});

test("the stack keeps the last hundred snapshots", () => {
  let history = createHistory();
  for (let i = 0; i < 150; i += 1) history = record(history, i);
  expect(history.past.length).toBe(100);
  expect(history.past[0]).toBe(50);
});
