// Unit tests of the simulator's pure logic: `npm test` (vitest).
import { test } from "vitest";
import assert from "node:assert/strict";
import { numberProblem, parseVars, pressKey, typeKeys, waitHint } from "../src/simulator.js";

const open = { kind: "input", dtmf: true, speech: false, num_digits: null, finish_on_key: "#" };

function press(keys, wait) {
  let state = { entry: "", send: null };
  const sent = [];
  for (const key of keys) {
    state = pressKey(state.entry, key, wait);
    if (state.send !== null) sent.push(state.send);
  }
  return { entry: state.entry, sent };
}

test("keys collect until the finish key, which is not part of the answer", () => {
  assert.deepEqual(press("1234", open), { entry: "1234", sent: [] });
  assert.deepEqual(press("1234#", open), { entry: "", sent: ["1234"] });
  assert.deepEqual(press("12*4#", open), { entry: "", sent: ["12*4"] });
});

test("another finish key, or none: # is then an ordinary key", () => {
  assert.deepEqual(press("12#4*", { ...open, finish_on_key: "*" }), { entry: "", sent: ["12#4"] });
  assert.deepEqual(press("12#", { ...open, finish_on_key: "" }), { entry: "12#", sent: [] });
});

test("a fixed number of keys is sent as soon as it is in", () => {
  assert.deepEqual(press("2", { ...open, num_digits: 1 }), { entry: "", sent: ["2"] });
  assert.deepEqual(press("123456", { ...open, num_digits: 6 }), { entry: "", sent: ["123456"] });
  assert.deepEqual(press("12#", { ...open, num_digits: 6 }), { entry: "", sent: ["12"] });
});

test("the finish key on an empty entry is no input", () => {
  assert.deepEqual(press("#", open), { entry: "", sent: [""] });
});

test("the entry holds 64 keys at most", () => {
  assert.deepEqual(press("1".repeat(70), open).sent, ["1".repeat(64)]);
});

test("typed keys go through the same rules; other characters are dropped", () => {
  assert.deepEqual(typeKeys("12", "12a3", open), { entry: "123", send: null });
  assert.deepEqual(typeKeys("12", "1234#", open), { entry: "", send: "1234" });
  assert.deepEqual(typeKeys("", "12", { ...open, num_digits: 2 }), { entry: "", send: "12" });
  assert.deepEqual(typeKeys("123", "13", open), { entry: "13", send: null });
});

test("the number to call must be E.164", () => {
  assert.equal(numberProblem("+447700900456"), null);
  assert.match(numberProblem("07700 900456"), /not in international \(E\.164\) form/);
  assert.match(numberProblem(""), /Enter the number to call/);
  assert.match(numberProblem(" ", "the caller's number"), /^Enter the caller's number/);
});

test("vars are NAME=VALUE lines", () => {
  assert.deepEqual(parseVars("name=Ann\n\n reason = your delivery \n"), {
    vars: { name: "Ann", reason: "your delivery" },
    error: null,
  });
  assert.deepEqual(parseVars("a=b=c"), { vars: { a: "b=c" }, error: null });
  assert.match(parseVars("name=Ann\n1st=x").error, /^Line 2 \(“1st=x”\): write NAME=VALUE/);
  assert.match(parseVars("hello").error, /^Line 1/);
});

test("a wait reads as words", () => {
  assert.equal(waitHint(open), "Keys: sent by # or by Send.");
  assert.equal(waitHint({ ...open, num_digits: 1, speech: true }), "Keys: sent as soon as 1 key is in, by # or by Send. Or say something.");
  assert.equal(waitHint({ kind: "input", dtmf: false, speech: true }), "Say something (no keys here).");
  assert.equal(waitHint({ ...open, num_digits: 6, finish_on_key: "" }), "Keys: sent as soon as 6 keys are in or by Send.");
  assert.equal(waitHint({ kind: "record" }), "");
});
