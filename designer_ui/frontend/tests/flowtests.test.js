import { describe, expect, it } from "vitest";
import { answerOfRow, answersOf, describeTest, parseTests, placeOf, rowOfAnswer, rowOfStep, stepOfRow, testFromCall, varText, varValue, whenOf } from "../src/flowtests.js";

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

describe("form rows", () => {
  it("turn each kind of step into a row and back", () => {
    const steps = [
      { expect_say: "closed" },
      { press: "1234#" },
      { say: "sales please" },
      { silence: true },
      { dial: "no-answer" },
      { queue: "bridged" },
      { record: 12 },
      { redirect: "return" },
      { hangup: true },
    ];
    for (const step of steps) expect(stepOfRow(rowOfStep(step))).toEqual(step);
  });
  it("read what a supervisor typed as the format wants it", () => {
    expect(stepOfRow({ kind: "press", value: " 1 2 # " })).toEqual({ press: "12#" });
    expect(stepOfRow({ kind: "record", value: "" })).toEqual({ record: 0 });
    expect(stepOfRow({ kind: "silence", value: "ignored" })).toEqual({ silence: true });
    expect(rowOfStep({ silence: true })).toEqual({ kind: "silence", value: "" });
  });
});

describe("whenOf", () => {
  it("reads a test's time with its weekday", () => {
    expect(whenOf("2026-12-24T22:00:00")).toBe("Thu 24 Dec 2026, 22:00");
    expect(whenOf("2026-12-01")).toBe("Tue 1 Dec 2026, 00:00");
    expect(whenOf("2026-12-01T09:30:00+01:00")).toBe("2026-12-01T09:30:00+01:00");
    expect(whenOf(undefined)).toBe("now");
  });
});

describe("describeTest", () => {
  it("says who calls when, each step and what is expected", () => {
    const words = describeTest({
      name: "after hours",
      at: "2026-12-24T22:00:00",
      caller: "+447700900123",
      steps: [{ expect_say: "closed" }, { press: "1" }, { silence: true }, { dial: "no-answer" }, { redirect: "timeout" }],
      expect: { path: ["greeting", "hours"], sms: [{ contains: "book" }], ends: "hangup" },
      http: [{ url: "*" }],
    });
    expect(words).toEqual({
      call: "Thu 24 Dec 2026, 22:00: +447700900123 calls",
      steps: ["hears “closed”", "presses 1", "stays silent", "the call put through: not answered", "the hand-over: does not come back in time"],
      expects: ["passes greeting › hours", "a text containing “book”", "ends: the call is over"],
      also: ["1 HTTP answer(s)"],
    });
  });
  it("says an outbound call is the flow calling", () => {
    const words = describeTest({ name: "reminder", direction: "outbound", caller: "+447700900123", answered_by: "machine_start", expect: { no_sms: true, ends: "routed" } });
    expect(words.call).toBe("now: the flow calls +447700900123, answered by machine_start");
    expect(words.expects).toEqual(["no text", "ends: routed to a person"]);
  });
});

describe("vars in the form", () => {
  it("give back exactly the value they show", () => {
    for (const value of ["Ann", "42", "true", 42, true, null, ["a"], { tier: "gold" }, "", " x "]) {
      expect(varValue(varText(value))).toEqual(value);
    }
  });
  it("show text as typed and the rest as JSON", () => {
    expect(varText("Ann")).toBe("Ann");
    expect(varText("42")).toBe('"42"');
    expect(varText(42)).toBe("42");
    expect(varValue("gold")).toBe("gold");
    expect(varValue("7")).toBe(7);
  });
});

describe("HTTP answers in the form", () => {
  it("turn an answer into a row and back", () => {
    const answers = [
      { url: "https://crm.example.com/*", json: { tier: "gold" } },
      { url: "*", method: "POST", status: 503 },
      { url: "https://crm.example.com/*", error: "timed out" },
    ];
    for (const answer of answers) expect(answerOfRow(rowOfAnswer(answer))).toEqual({ answer });
  });
  it("say what in a row cannot be read", () => {
    const row = rowOfAnswer({ url: "*" });
    expect(answerOfRow({ ...row, url: " " }).error).toMatch(/needs the URL/);
    expect(answerOfRow({ ...row, body: "{tier" }).error).toMatch(/^its body is not JSON/);
    expect(answerOfRow({ ...row, fails: true }).answer).toEqual({ url: "*", error: "timed out" });
  });
});

describe("answersOf", () => {
  it("answers each request a simulated call made as it was answered, once per URL", () => {
    const made = [
      { method: "GET", url: "https://crm.example.com/c?p=1", status: 200, json: { tier: "gold" }, error: null },
      { method: "GET", url: "https://crm.example.com/c?p=1", status: 200, json: { tier: "other" }, error: null },
      { method: "POST", url: "https://crm.example.com/notes", status: 503, json: null, error: null },
      { method: "GET", url: "https://slow.example.com/", status: null, json: null, error: "deadline exceeded" },
      { method: "GET", url: "https://crm.example.com/empty", status: 204, json: null, error: null },
    ];
    expect(answersOf(made)).toEqual([
      { url: "https://crm.example.com/c?p=1", json: { tier: "gold" } },
      { url: "https://crm.example.com/notes", method: "POST", status: 503 },
      { url: "https://slow.example.com/", error: "deadline exceeded" },
      { url: "https://crm.example.com/empty", status: 204 },
    ]);
  });
  it("go into the test kept from the call", () => {
    const test = testFromCall({
      name: "gold",
      at: "2026-12-01T13:00:00.000Z",
      setup: { direction: "inbound", from: "+447700900123" },
      events: [],
      reply: { path: [{ node: "h", exit: "success" }], ended: true },
      sms: [],
      http: [{ method: "GET", url: "https://crm.example.com/c", status: 200, json: { tier: "gold" }, error: null }],
    });
    expect(test.http).toEqual([{ url: "https://crm.example.com/c", json: { tier: "gold" } }]);
  });
});
