import { describe, expect, it } from "vitest";
import { parseTests, placeOf, testFromCall } from "../src/flowtests.js";

describe("parseTests", () => {
  it("reads a list of tests", () => {
    expect(parseTests('[{"name": "a"}]')).toEqual({ tests: [{ name: "a" }] });
  });
  it("says what is wrong with text that is not a list of tests", () => {
    expect(parseTests("[{").error).toMatch(/^Not valid JSON/);
    expect(parseTests('{"name": "a"}').error).toMatch(/The tests are a list/);
  });
});

describe("placeOf", () => {
  it("names a test, a step and a key in words, counting from 1", () => {
    expect(placeOf("$.tests[0].steps[1].press")).toBe("test 1, step 2, press");
    expect(placeOf("$.tests[2].http[0].url")).toBe("test 3, HTTP answer 1, url");
    expect(placeOf("$.tests[1].expect.sms[0].to")).toBe("test 2, expect, text 1, to");
    expect(placeOf("$.tests[0].expect.path[3]")).toBe("test 1, expect, path, item 4");
    expect(placeOf("$")).toBe("the tests");
  });
});

describe("testFromCall", () => {
  const reply = { path: [{ node: "menu", exit: "1" }, { node: "bye", exit: null }], ended: true };
  it("turns a simulated inbound call into a test expecting what it did", () => {
    const test = testFromCall({
      name: "menu then bye",
      at: "2026-12-01T13:00:00.000Z",
      setup: { direction: "inbound", from: " +447700900123 ", source: "draft" },
      events: [
        { type: "digits", digits: "1" },
        { type: "digits", digits: "" },
        { type: "speech", speech: "a stolen card" },
        { type: "dial", status: "no-answer" },
        { type: "hangup" },
      ],
      reply,
      sms: [{ to: "+447700900123", body: "Book here" }],
    });
    expect(test).toEqual({
      name: "menu then bye",
      at: "2026-12-01T13:00:00.000Z",
      caller: "+447700900123",
      steps: [{ press: "1" }, { silence: true }, { say: "a stolen card" }, { dial: "no-answer" }, { hangup: true }],
      expect: { path: ["menu", "bye"], ends: "hangup", sms: [{ to: "+447700900123", contains: "Book here" }] },
    });
  });
  it("keeps an outbound call's callee, answer and vars, and says no text was sent", () => {
    const test = testFromCall({
      name: "reminder",
      at: "2026-12-01T09:00:00.000Z",
      setup: { direction: "outbound", to: "+447700900777", answeredBy: "machine_start" },
      events: [],
      reply: { path: [], ended: false },
      sms: [],
      vars: { name: "Ada" },
    });
    expect(test).toMatchObject({
      direction: "outbound",
      caller: "+447700900777",
      answered_by: "machine_start",
      vars: { name: "Ada" },
      expect: { path: [], ends: "waiting", no_sms: true },
    });
  });
});
